"""Full-text conditions under a full-text index (../shared/spec/qdrant-semantics.md §3.3, Qdrant's
`full_text_index/`): each tokenizer and option, array pooling, unknown and empty queries, the
parameter checks, and the per-segment inverted index agreeing with the point-by-point matcher."""

from __future__ import annotations

import random

import pytest

from vecinfer.domain.collections import CollectionConfig
from vecinfer.domain.errors import InvalidArgument, Unimplemented
from vecinfer.storage.filters import leaf_values
from vecinfer.storage.segment import Segment
from vecinfer.storage.text_match import (
    UNINDEXED,
    IndexedText,
    Refusing,
    check_text_index_params,
    matcher_for,
    normalize_text_index_params,
)

# The spec's example documents (§3.3).
TEXTS = {1: "Hello, World!", 2: "goodness only", 3: "the quick brown fox", 4: ["quick", "brown fox"],
         5: "snake_case-word", 6: "Café crème", 7: 42, 8: "fox brown quick"}


def matching(params: dict, kind: str, query: str, texts: dict = TEXTS) -> list[int]:
    matcher = matcher_for({"type": "text", **params})
    return [i for i, value in texts.items() if matcher.matches(kind, query, value if isinstance(value, list) else [value])]


def triple(params: dict, query: str, texts: dict = TEXTS) -> tuple[list[int], list[int], list[int]]:
    return (matching(params, "text", query, texts), matching(params, "text_any", query, texts),
            matching(params, "phrase", query, texts))


PHRASES = {"phrase_matching": True}


@pytest.mark.parametrize("query, text, text_any, phrase", [
    ("HELLO world", [1], [1], [1]),
    ("world hello", [1], [1], []),
    ("good", [], [], []),
    # Pooled: document 4 holds both tokens, in two elements (the difference from no index).
    ("quick fox", [3, 4, 8], [3, 4, 8], []),
    ("brown fox", [3, 4, 8], [3, 4, 8], [3, 4]),
    # A phrase does not span two elements of an array.
    ("quick brown", [3, 4, 8], [3, 4, 8], [3]),
    ("case word", [5], [5], [5]),
    ("café", [6], [6], [6]),
    ("cafe", [], [], []),
    ("42", [], [], []),
    ("", [], [], []),
    ("!!!", [], [], []),
])
def test_word_tokenizer_with_phrases(query, text, text_any, phrase):
    assert triple(PHRASES, query) == (text, text_any, phrase)


def test_default_index_is_word_lowercase_and_keeps_no_phrases():
    assert triple({}, "brown fox") == ([3, 4, 8], [3, 4, 8], [])
    assert triple({}, "BROWN") == ([3, 4, 8], [3, 4, 8], [])
    assert matching({}, "text", "quick fox") == [3, 4, 8]  # pooled without phrase_matching too


def test_text_needs_every_token_and_text_any_ignores_unknown_ones():
    assert matching({}, "text", "quick zebra") == []
    assert matching({}, "text_any", "quick zebra") == [3, 4, 8]
    assert matching({}, "text_any", "zebra unicorn") == []


def test_lowercase_off_keeps_case_on_both_sides():
    assert matching({"lowercase": False}, "text", "hello") == []
    assert matching({"lowercase": False}, "text", "Hello") == [1]
    assert matching({"lowercase": False}, "text", "Café") == [6]


def test_ascii_folding_folds_documents_and_queries():
    params = {"ascii_folding": True}
    assert matching(params, "text", "cafe creme") == [6]
    assert matching(params, "text", "Café") == [6]
    assert matching({}, "text", "cafe") == []


def test_length_limits_drop_tokens_outside_them():
    texts = {1: "a extraordinary fox", 2: "an ox", 3: "extraordinary"}
    params = {"min_token_len": 2, "max_token_len": 5}
    # "a" and "extraordinary" are dropped from documents and from queries alike.
    assert matching(params, "text", "extraordinary", texts) == []  # no query tokens: nothing
    assert matching(params, "text", "fox extraordinary", texts) == [1]
    assert matching(params, "text_any", "a ox", texts) == [2]
    assert matching({**params, **PHRASES}, "phrase", "a extraordinary fox", texts) == [1]  # = "fox"
    assert matching({}, "text", "extraordinary", texts) == [1, 3]


