"""The real qdrant-client driving every core operation against a vecinfer server, through
both doors: gRPC (`prefer_grpc=True`) and REST (the client's default)."""

from __future__ import annotations

import numpy as np
import pytest
from qdrant_client import models

from conftest import make_client

rng = np.random.default_rng(7)
DIM = 8
VECTORS = rng.normal(size=(40, DIM)).astype(np.float32)
CITIES = ["berlin", "paris", "rome", "oslo"]


def payload(i: int) -> dict:
    return {
        "i": i,
        "city": CITIES[i % 4],
        "price": float(i) * 1.5,
        "tags": ["even" if i % 2 == 0 else "odd", f"t{i % 3}"],
        "meta": {"rank": i % 5, "flag": i % 7 == 0},
        "items": [{"kind": "a", "n": i}, {"kind": "b", "n": i + 100}],
        "maybe": None if i % 10 == 0 else i,
    }


def cosine_rank(query: np.ndarray, ids: list[int]) -> list[int]:
    normed = VECTORS / np.linalg.norm(VECTORS, axis=1, keepdims=True)
    q = query / np.linalg.norm(query)
    scores = normed[ids] @ q
    return [ids[j] for j in np.argsort(-scores, kind="stable")]


@pytest.fixture(scope="module", params=["grpc", "rest"])
def client(request, shared_server):
    c = make_client(shared_server, prefer_grpc=request.param == "grpc")
    yield c
    c.close()


@pytest.fixture(scope="module")
def unnamed(client):
    name = "flow_unnamed"
    client.delete_collection(name)
    client.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE))
    client.upsert(name, points=[models.PointStruct(id=i, vector=VECTORS[i].tolist(), payload=payload(i)) for i in range(40)])
    return name


def test_collection_lifecycle(client):
    assert not client.collection_exists("lifecycle")
    assert client.create_collection("lifecycle", vectors_config={
        "text": models.VectorParams(size=4, distance=models.Distance.DOT),
        "img": models.VectorParams(size=2, distance=models.Distance.EUCLID),
    }, sparse_vectors_config={"kw": models.SparseVectorParams(modifier=models.Modifier.IDF)})
    assert client.collection_exists("lifecycle")
    info = client.get_collection("lifecycle")
    assert info.config.params.vectors["text"].size == 4
    assert info.config.params.vectors["img"].distance == models.Distance.EUCLID
    assert info.config.params.sparse_vectors["kw"].modifier == models.Modifier.IDF
    assert info.points_count == 0
    assert "lifecycle" in [c.name for c in client.get_collections().collections]
    assert client.delete_collection("lifecycle")
    assert not client.collection_exists("lifecycle")
    assert "lifecycle" not in [c.name for c in client.get_collections().collections]


def test_query_by_vector_ranks_like_brute_force(client, unnamed):
    query = rng.normal(size=DIM).astype(np.float32)
    result = client.query_points(unnamed, query=query.tolist(), limit=5).points
    assert [p.id for p in result] == cosine_rank(query, list(range(40)))[:5]
    assert result[0].payload["i"] == result[0].id
    scores = [p.score for p in result]
    assert scores == sorted(scores, reverse=True)


def test_query_by_id_excludes_the_point(client, unnamed):
    result = client.query_points(unnamed, query=3, limit=4).points
    assert 3 not in [p.id for p in result]
    expected = [i for i in cosine_rank(VECTORS[3], list(range(40))) if i != 3][:4]
    assert [p.id for p in result] == expected


