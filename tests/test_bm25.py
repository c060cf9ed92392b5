"""qdrant/bm25 through the real gRPC path: exact vectors, IDF ranking, validation."""

from __future__ import annotations

import math

import grpc
import numpy as np
import pytest
from qdrant_client import models

BM25 = "qdrant/bm25"

# (text, options, side, expected indices, expected f32 values) from the specification.
SPEC_VECTORS = [
    ("Recipe for baking chocolate chip cookies", {}, "document",
     [112174620, 177304315, 662344706, 771857363, 1617337648], [1.6697302] * 5),
    ("Recipe for baking chocolate chip cookies", {}, "query",
     [112174620, 177304315, 662344706, 771857363, 1617337648], [1.0] * 5),
    ("Hello, World! Hello again -- hello? (e-mail: john.doe@example.com; tel. +1-555-0100)", {}, "document",
     [74040069, 116628897, 613153351, 642435533, 807072345, 1401999027, 1535749539, 1701593959, 1746685302,
      1779869870, 1810453357, 2035475614],
     [1.6305733, 1.6305733, 1.9706088] + [1.6305733] * 9),
    ("The cat and the hat. The cat sat; cat, cat, CAT!", {}, "document",
     [703717300, 1485265044, 1751422759], [1.660867, 1.660867, 2.0658793]),
    ("QDRANT Vector DATABASE Search ENGINE with FAST Filtering", {}, "document",
     [553238108, 802574768, 823134346, 856081220, 1423958341, 1935863057, 1955147705], [1.660867] * 7),
    ("Die Häuser der Stadt waren sehr schön und die Straßen waren voller Menschen.", {"language": "german"}, "document",
     [18554856, 732421865, 1123372342, 1407327463, 1962405504, 2059787017], [1.6652868] * 6),
]


@pytest.fixture(scope="module")
def sparse_collection(client):
    name = "bm25_vectors"
    client.create_collection(name, vectors_config={"dense": models.VectorParams(size=2, distance=models.Distance.DOT)},
                             sparse_vectors_config={"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)})
    return name


DOCUMENT_CASES = [i for i, case in enumerate(SPEC_VECTORS) if case[2] == "document"]


@pytest.mark.parametrize("case", DOCUMENT_CASES, ids=["seed", "T1", "T2", "T3", "T4"])
def test_spec_vectors_via_upsert(client, sparse_collection, case):
    text, options, _, indices, values = SPEC_VECTORS[case]
    client.upsert(sparse_collection, points=[models.PointStruct(
        id=case, vector={"bm25": models.Document(text=text, model=BM25, options=options)})])
    (point,) = client.retrieve(sparse_collection, ids=[case], with_vectors=True)
    stored = point.vector["bm25"]
    assert stored.indices == indices
    assert np.array_equal(np.array(stored.values, dtype=np.float32), np.array(values, dtype=np.float32))


def test_query_vector_is_unique_tokens_with_weight_one(client):
    # A query scores each shared token as 1.0 * document weight (no IDF here), so querying a
    # point that stores known weights reveals the query vector's tokens and values.
    name = "bm25_query_side"
    client.create_collection(name, vectors_config={}, sparse_vectors_config={"s": models.SparseVectorParams()})
    indices = SPEC_VECTORS[1][3]
    client.upsert(name, points=[
        models.PointStruct(id=i, vector={"s": models.SparseVector(indices=[idx], values=[float(2 ** i)])})
        for i, idx in enumerate(indices)
    ] + [models.PointStruct(id=99, vector={"s": models.SparseVector(indices=indices, values=[1.0] * 5)})])
    hits = client.query_points(name, query=models.Document(text="Recipe recipe for baking chocolate chip cookies", model=BM25),
                               using="s", limit=10).points
    scores = {p.id: p.score for p in hits}
    assert scores == {0: 1.0, 1: 2.0, 2: 4.0, 3: 8.0, 4: 16.0, 99: 5.0}  # weight 1.0, duplicates once
    client.delete_collection(name)


def idf(n: int, df: int) -> float:
    return math.log((n - df + 0.5) / (df + 0.5) + 1)


def bm25_weight(tf: int, doc_len: int, k: float = 1.2, b: float = 0.75, avg_len: float = 256.0) -> float:
    return tf * (k + 1) / (tf + k * (1 - b + b * doc_len / avg_len))


CORPUS = {
    1: "apple banana",
    2: "apple apple cherry",
    3: "banana cherry durian",
    4: "cherry",
    5: "durian durian durian elderberry",
}


def test_ranking_follows_the_formula_and_live_statistics(client):
    name = "bm25_ranking"
    client.create_collection(name, vectors_config={}, sparse_vectors_config={"text": models.SparseVectorParams(modifier=models.Modifier.IDF)})
    opts = {"stemmer": {"type": "none"}}
    client.upsert(name, points=[models.PointStruct(id=i, vector={"text": models.Document(text=t, model=BM25, options=opts)})
                                for i, t in CORPUS.items()])

    def expected(corpus: dict[int, str], query: list[str]) -> list[tuple[int, float]]:
        n = len(corpus)
        scores = {}
        for pid, text in corpus.items():
            words = text.split()
            s = sum(idf(n, sum(q in t.split() for t in corpus.values())) * bm25_weight(words.count(q), len(words))
                    for q in set(query) if q in words)
            if s:
                scores[pid] = s
        return sorted(scores.items(), key=lambda kv: -kv[1])

    def ranked(query: str):
        hits = client.query_points(name, query=models.Document(text=query, model=BM25, options=opts), using="text", limit=10).points
        return [(p.id, p.score) for p in hits]

    for query in ["apple cherry", "durian", "banana elderberry"]:
        got, want = ranked(query), expected(CORPUS, query.split())
        assert [pid for pid, _ in got] == [pid for pid, _ in want], query
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-5)

    # Deleting a point changes N and df: "cherry" becomes rarer, so its weight rises.
    client.delete(name, points_selector=[4, 3])
    remaining = {k: v for k, v in CORPUS.items() if k not in (3, 4)}
    got, want = ranked("apple cherry"), expected(remaining, ["apple", "cherry"])
    assert [pid for pid, _ in got] == [pid for pid, _ in want] == [2, 1]
    assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-5)
    # Replacing a document's text updates its postings.
    client.upsert(name, points=[models.PointStruct(id=1, vector={"text": models.Document(text="cherry cherry", model=BM25, options=opts)})])
    remaining[1] = "cherry cherry"
    got, want = ranked("cherry"), expected(remaining, ["cherry"])
    assert [pid for pid, _ in got] == [pid for pid, _ in want] == [1, 2]
    assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-5)