def test_stopwords_by_language_are_dropped_from_documents_and_queries():
    params = {"stopwords": "english", **PHRASES}
    assert matching(params, "text", "the fox") == [3, 4, 8]  # = "fox"
    assert matching(params, "text", "the") == []  # only stopwords: no tokens
    assert matching(params, "text_any", "only") == []  # "only" is an English stopword
    # Stopwords leave no gap: "the quick" is the phrase "quick", "fox the brown" is "fox brown".
    assert matching(params, "phrase", "the quick") == [3, 4, 8]
    assert matching(params, "phrase", "fox the brown") == [8]


def test_stopwords_set_of_languages_and_custom_words_lowercased():
    params = {"stopwords": {"languages": ["en"], "custom": ["FOX", "Hello"]}}
    assert matching(params, "text", "fox") == []
    assert matching(params, "text", "hello world") == [1]  # = "world"
    assert matching(params, "text_any", "the") == []
    # With lowercase off the custom words are kept as written.
    assert matching({"lowercase": False, "stopwords": {"custom": ["fox"]}}, "text", "Fox") == []
    assert matching({"lowercase": False, "stopwords": {"custom": ["Fox"]}}, "text", "fox") == [3, 4, 8]


def test_snowball_stemmer_on_documents_and_queries():
    texts = {1: "running dogs", 2: "the runner", 3: "dog ran"}
    params = {"stemmer": {"type": "snowball", "language": "english"}, **PHRASES}
    assert matching(params, "text", "run dog", texts) == [1]
    assert matching(params, "text_any", "runs", texts) == [1]
    assert matching(params, "phrase", "run dog", texts) == [1]
    assert matching(params, "text", "dogs", texts) == [1, 3]
    assert matching({"stemmer": {"type": "none"}}, "text", "dog", texts) == [3]
    assert matching({}, "text", "dog", texts) == [3]  # no stemmer by default


def test_stemmer_and_stopwords_run_in_qdrants_order():
    # Stopwords are checked before stemming: "having" is a stopword, "haves" (stem "have") is not.
    params = {"stopwords": "english", "stemmer": {"type": "snowball", "language": "en"}}
    texts = {1: "having", 2: "haves"}
    assert matching(params, "text", "haves", texts) == [2]
    assert matching(params, "text", "have", texts) == []  # the query is one stopword


def test_whitespace_tokenizer_keeps_punctuation():
    params = {"tokenizer": "whitespace"}
    assert matching(params, "text", "snake_case-word") == [5]
    assert matching(params, "text", "case") == []
    assert matching(params, "text", "hello") == []  # the token is "hello,"
    assert matching(params, "text", "HELLO,") == [1]
    assert matching({**params, **PHRASES}, "phrase", "hello, world!") == [1]


def test_prefix_tokenizer_matches_word_prefixes():
    params = {"tokenizer": "prefix"}
    assert matching(params, "text", "qui bro") == [3, 4, 8]
    assert matching(params, "text", "hel wor") == [1]
    assert matching(params, "text", "hello") == [1]
    assert matching(params, "text", "ello") == []
    assert matching(params, "text_any", "go zz") == [2]


def test_prefix_tokenizer_truncates_queries_and_keeps_their_stopwords():
    texts = {1: "the theory", 2: "the cat", 3: "helpful", 4: "he"}
    # Documents: prefixes of length 2..4 of each word (a shorter word is dropped).
    params = {"tokenizer": "prefix", "min_token_len": 2, "max_token_len": 4}
    assert matching(params, "text", "helping", texts) == [3]  # "help"
    assert matching(params, "text", "h", texts) == []  # shorter than min_token_len: no tokens
    assert matching(params, "text", "he", texts) == [3, 4]
    # Stopwords leave documents but not prefix queries: "the" still finds "theory".
    with_stopwords = {"tokenizer": "prefix", "stopwords": "english"}
    assert matching(with_stopwords, "text", "the", texts) == [1]
    assert matching(with_stopwords, "text", "cat", texts) == [2]