def test_query_with_filter_offset_and_threshold(client, unnamed):
    query = VECTORS[5]
    flt = models.Filter(must=[models.FieldCondition(key="city", match=models.MatchValue(value="paris"))])
    paris = [i for i in range(40) if CITIES[i % 4] == "paris"]
    full = client.query_points(unnamed, query=query.tolist(), query_filter=flt, limit=100).points
    assert [p.id for p in full] == cosine_rank(query, paris)
    paged = client.query_points(unnamed, query=query.tolist(), query_filter=flt, limit=3, offset=2).points
    assert [p.id for p in paged] == [p.id for p in full[2:5]]
    threshold = full[3].score
    above = client.query_points(unnamed, query=query.tolist(), query_filter=flt, limit=100, score_threshold=threshold).points
    assert [p.id for p in above] == [p.id for p in full if p.score > threshold]


@pytest.mark.parametrize(
    "flt, expected",
    [
        (models.Filter(must=[models.FieldCondition(key="i", range=models.Range(gte=10, lt=13))]), [10, 11, 12]),
        (models.Filter(must=[models.FieldCondition(key="tags", match=models.MatchValue(value="even")),
                             models.FieldCondition(key="meta.rank", match=models.MatchValue(value=0))]),
         [i for i in range(40) if i % 2 == 0 and i % 5 == 0]),
        (models.Filter(should=[models.FieldCondition(key="city", match=models.MatchAny(any=["oslo", "rome"]))],
                       must_not=[models.FieldCondition(key="i", range=models.Range(gt=20))]),
         [i for i in range(21) if i % 4 in (2, 3)]),
        (models.Filter(must=[models.FieldCondition(key="city", match=models.MatchExcept(**{"except": ["berlin", "paris", "rome"]}))]),
         [i for i in range(40) if i % 4 == 3]),
        (models.Filter(must=[models.FieldCondition(key="maybe", match=models.MatchExcept(**{"except": [1]}))]),
         [i for i in range(40) if i % 10 != 0 and i != 1]),
        (models.Filter(must=[models.FieldCondition(key="meta.flag", match=models.MatchValue(value=True))]),
         [i for i in range(40) if i % 7 == 0]),
        (models.Filter(must=[models.IsNullCondition(is_null=models.PayloadField(key="maybe"))]), [0, 10, 20, 30]),
        (models.Filter(must=[models.IsEmptyCondition(is_empty=models.PayloadField(key="missing"))]), list(range(40))),
        (models.Filter(must=[models.HasIdCondition(has_id=[1, 2, 39])]), [1, 2, 39]),
        (models.Filter(must=[models.HasVectorCondition(has_vector="")]), list(range(40))),
        (models.Filter(must=[models.FieldCondition(key="items[].n", match=models.MatchValue(value=105))]), [5]),
        (models.Filter(must=[models.NestedCondition(nested=models.Nested(key="items", filter=models.Filter(must=[
            models.FieldCondition(key="kind", match=models.MatchValue(value="a")),
            models.FieldCondition(key="n", range=models.Range(gte=108)),
        ])))]), []),
        (models.Filter(must=[models.NestedCondition(nested=models.Nested(key="items", filter=models.Filter(must=[
            models.FieldCondition(key="kind", match=models.MatchValue(value="b")),
            models.FieldCondition(key="n", range=models.Range(gte=138)),
        ])))]), [38, 39]),
        (models.Filter(min_should=models.MinShould(conditions=[
            models.FieldCondition(key="city", match=models.MatchValue(value="oslo")),
            models.FieldCondition(key="tags", match=models.MatchValue(value="odd")),
            models.FieldCondition(key="tags", match=models.MatchValue(value="t0")),
        ], min_count=3)), [i for i in range(40) if i % 4 == 3 and i % 3 == 0]),
    ],
    ids=["range", "must-nested-path", "should-must_not", "except", "except-skips-nulls", "bool", "is_null", "is_empty",
         "has_id", "has_vector", "array-path", "nested-none", "nested-some", "min_should"],
)
def test_filters_through_count_and_scroll(client, unnamed, flt, expected):
    assert client.count(unnamed, count_filter=flt, exact=True).count == len(expected)
    records, _ = client.scroll(unnamed, scroll_filter=flt, limit=100)
    assert sorted(r.id for r in records) == sorted(expected)