def test_idf_corpus_filter(client):
    name = "bm25_corpus"
    client.create_collection(name, vectors_config={}, sparse_vectors_config={"text": models.SparseVectorParams(modifier=models.Modifier.IDF)})
    opts = {"stemmer": {"type": "none"}}
    client.upsert(name, points=[models.PointStruct(id=i, payload={"group": "a" if i <= 3 else "b"},
                                                   vector={"text": models.Document(text=t, model=BM25, options=opts)})
                                for i, t in CORPUS.items()])
    corpus = models.Filter(must=[models.FieldCondition(key="group", match=models.MatchValue(value="a"))])
    hits = client.query_points(name, query=models.Document(text="cherry", model=BM25, options=opts), using="text",
                               search_params=models.SearchParams(idf=models.IdfCorpusParams(corpus=corpus))).points
    # Corpus = points 1..3: N = 3, df(cherry) = 2; point 4 is still searched, scored with that IDF.
    by_id = {p.id: p.score for p in hits}
    assert by_id[4] == pytest.approx(idf(3, 2) * bm25_weight(1, 1), rel=1e-5)
    assert by_id[2] == pytest.approx(idf(3, 2) * bm25_weight(1, 3), rel=1e-5)


def test_hybrid_prefetch_with_bm25_document(client):
    name = "bm25_hybrid"
    client.create_collection(name, vectors_config={"dense": models.VectorParams(size=2, distance=models.Distance.DOT)},
                             sparse_vectors_config={"text": models.SparseVectorParams(modifier=models.Modifier.IDF)})
    client.upsert(name, points=[
        models.PointStruct(id=i, vector={"dense": [1.0, float(i)], "text": models.Document(text=t, model=BM25)})
        for i, t in CORPUS.items()])
    hits = client.query_points(name, prefetch=[
        models.Prefetch(query=models.Document(text="durian", model=BM25), using="text", limit=5),
        models.Prefetch(query=[0.0, 1.0], using="dense", limit=1),
    ], query=models.FusionQuery(fusion=models.Fusion.RRF), limit=3).points
    assert hits[0].id == 5  # first in both lists


def rpc_error(call):
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