def test_prefix_tokenizer_phrases_are_tokenized_as_documents():
    params = {"tokenizer": "prefix", **PHRASES}
    assert matching(params, "phrase", "brown fox") == [3, 4]
    assert matching(params, "phrase", "bro fox") == []  # "bro" yields b, br, bro: not in a row with f
    assert matching(params, "phrase", "fox") == [3, 4, 8]


def test_values_that_are_not_strings_are_ignored():
    matcher = matcher_for({"type": "text"})
    assert not matcher.matches("text", "42", [42])
    assert matcher.matches("text", "fox", [42, None, "the fox", {"a": "fox"}])
    assert not matcher.matches("text", "fox", [])


def test_array_boundary_separates_phrases_only():
    matcher = matcher_for({"type": "text", "phrase_matching": True})
    assert matcher.matches("phrase", "a b", ["x a b y"])
    assert not matcher.matches("phrase", "a b", ["x a", "b y"])
    assert matcher.matches("phrase", "a b", ["x a", "a b"])
    assert matcher.matches("text", "x y", ["x a", "b y"])


# ---------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("params", [
    {"type": "text"},
    {"type": "text", "tokenizer": "word", "lowercase": True, "min_token_len": 2, "max_token_len": 20,
     "stopwords": "english", "stemmer": {"type": "snowball", "language": "english"}, "phrase_matching": True,
     "ascii_folding": True, "on_disk": False, "memory": "pinned", "enable_hnsw": True, "scoring": False},
    {"type": "text", "tokenizer": "prefix", "stopwords": {"languages": ["german", "fr"], "custom": ["x"]}},
    {"type": "text", "tokenizer": "whitespace", "stemmer": {"type": "none"}, "lowercase": None},
])
def test_valid_params_pass(params):
    check_text_index_params(params)
    assert isinstance(matcher_for(params), IndexedText)


@pytest.mark.parametrize("params, error, words", [
    ({"tokenizer": "multilingual"}, Unimplemented, ["multilingual", "field_schema.tokenizer"]),
    ({"tokenizer": "code"}, Unimplemented, ["code", "field_schema.tokenizer"]),
    ({"tokenizer": "words"}, InvalidArgument, ["field_schema.tokenizer", "word, whitespace, prefix"]),
    ({"stemmer": {"type": "snowball", "language": "armenian"}}, Unimplemented, ["armenian"]),
    ({"stemmer": {"type": "snowball", "language": "English"}}, InvalidArgument, ["field_schema.stemmer.language"]),
    ({"stemmer": {"type": "porter"}}, InvalidArgument, ["field_schema.stemmer"]),
    ({"stopwords": "klingon"}, InvalidArgument, ["field_schema.stopwords", "english"]),
    ({"stopwords": {"languages": ["english"], "extra": []}}, InvalidArgument, ["field_schema.stopwords"]),
    ({"stopwords": {"custom": "the"}}, InvalidArgument, ["field_schema.stopwords.custom"]),
    ({"min_token_len": -1}, InvalidArgument, ["field_schema.min_token_len"]),
    ({"max_token_len": "5"}, InvalidArgument, ["field_schema.max_token_len"]),
    ({"lowercase": "yes"}, InvalidArgument, ["field_schema.lowercase"]),
    ({"phrase_matching": 1}, InvalidArgument, ["field_schema.phrase_matching"]),
    ({"memory": "disk"}, InvalidArgument, ["field_schema.memory"]),
    ({"scoring": True}, Unimplemented, ["field_schema.scoring"]),
    ({"nested": "offers"}, Unimplemented, ["field_schema.nested"]),
    ({"tokeniser": "word"}, InvalidArgument, ["field_schema.tokeniser"]),
    ({"type": "keyword"}, InvalidArgument, ["field_schema.type"]),
])
def test_params_refused_by_name(params, error, words):
    with pytest.raises(error) as caught:
        check_text_index_params({"type": "text", **params})
    assert type(caught.value) is error
    for word in words:
        assert word in caught.value.message