def test_scroll_pages_through_everything(client, unnamed):
    seen, offset = [], None
    while True:
        records, offset = client.scroll(unnamed, limit=7, offset=offset, with_payload=False)
        seen.extend(r.id for r in records)
        assert all(not r.payload for r in records)  # the client turns an empty payload into {}
        if offset is None:
            break
    assert seen == list(range(40))


def test_retrieve_with_vectors_and_payload_selectors(client, unnamed):
    points = client.retrieve(unnamed, ids=[7, 3, 1000], with_vectors=True,
                             with_payload=models.PayloadSelectorInclude(include=["city", "meta.rank"]))
    assert [p.id for p in points] == [7, 3]
    stored = np.array(points[0].vector)
    assert np.allclose(stored, VECTORS[7] / np.linalg.norm(VECTORS[7]), atol=1e-6)  # Cosine: normalised
    assert points[0].payload == {"city": CITIES[7 % 4], "meta": {"rank": 2}}
    excluded = client.retrieve(unnamed, ids=[7], with_payload=models.PayloadSelectorExclude(exclude=["items", "tags"]))
    assert set(excluded[0].payload) == {"i", "city", "price", "meta", "maybe"}


def test_payload_types_round_trip(client, unnamed):
    (point,) = client.retrieve(unnamed, ids=[4])
    assert point.payload == payload(4)
    assert isinstance(point.payload["i"], int) and isinstance(point.payload["price"], float)
    assert point.payload["meta"]["flag"] is False


@pytest.fixture
def named(client):
    name = "flow_named"
    client.create_collection(name, vectors_config={
        "a": models.VectorParams(size=4, distance=models.Distance.DOT),
        "b": models.VectorParams(size=4, distance=models.Distance.EUCLID),
    })
    points = []
    for i in range(20):
        points.append(models.PointStruct(id=i, vector={"a": [1.0, i, 0, 0], "b": [i, 0, 0, 0]}, payload={"i": i}))
    client.upsert(name, points=points)
    yield name
    client.delete_collection(name)


def test_named_vectors_and_using(client, named):
    by_a = client.query_points(named, query=[0, 1, 0, 0], using="a", limit=3).points
    assert [p.id for p in by_a] == [19, 18, 17]
    by_b = client.query_points(named, query=[5.2, 0, 0, 0], using="b", limit=3).points
    assert [p.id for p in by_b] == [5, 6, 4]
    assert by_b[0].score == pytest.approx(0.2, abs=1e-5)  # Euclid distance, ascending
    with_vectors = client.query_points(named, query=[0, 1, 0, 0], using="a", limit=1, with_vectors=["b"]).points
    assert with_vectors[0].vector == {"b": [19.0, 0, 0, 0]}


def test_prefetch_rescoring(client, named):
    # Candidates: top 5 by "a" (ids 15..19); re-scored by distance to 16 on "b".
    result = client.query_points(
        named, prefetch=[models.Prefetch(query=[0, 1, 0, 0], using="a", limit=5)],
        query=[16, 0, 0, 0], using="b", limit=3,
    ).points
    assert [p.id for p in result] == [16, 15, 17]
    nested = client.query_points(
        named,
        prefetch=[models.Prefetch(
            prefetch=[models.Prefetch(query=[0, 1, 0, 0], using="a", limit=10)],
            query=[3, 0, 0, 0], using="b", limit=4)],
        query=[0, 1, 0, 0], using="a", limit=2,
    ).points
    # inner: ids 10..19; middle: the 4 closest to 3 on b -> 10, 11, 12, 13; root: best by a.
    assert [p.id for p in nested] == [13, 12]


