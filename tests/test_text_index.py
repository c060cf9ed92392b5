"""Full-text payload indexes end to end (../shared/spec/qdrant-semantics.md §3.3, "With a
full-text index"): indexes created through qdrant-client over both doors with Qdrant's
`TextIndexParams`, the matches of each tokenizer and option on the spec's example documents,
the parameters coming back in `payload_schema`, and the index surviving a restart."""

from __future__ import annotations

import pytest
from qdrant_client import models

from conftest import make_client

DOORS = [pytest.param(True, id="grpc"), pytest.param(False, id="rest")]

# The spec's example documents (§3.3), and a few more for stopwords, stemming and lengths.
DOCS = {1: "Hello, World!", 2: "goodness only", 3: "the quick brown fox", 4: ["quick", "brown fox"],
        5: "snake_case-word", 6: "Café crème", 7: 42, 8: "fox brown quick",
        9: "The foxes were running over the lazy dogs", 10: "an extraordinarily long word", 11: ["the theory", "of it"]}

TEXT = models.TextIndexType.TEXT


@pytest.fixture(scope="module", params=DOORS)
def qc(request, shared_server):
    client = make_client(shared_server, prefer_grpc=request.param)
    client.door = "grpc" if request.param else "rest"  # collection names per door
    yield client
    client.close()


def _collection(qc, name: str, schema: models.TextIndexParams | None, index_first: bool = True) -> str:
    name = f"{name}_{qc.door}"
    qc.delete_collection(name)
    qc.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    if schema is not None and index_first:
        qc.create_payload_index(name, "t", field_schema=schema, wait=True)
    qc.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, float(i)], payload={"t": t}) for i, t in DOCS.items()])
    if schema is not None and not index_first:
        qc.create_payload_index(name, "t", field_schema=schema, wait=True)
    return name


def _condition(kind: str, query: str) -> models.FieldCondition:
    match = {"text": models.MatchText(text=query), "text_any": models.MatchTextAny(text_any=query),
             "phrase": models.MatchPhrase(phrase=query)}[kind]
    return models.FieldCondition(key="t", match=match)


def ids(qc, name: str, kind: str, query: str) -> list[int]:
    """Matching ids by scroll, checked against count and a filtered query."""
    flt = models.Filter(must=[_condition(kind, query)])
    records, _ = qc.scroll(name, scroll_filter=flt, limit=100)
    found = sorted(int(r.id) for r in records)
    assert qc.count(name, count_filter=flt, exact=True).count == len(found)
    hits = qc.query_points(name, query=[0.0, 1.0], query_filter=flt, limit=100).points
    assert sorted(int(p.id) for p in hits) == found
    return found


def test_default_word_index_pools_arrays_and_keeps_no_phrases(qc):
    name = _collection(qc, "ti_word", models.TextIndexParams(type=TEXT))
    # Without an index document 4 fails "quick fox" (neither element holds both); with one it matches.
    assert ids(qc, name, "text", "quick fox") == [3, 4, 8]
    assert ids(qc, name, "text", "HELLO world") == [1]
    assert ids(qc, name, "text", "case word") == [5]
    assert ids(qc, name, "text", "café") == [6]
    assert ids(qc, name, "text", "cafe") == []
    assert ids(qc, name, "text", "quick zebra") == []  # an unknown token: nothing
    assert ids(qc, name, "text_any", "quick zebra") == [3, 4, 8]  # unknown tokens are ignored
    assert ids(qc, name, "text", "!!!") == []
    assert ids(qc, name, "text_any", "42") == []  # a number value is not text
    assert ids(qc, name, "phrase", "brown fox") == []  # no phrase_matching: phrases match nothing


def test_phrase_matching_does_not_span_array_elements(qc):
    name = _collection(qc, "ti_phrase", models.TextIndexParams(type=TEXT, phrase_matching=True))
    assert ids(qc, name, "phrase", "brown fox") == [3, 4]
    assert ids(qc, name, "phrase", "quick brown") == [3]  # document 4 has "quick" | "brown fox"
    assert ids(qc, name, "phrase", "world hello") == []
    assert ids(qc, name, "phrase", "HELLO world") == [1]