def test_params_normalized_as_qdrant_returns_them():
    assert normalize_text_index_params({"type": "text"}) == {"type": "text", "tokenizer": "word"}
    assert normalize_text_index_params({"type": "text", "lowercase": None, "stopwords": "en",
                                        "stemmer": {"type": "snowball", "language": "de"}}) == {
        "type": "text", "tokenizer": "word", "stopwords": "english", "stemmer": {"type": "snowball", "language": "german"}}
    assert normalize_text_index_params({"type": "text", "tokenizer": "prefix", "stopwords": {
        "languages": ["fr", "english", "french"], "custom": ["b", "a", "b", "Z"]}})["stopwords"] == {
        "languages": ["english", "french"], "custom": ["Z", "a", "b"]}
    assert normalize_text_index_params({"type": "text", "stopwords": {"custom": []}})["stopwords"] == {"custom": []}
    assert normalize_text_index_params({"type": "text", "stemmer": {"type": "none"}})["stemmer"] == {"type": "none"}
    with pytest.raises(Unimplemented):
        normalize_text_index_params({"type": "text", "tokenizer": "code"})


def test_an_index_that_cannot_be_honoured_refuses_its_conditions():
    matcher = matcher_for({"type": "text", "tokenizer": "multilingual"})
    assert isinstance(matcher, Refusing)
    with pytest.raises(Unimplemented, match="multilingual"):
        matcher.matches("text", "fox", ["fox"])


def test_unindexed_rules_are_unchanged():
    assert UNINDEXED.matches("text", "quick fox", ["quick", "brown fox"]) is False
    assert UNINDEXED.matches("phrase", "brown fox", ["quick", "brown fox"]) is True


# ---------------------------------------------------------------------------- segment index

WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "Café", "cafe", "running", "runs",
         "a", "extraordinarily", "snake_case", "don't", "Über", "ß", "x", "\x00", "a\x00b"]


def random_value(rng: random.Random):
    def sentence() -> str:
        return rng.choice([" ", ", ", "-", " \x00 "]).join(rng.choice(WORDS) for _ in range(rng.randint(0, 6)))

    roll = rng.random()
    if roll < 0.6:
        return sentence()
    if roll < 0.85:
        return [sentence() if rng.random() < 0.8 else rng.choice([1, None, True]) for _ in range(rng.randint(0, 3))]
    return rng.choice([None, 7, {"t": "fox"}, []])


@pytest.mark.parametrize("params", [
    {},
    {"phrase_matching": True},
    {"tokenizer": "whitespace", "phrase_matching": True, "lowercase": False},
    {"tokenizer": "prefix", "min_token_len": 2, "max_token_len": 4, "phrase_matching": True},
    {"stopwords": "english", "stemmer": {"type": "snowball", "language": "english"}, "ascii_folding": True,
     "phrase_matching": True, "max_token_len": 8},
])
def test_segment_index_agrees_with_point_by_point_matching(params):
    matcher = matcher_for({"type": "text", **params})
    assert isinstance(matcher, IndexedText)
    check_segment_masks(matcher)


def test_unindexed_segment_index_agrees_with_point_by_point_matching():
    check_segment_masks(UNINDEXED)