def test_fusion_rrf_and_dbsf(client, named):
    prefetch = [
        models.Prefetch(query=[0, 1, 0, 0], using="a", limit=3),  # 19, 18, 17
        models.Prefetch(query=[18, 0, 0, 0], using="b", limit=3),  # 18, then 17/19 (tie)
    ]
    rrf = client.query_points(named, prefetch=prefetch, query=models.FusionQuery(fusion=models.Fusion.RRF), limit=3).points
    assert rrf[0].id == 18
    assert rrf[0].score == pytest.approx(1 / (1 + 2) + 1 / (0 + 2))
    assert {p.id for p in rrf} == {17, 18, 19}
    weighted = client.query_points(named, prefetch=prefetch, query=models.RrfQuery(rrf=models.Rrf(k=10, weights=[3.0, 0.0])), limit=3).points
    assert [p.id for p in weighted] == [19, 18, 17]
    assert weighted[0].score == pytest.approx(1 / (1 / 3 + 10 - 1))
    dbsf = client.query_points(named, prefetch=prefetch, query=models.FusionQuery(fusion=models.Fusion.DBSF), limit=3).points
    assert dbsf[0].id == 19  # best by a with the largest margin
    assert {p.id for p in dbsf} == {17, 18, 19}


def test_query_batch(client, named):
    results = client.query_batch_points(named, requests=[
        models.QueryRequest(query=[0, 1, 0, 0], using="a", limit=2),
        models.QueryRequest(query=[2, 0, 0, 0], using="b", limit=1, with_payload=True),
    ])
    assert [p.id for p in results[0].points] == [19, 18]
    assert results[0].points[0].payload is None  # batch default: no payload
    assert [p.id for p in results[1].points] == [2]
    assert results[1].points[0].payload == {"i": 2}


def test_payload_operations(client, named):
    client.set_payload(named, payload={"color": "red"}, points=[1, 2])
    client.set_payload(named, payload={"deep": 1}, points=[1], key="nest.inner")
    assert client.retrieve(named, ids=[1])[0].payload == {"i": 1, "color": "red", "nest": {"inner": {"deep": 1}}}
    client.overwrite_payload(named, payload={"only": True}, points=[2])
    assert client.retrieve(named, ids=[2])[0].payload == {"only": True}
    client.delete_payload(named, keys=["color"], points=[1])
    assert client.retrieve(named, ids=[1])[0].payload == {"i": 1, "nest": {"inner": {"deep": 1}}}
    client.clear_payload(named, points_selector=models.FilterSelector(filter=models.Filter(
        must=[models.FieldCondition(key="i", range=models.Range(lt=1))])))
    assert client.retrieve(named, ids=[0])[0].payload == {}


def test_update_and_delete_vectors(client, named):
    client.update_vectors(named, points=[models.PointVectors(id=3, vector={"a": [0, 100, 0, 0]})])
    top = client.query_points(named, query=[0, 1, 0, 0], using="a", limit=1).points
    assert top[0].id == 3
    (point,) = client.retrieve(named, ids=[3], with_vectors=True)
    assert point.vector["b"] == [3.0, 0, 0, 0]  # untouched
    assert point.payload == {"i": 3}
    client.delete_vectors(named, vectors=["b"], points=[3])
    (point,) = client.retrieve(named, ids=[3], with_vectors=True)
    assert set(point.vector) == {"a"}
    result = client.query_points(named, query=[3, 0, 0, 0], using="b", limit=1).points
    assert result[0].id != 3


def test_delete_by_ids_and_filter(client, named):
    client.delete(named, points_selector=[0, 1])
    client.delete(named, points_selector=models.FilterSelector(filter=models.Filter(
        must=[models.FieldCondition(key="i", range=models.Range(gte=15))])))
    assert client.count(named).count == 13
    records, _ = client.scroll(named, limit=100)
    assert [r.id for r in records] == list(range(2, 15))