def test_index_created_after_the_points_and_dropped_again(qc):
    name = _collection(qc, "ti_late", models.TextIndexParams(type=TEXT), index_first=False)
    assert ids(qc, name, "text", "quick fox") == [3, 4, 8]
    qc.delete_payload_index(name, "t", wait=True)
    assert ids(qc, name, "text", "quick fox") == [3, 8]  # back to the unindexed rules


def test_lowercase_off(qc):
    name = _collection(qc, "ti_case", models.TextIndexParams(type=TEXT, lowercase=False))
    assert ids(qc, name, "text", "hello") == []
    assert ids(qc, name, "text", "Hello World") == [1]


def test_ascii_folding(qc):
    name = _collection(qc, "ti_fold", models.TextIndexParams(type=TEXT, ascii_folding=True))
    assert ids(qc, name, "text", "cafe creme") == [6]
    assert ids(qc, name, "text", "CAFÉ") == [6]


def test_whitespace_tokenizer(qc):
    name = _collection(qc, "ti_ws", models.TextIndexParams(type=TEXT, tokenizer=models.TokenizerType.WHITESPACE))
    assert ids(qc, name, "text", "snake_case-word") == [5]
    assert ids(qc, name, "text", "case") == []
    assert ids(qc, name, "text", "hello") == []  # the token is "hello,"
    assert ids(qc, name, "text", "hello, world!") == [1]


def test_prefix_tokenizer(qc):
    name = _collection(qc, "ti_prefix", models.TextIndexParams(
        type=TEXT, tokenizer=models.TokenizerType.PREFIX, min_token_len=2, max_token_len=4))
    assert ids(qc, name, "text", "qui bro") == [3, 4, 8]
    assert ids(qc, name, "text", "quickest") == [3, 4, 8]  # the query word is cut to "quic"
    assert ids(qc, name, "text", "q") == []  # shorter than min_token_len: no tokens
    assert ids(qc, name, "text_any", "wor zzz") == [1, 5, 10]
    assert ids(qc, name, "text", "orld") == []  # prefixes only


def test_prefix_queries_keep_stopwords(qc):
    name = _collection(qc, "ti_prefix_stop", models.TextIndexParams(
        type=TEXT, tokenizer=models.TokenizerType.PREFIX, stopwords=models.Language.ENGLISH))
    # "the" is dropped from documents but not from a prefix query: it finds "theory" only.
    assert ids(qc, name, "text", "the") == [11]


def test_stopwords_and_stemmer(qc):
    name = _collection(qc, "ti_stem", models.TextIndexParams(
        type=TEXT, stopwords=models.Language.ENGLISH, phrase_matching=True,
        stemmer=models.SnowballParams(type=models.Snowball.SNOWBALL, language=models.SnowballLanguage.ENGLISH)))
    assert ids(qc, name, "text", "the fox") == [3, 4, 8, 9]  # "foxes" -> "fox"; "the" is dropped
    assert ids(qc, name, "text", "runs dog") == [9]
    assert ids(qc, name, "text", "the") == []  # only stopwords: no tokens
    assert ids(qc, name, "phrase", "foxes were running") == [9]  # = "fox run"
    assert ids(qc, name, "phrase", "lazy dog") == [9]


def test_custom_stopwords_set(qc):
    name = _collection(qc, "ti_custom", models.TextIndexParams(
        type=TEXT, stopwords=models.StopwordsSet(languages=[models.Language.ENGLISH], custom=["Fox", "world"])))
    assert ids(qc, name, "text", "fox") == []
    assert ids(qc, name, "text", "hello world") == [1]  # = "hello"
    assert ids(qc, name, "text_any", "only the") == []  # both English stopwords


def test_token_lengths_drop_tokens(qc):
    name = _collection(qc, "ti_len", models.TextIndexParams(type=TEXT, min_token_len=3, max_token_len=10))
    assert ids(qc, name, "text", "extraordinarily") == []  # dropped from documents and the query
    assert ids(qc, name, "text", "an word") == [5, 10]  # = "word"; "an" is too short
    assert ids(qc, name, "text_any", "of it fox") == [3, 4, 8]