def check_segment_masks(matcher):
    rng = random.Random(7)
    segment = Segment(CollectionConfig())

    def payload() -> dict:
        # The same values under a plain key, a nested key and in an array of objects.
        value = random_value(rng)
        return {"t": value, "o": {"t": value}, "arr": [{"t": value}, {"t": "zebra"}]}

    for i in range(400):
        segment.upsert(i, {}, {} if rng.random() < 0.05 else payload())
    for i in range(0, 400, 9):
        segment.delete(i)
    for i in range(3, 400, 17):
        segment.upsert(i, {}, payload())  # a retired offset and a new one
    queries = ["", "fox", "quick fox", "the", "cafe", "run", "brown fox", "fox brown", "qu", "don't", "ber x", "zebra fox",
               "\x00", "a \x00 b", "fox \x00 the", "x x", "the the"]
    for key in ("t", "o.t", "arr[].t"):
        for kind in ("text", "text_any", "phrase"):
            for query in queries:
                mask = matcher.segment_mask(segment, key, kind, query, leaf_values)
                assert mask.shape == (segment.size,)
                expected = [False] * segment.size
                for offset, _ in segment.iter_live():
                    expected[offset] = matcher.matches(kind, query, leaf_values(segment.payload(offset), key))
                assert mask.tolist() == expected, (key, kind, query)


@pytest.mark.parametrize("matcher", [matcher_for({"type": "text", "phrase_matching": True}), UNINDEXED],
                         ids=["indexed", "unindexed"])
def test_segment_index_follows_segment_changes(matcher):
    segment = Segment(CollectionConfig())
    segment.upsert(1, {}, {"t": "brown fox"})
    assert matcher.segment_mask(segment, "t", "text", "fox", leaf_values).tolist() == [True]
    segment.set_payload(1, {"t": "lazy dog"})
    assert matcher.segment_mask(segment, "t", "text", "fox", leaf_values).tolist() == [False]
    segment.upsert(2, {}, {"t": ["a fox", "b"]})
    pooled = matcher is not UNINDEXED
    assert matcher.segment_mask(segment, "t", "text", "fox b", leaf_values).tolist() == [False, pooled]
    assert matcher.segment_mask(segment, "t", "phrase", "a fox", leaf_values).tolist() == [False, True]
    assert matcher.segment_mask(segment, "t", "phrase", "fox b", leaf_values).tolist() == [False, False]
    segment.delete(2)
    assert matcher.segment_mask(segment, "t", "text_any", "fox dog", leaf_values).tolist() == [True, False]


# ---------------------------------------------------------------------------- Qdrant's engine as the oracle

ORACLE_PARAMS = [
    {},
    {"lowercase": False, "phrase_matching": True},
    {"tokenizer": "whitespace", "stopwords": "english", "max_token_len": 5, "phrase_matching": True},
    {"tokenizer": "prefix", "min_token_len": 2, "max_token_len": 4, "phrase_matching": True},
    {"tokenizer": "prefix", "stopwords": "english", "stemmer": {"type": "snowball", "language": "english"}},
    {"stopwords": {"languages": ["english"], "custom": ["FOX"]}, "ascii_folding": True, "phrase_matching": True},
    {"stemmer": {"type": "snowball", "language": "english"}, "min_token_len": 3, "max_token_len": 6,
     "phrase_matching": True},
]


def _edge_text_params(qe, params: dict):
    kw = {k: v for k, v in params.items() if k in ("min_token_len", "max_token_len", "lowercase", "ascii_folding",
                                                   "phrase_matching")}
    if "tokenizer" in params:
        kw["tokenizer"] = {"word": qe.TokenizerType.Word, "whitespace": qe.TokenizerType.Whitespace,
                           "prefix": qe.TokenizerType.Prefix}[params["tokenizer"]]
    stopwords = params.get("stopwords")
    if isinstance(stopwords, str):
        kw["stopwords"] = qe.Language.English
    elif isinstance(stopwords, dict):
        kw["stopwords"] = qe.StopwordsSet(languages={qe.Language.English}, custom=set(stopwords["custom"]))
    if "stemmer" in params:
        kw["stemmer"] = qe.SnowballParams(qe.SnowballLanguage.English)
    return qe.TextIndexParams(**kw)


