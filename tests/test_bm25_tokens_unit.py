"""Tokenisation rules of the specification that the vector fixtures do not reach."""

from vecinfer.inference.bm25.model import tokenizer_for
from vecinfer.text.unicode import to_lowercase


def test_word_tokenizer_splits_on_underscore_and_apostrophe():
    t = tokenizer_for({"stemmer": {"type": "none"}, "stopwords": {"custom": []}})
    assert t.document_tokens("snake_case don't e-mail") == ["snake", "case", "don", "t", "e", "mail"]


def test_whitespace_tokenizer_keeps_punctuation_and_matches_apostrophe_stopwords():
    t = tokenizer_for({"tokenizer": "whitespace", "stemmer": {"type": "none"}})
    assert t.document_tokens("don't Stop\u2003now,") == ["stop", "now,"]  # "don't" is an English stopword


def test_prefix_tokenizer_document_and_query_sides():
    t = tokenizer_for({"tokenizer": "prefix", "min_token_len": 2, "max_token_len": 4, "stemmer": {"type": "none"}})
    assert t.document_tokens("vector db") == ["ve", "vec", "vect", "db"]
    assert t.query_tokens("vectors the") == ["vect", "the"]  # no stopword filter on the query side


def test_ascii_folding_runs_before_stopwords():
    folded = tokenizer_for({"language": "french", "ascii_folding": True, "stemmer": {"type": "none"}})
    plain = tokenizer_for({"language": "french", "stemmer": {"type": "none"}})
    assert plain.document_tokens("à Paris") == ["paris"]
    assert folded.document_tokens("à Paris") == ["a", "paris"]


def test_length_limits_apply_to_stemmed_tokens():
    t = tokenizer_for({"min_token_len": 4, "max_token_len": 5})
    assert t.document_tokens("extraordinary") == []  # "extraordinari" (13) is too long
    assert t.document_tokens("cookies running") == ["cooki"]  # "run" (3) is too short after stemming


def test_rust_lowercase_final_sigma():
    assert to_lowercase("ΟΔΟΣ") == "οδος"
    assert to_lowercase("ΣΑ") == "σα"
    assert to_lowercase("İ") == "i\u0307"