def test_create_payload_index_shows_in_schema(client, named):
    client.create_payload_index(named, field_name="i", field_schema=models.PayloadSchemaType.INTEGER)
    client.create_payload_index(named, field_name="city", field_schema=models.PayloadSchemaType.KEYWORD)
    schema = client.get_collection(named).payload_schema
    assert schema["i"].data_type == models.PayloadSchemaType.INTEGER
    assert schema["i"].points == 20
    assert schema["city"].data_type == models.PayloadSchemaType.KEYWORD
    assert schema["city"].points == 0
    client.delete_payload_index(named, field_name="city")
    assert "city" not in client.get_collection(named).payload_schema


def test_uuid_ids_and_sparse_vectors(client):
    name = "flow_sparse"
    client.create_collection(name, vectors_config={}, sparse_vectors_config={"kw": models.SparseVectorParams()})
    ids = ["5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "00000000-0000-0000-0000-000000000001"]
    client.upsert(name, points=[
        models.PointStruct(id=ids[0], vector={"kw": models.SparseVector(indices=[1, 5], values=[0.5, 2.0])}),
        models.PointStruct(id=ids[1], vector={"kw": models.SparseVector(indices=[5, 9], values=[1.0, 1.0])}),
        models.PointStruct(id=7, vector={"kw": models.SparseVector(indices=[2], values=[1.0])}),
    ])
    result = client.query_points(name, query=models.SparseVector(indices=[5, 9], values=[1.0, 1.0]), using="kw").points
    assert [(p.id, round(p.score, 5)) for p in result] == [(ids[0], 2.0), (ids[1], 2.0)] or \
        [(p.id, round(p.score, 5)) for p in result] == [(ids[1], 2.0), (ids[0], 2.0)]
    records, _ = client.scroll(name, limit=10)
    assert [r.id for r in records] == [7, ids[1], ids[0]]  # numbers first, then UUIDs in order
    client.delete_collection(name)


def test_batch_update_points(client, named):
    client.batch_update_points(named, update_operations=[
        models.UpsertOperation(upsert=models.PointsList(points=[
            models.PointStruct(id=100, vector={"a": [0, 0, 1, 0], "b": [0, 0, 0, 1]}, payload={"new": 1})])),
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"x": 1}, points=[100])),
        models.DeleteOperation(delete=models.PointIdsList(points=[5])),
    ])
    assert client.retrieve(named, ids=[100])[0].payload == {"new": 1, "x": 1}
    assert client.retrieve(named, ids=[5]) == []


def test_manhattan_distance(client):
    name = "flow_manhattan"
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.MANHATTAN))
    client.upsert(name, points=[models.PointStruct(id=i, vector=[float(i), float(-i)]) for i in range(6)])
    hits = client.query_points(name, query=[2.2, -2.0], limit=3).points
    assert [p.id for p in hits] == [2, 3, 1]
    assert [p.score for p in hits] == pytest.approx([0.2, 1.8, 2.2], abs=1e-5)
    client.delete_collection(name)


def test_sparse_vectors_come_back_sorted_and_scoreless_queries_score_one(client):
    name = "flow_sorted"
    client.delete_collection(name)
    client.create_collection(name, vectors_config={}, sparse_vectors_config={"kw": models.SparseVectorParams()})
    client.upsert(name, points=[models.PointStruct(id=1, vector={"kw": models.SparseVector(
        indices=[9, 2, 5], values=[0.9, 0.2, 0.5])}, payload={"nested": {"id": 1, "keep": 2}})])
    (point,) = client.retrieve(name, ids=[1], with_vectors=True)
    assert point.vector["kw"].indices == [2, 5, 9]
    assert point.vector["kw"].values == pytest.approx([0.2, 0.5, 0.9])
    (hit,) = client.query_points(name, limit=1).points  # no query: id order, score 1.0
    assert hit.id == 1 and hit.score == 1.0
    (hit,) = client.query_points(name, limit=1, with_payload=models.PayloadSelectorExclude(exclude=["nested.id"])).points
    assert hit.payload == {"nested": {"keep": 2}}
    client.delete_collection(name)