@pytest.mark.parametrize("optimized", [False, True])
def test_same_matches_as_qdrants_engine(tmp_path, optimized):
    """qdrant-edge-py (Qdrant's segment code in-process; `pip install qdrant-edge-py`, as for the
    benchmarks) answers the same conditions on random documents, before and after optimizing."""
    qe = pytest.importorskip("qdrant_edge")
    rng = random.Random(11)
    mismatches = []
    for n, params in enumerate(ORACLE_PARAMS):
        shard = qe.EdgeShard.create(str(tmp_path / f"{optimized}-{n}"),
                                    qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=2, distance=qe.Distance.Dot)))
        shard.update(qe.UpdateOperation.create_field_index("t", _edge_text_params(qe, params)))
        payloads = {i: {"t": random_value(rng)} for i in range(150)}
        shard.update(qe.UpdateOperation.upsert_points([qe.Point(i, [1.0, 0.0], p) for i, p in payloads.items()]))
        if optimized:
            shard.optimize()
        matcher = matcher_for({"type": "text", **params})
        queries = ["", "fox", "quick fox", "the", "cafe", "café", "run", "brown fox", "fox brown", "qu", "don't",
                   "ber x", "zebra fox", "Über"] + [random_value(rng) for _ in range(10)]
        for kind, match in (("text", qe.MatchText), ("text_any", qe.MatchTextAny), ("phrase", qe.MatchPhrase)):
            for query in (q for q in queries if isinstance(q, str)):
                records, _ = shard.scroll(qe.ScrollRequest(limit=200, filter=qe.Filter(
                    must=[qe.FieldCondition("t", match=match(query))])))
                theirs = sorted(r.id for r in records)
                ours = [i for i, p in payloads.items() if matcher.matches(kind, query, leaf_values(p, "t"))]
                if theirs != ours:
                    mismatches.append((params, kind, query, theirs, ours))
        shard.close()
    assert not mismatches, mismatches[:3]


@pytest.mark.parametrize("matcher", [matcher_for({"type": "text", "phrase_matching": True}),
                                     matcher_for({"type": "text", "tokenizer": "prefix"}), UNINDEXED],
                         ids=["indexed-phrases", "indexed-prefix", "unindexed"])
def test_segment_index_is_updated_in_place_of_rebuilt_after_small_changes(matcher):
    rng = random.Random(5)
    segment = Segment(CollectionConfig())
    for i in range(300):
        segment.upsert(i, {}, {"t": random_value(rng)})
    queries = [("text", "fox"), ("text", "quick fox"), ("text_any", "lazy cafe"), ("phrase", "brown fox"),
               ("phrase", "the quick"), ("text", "qu")]

    def agree() -> None:
        for kind, query in queries:
            mask = matcher.segment_mask(segment, "t", kind, query, leaf_values)
            expected = [False] * segment.size
            for offset, _ in segment.iter_live():
                expected[offset] = matcher.matches(kind, query, leaf_values(segment.payload(offset), "t"))
            assert mask.tolist() == expected, (kind, query)

    agree()
    (entry,) = matcher._indexes._by_segment[segment].values()
    base = entry.base
    next_id = 300
    for _ in range(12):
        for _ in range(rng.randint(1, 6)):
            roll = rng.random()
            ids = list(segment.offset_of)
            if roll < 0.3:
                segment.upsert(next_id, {}, {"t": random_value(rng)})
                next_id += 1
            elif roll < 0.5:
                segment.upsert(rng.choice(ids), {}, {"t": random_value(rng)})  # a new offset for an old id
            elif roll < 0.7:
                segment.delete(rng.choice(ids))
            else:
                segment.set_payload(rng.choice(ids), {"t": random_value(rng)})
        agree()
    (entry,) = matcher._indexes._by_segment[segment].values()
    assert entry.base is base and entry.delta is not None  # small changes: the base was kept
    for i in range(400):  # many changes: rebuilt from scratch
        segment.upsert(next_id + i, {}, {"t": random_value(rng)})
    agree()
    (entry,) = matcher._indexes._by_segment[segment].values()
    assert entry.base is not base and entry.delta is None