def test_parameters_come_back_in_payload_schema(qc):
    schema = models.TextIndexParams(
        type=TEXT, tokenizer=models.TokenizerType.PREFIX, min_token_len=2, max_token_len=12, lowercase=False,
        ascii_folding=True, phrase_matching=True,
        stopwords=models.StopwordsSet(languages=[models.Language.ENGLISH, models.Language.GERMAN], custom=["foo"]),
        stemmer=models.SnowballParams(type=models.Snowball.SNOWBALL, language=models.SnowballLanguage.GERMAN))
    name = _collection(qc, "ti_schema", schema)
    info = qc.get_collection(name).payload_schema["t"]
    assert info.data_type == models.PayloadSchemaType.TEXT
    params = info.params
    assert params.tokenizer == models.TokenizerType.PREFIX
    assert (params.min_token_len, params.max_token_len) == (2, 12)
    assert (params.lowercase, params.ascii_folding, params.phrase_matching) == (False, True, True)
    assert sorted(params.stopwords.languages) == [models.Language.ENGLISH, models.Language.GERMAN]
    assert params.stopwords.custom == ["foo"]
    assert params.stemmer.language == models.SnowballLanguage.GERMAN


def test_parameters_come_back_through_the_other_door(shared_server):
    """An index made through one door reads back through the other. As with Qdrant, a stopword
    language sent by name over REST comes back by name; over gRPC it travels as a one-language
    set, and REST then shows that set."""
    grpc_client, rest_client = make_client(shared_server), make_client(shared_server, prefer_grpc=False)
    try:
        for maker, reader, door in ((rest_client, grpc_client, "rest"), (grpc_client, rest_client, "grpc")):
            name = f"ti_cross_{door}"
            maker.delete_collection(name)
            maker.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
            maker.create_payload_index(name, "t", field_schema=models.TextIndexParams(
                type=TEXT, tokenizer=models.TokenizerType.WORD, stopwords=models.Language.ENGLISH,
                stemmer=models.SnowballParams(type=models.Snowball.SNOWBALL, language=models.SnowballLanguage.ENGLISH),
                phrase_matching=True), wait=True)
            params = reader.get_collection(name).payload_schema["t"].params
            assert params.tokenizer == models.TokenizerType.WORD
            if door == "rest":
                assert params.stopwords == models.Language.ENGLISH
            else:
                assert params.stopwords == models.StopwordsSet(languages=[models.Language.ENGLISH])
            assert params.stemmer.language == models.SnowballLanguage.ENGLISH
            assert params.phrase_matching is True
    finally:
        grpc_client.close()
        rest_client.close()


@pytest.mark.parametrize("schema, words", [
    (models.TextIndexParams(type=TEXT, tokenizer=models.TokenizerType.MULTILINGUAL), ["multilingual"]),
    (models.TextIndexParams(type=TEXT, tokenizer=models.TokenizerType.CODE), ["code"]),
    (models.TextIndexParams(type=TEXT, stemmer=models.SnowballParams(
        type=models.Snowball.SNOWBALL, language=models.SnowballLanguage.ARMENIAN)), ["armenian"]),
])
def test_tokenizers_and_stemmers_vecinfer_cannot_reproduce_are_refused(qc, schema, words):
    name = f"ti_refused_{qc.door}"
    qc.delete_collection(name)
    qc.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    with pytest.raises(Exception) as caught:
        qc.create_payload_index(name, "t", field_schema=schema, wait=True)
    text = str(caught.value)
    assert "501" in text or "UNIMPLEMENTED" in text, text
    for word in words:
        assert word in text
    assert "t" not in qc.get_collection(name).payload_schema


def test_text_index_survives_a_restart(server_factory):
    server = server_factory().start()
    qc = make_client(server)
    qc.door = "grpc"
    name = _collection(qc, "ti_restart", models.TextIndexParams(
        type=TEXT, tokenizer=models.TokenizerType.PREFIX, phrase_matching=True))
    assert ids(qc, name, "text", "qui fo") == [3, 4, 8]
    qc.close()
    server.stop()
    server.start()
    qc = make_client(server, prefer_grpc=False)
    try:
        assert ids(qc, name, "text", "qui fo") == [3, 4, 8]
        assert ids(qc, name, "phrase", "brown fox") == [3, 4]
        assert qc.get_collection(name).payload_schema["t"].params.tokenizer == models.TokenizerType.PREFIX
    finally:
        qc.close()