@pytest.mark.parametrize("options, needle", [
    ({"k": -1}, "`k`"),
    ({"b": 2}, "`b`"),
    ({"avg_len": 0}, "`avg_len`"),
    ({"avg_len": 1e-308}, "`avg_len`"),
    ({"tokenizer": "spaces"}, "word, whitespace, prefix"),
    ({"tokenizer": "multilingual"}, "not supported yet"),
    ({"language": "English"}, "english"),
    ({"stemmer": {"type": "porter"}}, "`stemmer`"),
    ({"lowercase": "yes"}, "`lowercase`"),
    ({"stopwords": "klingon"}, "`stopwords`"),
    ({"min_token_len": -3}, "`min_token_len`"),
])
def test_invalid_options_are_rejected_by_name(client, sparse_collection, options, needle):
    err = rpc_error(lambda: client.upsert(sparse_collection, points=[models.PointStruct(
        id=500, vector={"bm25": models.Document(text="hello", model=BM25, options=options)})]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert needle in err.details()
    assert client.retrieve(sparse_collection, ids=[500]) == []


def test_unknown_language_lists_valid_names(client, sparse_collection):
    err = rpc_error(lambda: client.upsert(sparse_collection, points=[models.PointStruct(
        id=500, vector={"bm25": models.Document(text="hello", model=BM25, options={"language": "English"})})]))
    for name in ("english", "german", "french", "tamil"):
        assert name in err.details()


def test_wrong_targets_and_inputs(client, cloud_client, sparse_collection):
    err = rpc_error(lambda: client.upsert(sparse_collection, points=[models.PointStruct(
        id=501, vector={"dense": models.Document(text="hello", model=BM25)})]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "sparse" in err.details()
    err = rpc_error(lambda: cloud_client.upsert(sparse_collection, points=[models.PointStruct(
        id=501, vector={"bm25": models.Image(image="https://example.com/x.png", model=BM25)})]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "Only text input" in err.details()
    unnamed = "bm25_unnamed"
    client.create_collection(unnamed, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    err = rpc_error(lambda: client.upsert(unnamed, points=[models.PointStruct(id=1, vector=models.Document(text="hi", model=BM25))]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "must be named" in err.details()
    err = rpc_error(lambda: cloud_client.upsert(sparse_collection, points=[models.PointStruct(
        id=501, vector={"bm25": models.Document(text="hello", model="no-such/model")})]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "qdrant/bm25" in err.details()
    assert client.retrieve(sparse_collection, ids=[501]) == []


def test_model_name_is_case_insensitive(cloud_client, sparse_collection):
    cloud_client.upsert(sparse_collection, points=[models.PointStruct(
        id=600, vector={"bm25": models.Document(text="Recipe for baking chocolate chip cookies", model="Qdrant/BM25")}),
        models.PointStruct(id=601, vector={"bm25": models.Document(text="Recipe for baking chocolate chip cookies", model="bm25")})])
    a, b = cloud_client.retrieve(sparse_collection, ids=[600, 601], with_vectors=True)
    assert a.vector["bm25"].indices == SPEC_VECTORS[0][3] == b.vector["bm25"].indices


def test_usage_reports_tokens(shared_server, sparse_collection):
    from qdrant_client import grpc as qgrpc

    document = qgrpc.Document(text="Recipe for baking chocolate chip cookies", model=BM25)
    point = qgrpc.PointStruct(id=qgrpc.PointId(num=700),
                              vectors=qgrpc.Vectors(vectors=qgrpc.NamedVectors(vectors={"bm25": qgrpc.Vector(document=document)})))
    with grpc.insecure_channel(shared_server.grpc_address) as channel:
        reply = qgrpc.PointsStub(channel).Upsert(qgrpc.UpsertPoints(collection_name=sparse_collection, wait=True, points=[point]), timeout=30)
    assert reply.usage.inference.models[BM25].tokens == 5


def test_update_vectors_with_a_document(client, sparse_collection):
    client.upsert(sparse_collection, points=[models.PointStruct(id=800, vector={"dense": [1.0, 2.0]}, payload={"k": 1})])
    client.update_vectors(sparse_collection, points=[models.PointVectors(
        id=800, vector={"bm25": models.Document(text="Recipe for baking chocolate chip cookies", model=BM25)})])
    (point,) = client.retrieve(sparse_collection, ids=[800], with_vectors=True)
    assert point.vector["bm25"].indices == SPEC_VECTORS[0][3]
    assert point.vector["dense"] == [1.0, 2.0] and point.payload == {"k": 1}
