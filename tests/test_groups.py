"""Grouped queries end to end through qdrant-client 1.20 over both doors: `query_points_groups`
(group keys, group_size, limit, with_lookup, selectors, prefetches, thresholds), the legacy
SearchGroups / RecommendGroups (raw gRPC messages and REST bodies, which the 1.20 client no
longer sends), errors and strict mode (spec §8.1, §10)."""

from __future__ import annotations

import json

import grpc
import pytest
from qdrant_client import grpc as qgrpc
from qdrant_client import models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import make_client
from rest_http import call

DOORS = ("grpc", "rest")
UUID_KEY = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
# Spec §8.1: the score is 11 − id; k of each point.
KEYS = {1: "a", 2: ["a", "b"], 3: "b", 4: 1, 5: [1, True], 6: 1.5, 7: {}, 8: ["c", "c"], 9: "a", 10: True}


@pytest.fixture(scope="module")
def clients(shared_server):
    made = {"grpc": make_client(shared_server), "rest": make_client(shared_server, prefer_grpc=False)}
    yield made
    for client in made.values():
        client.close()


@pytest.fixture(params=DOORS)
def door(request):
    return request.param


def _fresh(client, name: str, **kwargs) -> str:
    client.delete_collection(name)
    client.create_collection(name, vectors_config=kwargs.pop("vectors_config", models.VectorParams(
        size=2, distance=models.Distance.DOT)), **kwargs)
    return name


@pytest.fixture(scope="module")
def spec_collection(clients):
    """§8.1's ten points: vector [11 − id, 0] scores 11 − id against [1, 0]."""
    client = clients["grpc"]
    name = _fresh(client, "groups_spec")
    client.upsert(name, points=[models.PointStruct(id=i, vector=[11.0 - i, 0.0], payload={"k": k, "n": i})
                                for i, k in KEYS.items()])
    return name


def _shape(result) -> list[tuple]:
    return [(g.id, [(h.id, h.score) for h in g.hits]) for g in result.groups]


def test_spec_example_groups(clients, door, spec_collection):
    client = clients[door]
    result = client.query_points_groups(spec_collection, group_by="k", query=[1.0, 0.0], group_size=2)
    assert _shape(result) == [("a", [(1, 10.0), (2, 9.0)]), ("b", [(2, 9.0), (3, 8.0)]), (1, [(4, 7.0)]),
                              ("c", [(8, 3.0)])]
    result = client.query_points_groups(spec_collection, group_by="k", query=[1.0, 0.0], group_size=1, limit=2)
    assert _shape(result) == [("a", [(1, 10.0)]), ("b", [(2, 9.0)])]


def test_default_group_size_is_three_and_limit_counts_groups(clients, door, spec_collection):
    client = clients[door]
    result = client.query_points_groups(spec_collection, group_by="k", query=[1.0, 0.0])
    assert [(g.id, [h.id for h in g.hits]) for g in result.groups] == [
        ("a", [1, 2, 9]), ("b", [2, 3]), (1, [4]), ("c", [8])]
    assert len(client.query_points_groups(spec_collection, group_by="k", query=[1.0, 0.0], limit=3).groups) == 3


def test_hits_carry_the_selected_payload_and_vectors(clients, door, spec_collection):
    client = clients[door]
    result = client.query_points_groups(spec_collection, group_by="k", query=[1.0, 0.0], group_size=1, limit=1,
                                        with_payload=["n"], with_vectors=True)
    hit = result.groups[0].hits[0]
    assert hit.payload == {"n": 1}
    assert hit.vector == [10.0, 0.0]
    result = client.query_points_groups(spec_collection, group_by="k", query=[1.0, 0.0], group_size=1, limit=1,
                                        with_payload=False)
    assert not result.groups[0].hits[0].payload
    assert result.groups[0].hits[0].vector is None


def test_filter_threshold_and_query_by_id(clients, door, spec_collection):
    client = clients[door]
    only_small = models.Filter(must=[models.FieldCondition(key="n", range=models.Range(lte=3))])
    result = client.query_points_groups(spec_collection, group_by="k", query=[1.0, 0.0], query_filter=only_small)
    assert _shape(result) == [("a", [(1, 10.0), (2, 9.0)]), ("b", [(2, 9.0), (3, 8.0)])]
    result = client.query_points_groups(spec_collection, group_by="k", query=[1.0, 0.0], score_threshold=8.5)
    assert _shape(result) == [("a", [(1, 10.0), (2, 9.0)]), ("b", [(2, 9.0)])]
    # By id: the point itself is left out.
    result = client.query_points_groups(spec_collection, group_by="k", query=1, group_size=1)
    assert [(g.id, [h.id for h in g.hits]) for g in result.groups] == [("a", [2]), ("b", [2]), (1, [4]), ("c", [8])]


def test_no_query_groups_points_in_id_order(clients, door, spec_collection):
    result = clients[door].query_points_groups(spec_collection, group_by="k", group_size=5)
    assert _shape(result) == [("a", [(1, 1.0), (2, 1.0), (9, 1.0)]), ("b", [(2, 1.0), (3, 1.0)]), (1, [(4, 1.0)]),
                              ("c", [(8, 1.0)])]


def test_prefetch_and_fusion_grouped(clients, door, spec_collection):
    client = clients[door]
    # The prefetch's own limit does not cut the candidates of a grouped query (local mode's rule).
    result = client.query_points_groups(
        spec_collection, group_by="k", group_size=1,
        prefetch=[models.Prefetch(query=[1.0, 0.0], limit=1), models.Prefetch(query=[-1.0, 0.0], limit=1)],
        query=models.FusionQuery(fusion=models.Fusion.RRF))
    assert [(g.id, [h.id for h in g.hits]) for g in result.groups] == [("a", [1]), ("b", [2]), ("c", [8]), (1, [4])]
    assert result.groups[0].hits[0].score == pytest.approx(1 / 2 + 1 / 11)
    result = client.query_points_groups(spec_collection, group_by="k", group_size=1,
                                        prefetch=models.Prefetch(query=[-1.0, 0.0], limit=2), query=[1.0, 0.0])
    assert _shape(result) == [("a", [(1, 10.0)]), ("b", [(2, 9.0)]), (1, [(4, 7.0)]), ("c", [(8, 3.0)])]


def test_nested_and_array_keys(clients, door):
    client = clients[door]
    name = _fresh(client, f"groups_nested_{door}")
    client.upsert(name, points=[
        models.PointStruct(id=1, vector=[3.0, 0.0], payload={"doc": {"id": 7}, "tags": [{"t": "x"}, {"t": "y"}]}),
        models.PointStruct(id=2, vector=[2.0, 0.0], payload={"doc": {"id": 7}, "tags": [{"t": "y"}]}),
        models.PointStruct(id=3, vector=[1.0, 0.0], payload={"doc": {"id": -2}, "tags": []}),
    ])
    result = client.query_points_groups(name, group_by="doc.id", query=[1.0, 0.0])
    assert [(g.id, [h.id for h in g.hits]) for g in result.groups] == [(7, [1, 2]), (-2, [3])]
    result = client.query_points_groups(name, group_by="tags[].t", query=[1.0, 0.0])
    assert [(g.id, [h.id for h in g.hits]) for g in result.groups] == [("x", [1]), ("y", [1, 2])]


def test_with_lookup(clients, door, spec_collection):
    client = clients[door]
    books = _fresh(client, f"groups_books_{door}")
    client.upsert(books, points=[
        models.PointStruct(id=1, vector=[0.0, 1.0], payload={"title": "one", "year": 2001}),
        models.PointStruct(id=UUID_KEY, vector=[1.0, 1.0], payload={"title": "uuid"}),
    ])
    chunks = _fresh(client, f"groups_chunks_{door}")
    client.upsert(chunks, points=[
        models.PointStruct(id=10, vector=[3.0, 0.0], payload={"book": 1}),
        models.PointStruct(id=11, vector=[2.0, 0.0], payload={"book": UUID_KEY.upper()}),
        models.PointStruct(id=12, vector=[1.0, 0.0], payload={"book": "no-such-book"}),
        models.PointStruct(id=13, vector=[0.5, 0.0], payload={"book": 99}),
    ])
    result = client.query_points_groups(chunks, group_by="book", query=[1.0, 0.0], with_lookup=books)
    assert [g.id for g in result.groups] == [1, UUID_KEY.upper(), "no-such-book", 99]
    lookups = [g.lookup for g in result.groups]
    assert lookups[0].id == 1 and lookups[0].payload == {"title": "one", "year": 2001} and lookups[0].vector is None
    assert lookups[1].id == UUID_KEY and lookups[1].payload == {"title": "uuid"}
    assert lookups[2] is None and lookups[3] is None
    result = client.query_points_groups(chunks, group_by="book", query=[1.0, 0.0], limit=1, with_lookup=models.WithLookup(
        collection=books, with_payload=["title"], with_vectors=True))
    assert result.groups[0].lookup.payload == {"title": "one"}
    assert result.groups[0].lookup.vector == [0.0, 1.0]
    # The collection grouped may look itself up.
    result = client.query_points_groups(spec_collection, group_by="k", query=[1.0, 0.0], with_lookup=spec_collection,
                                        limit=4)
    assert [(g.id, g.lookup.id if g.lookup else None) for g in result.groups] == [
        ("a", None), ("b", None), (1, 1), ("c", None)]


def test_lookup_from_another_collection(clients, door, spec_collection):
    client = clients[door]
    source = _fresh(client, f"groups_source_{door}")
    client.upsert(source, points=[models.PointStruct(id=1, vector=[1.0, 0.0])])
    # Id 1 names the other collection's point: this collection's point 1 is not left out.
    result = client.query_points_groups(spec_collection, group_by="k", group_size=1, query=1,
                                        lookup_from=models.LookupLocation(collection=source))
    assert _shape(result) == [("a", [(1, 10.0)]), ("b", [(2, 9.0)]), (1, [(4, 7.0)]), ("c", [(8, 3.0)])]


def test_recommend_query_grouped(clients, door, spec_collection):
    client = clients[door]
    result = client.query_points_groups(spec_collection, group_by="k", group_size=1,
                                        query=models.RecommendQuery(recommend=models.RecommendInput(positive=[1])))
    # Point 1, the example, is left out.
    assert [(g.id, [h.id for h in g.hits]) for g in result.groups] == [("a", [2]), ("b", [2]), (1, [4]), ("c", [8])]


def test_document_query_grouped(shared_server, door):
    """An inference object as the query: embedded by the server (BM25), then grouped."""
    client = make_client(shared_server, cloud_inference=True, prefer_grpc=door == "grpc")
    try:
        name = f"groups_bm25_{door}"
        client.delete_collection(name)
        client.create_collection(name, vectors_config={}, sparse_vectors_config={
            "bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)})
        texts = {1: ("cats purr softly", "pets"), 2: ("dogs bark loudly", "pets"), 3: ("cats climb trees", "wild")}
        client.upsert(name, points=[models.PointStruct(id=i, vector={"bm25": models.Document(
            text=text, model="qdrant/bm25")}, payload={"topic": topic}) for i, (text, topic) in texts.items()])
        result = client.query_points_groups(name, group_by="topic", using="bm25",
                                            query=models.Document(text="cats", model="qdrant/bm25"))
        assert {g.id: sorted(h.id for h in g.hits) for g in result.groups} == {"pets": [1], "wild": [3]}
    finally:
        client.close()


# ------------------------------------------------------------------ legacy SearchGroups / RecommendGroups


def _grpc_points(client):
    return client._client.grpc_points


def test_legacy_search_groups(clients, shared_server, spec_collection):
    reply = _grpc_points(clients["grpc"]).SearchGroups(qgrpc.SearchPointGroups(
        collection_name=spec_collection, vector=[1.0, 0.0], group_by="k", group_size=2, limit=10,
        with_payload=qgrpc.WithPayloadSelector(enable=True)), timeout=30)
    got = [(g.id.WhichOneof("kind"), [(h.id.num, h.score) for h in g.hits]) for g in reply.result.groups]
    assert got == [("string_value", [(1, 10.0), (2, 9.0)]), ("string_value", [(2, 9.0), (3, 8.0)]),
                   ("unsigned_value", [(4, 7.0)]), ("string_value", [(8, 3.0)])]
    assert reply.result.groups[0].hits[0].payload["n"].integer_value == 1
    status, _, body = call(shared_server.http_port, "POST", f"/collections/{spec_collection}/points/search/groups",
                           {"vector": [1.0, 0.0], "group_by": "k", "group_size": 1, "limit": 2})
    assert status == 200, body
    assert [(g["id"], [(h["id"], h["score"]) for h in g["hits"]]) for g in body["result"]["groups"]] == [
        ("a", [(1, 10.0)]), ("b", [(2, 9.0)])]
    assert "payload" not in body["result"]["groups"][0]["hits"][0]
    status, _, body = call(shared_server.http_port, "POST", f"/collections/{spec_collection}/points/search/groups",
                           {"vector": [1.0, 0.0], "group_by": "k", "limit": 2})
    assert status == 400 and "group_size" in body["status"]["error"], body


def test_legacy_search_groups_named_and_sparse(clients, shared_server):
    client = clients["grpc"]
    name = "groups_legacy_named"
    client.delete_collection(name)
    client.create_collection(name, vectors_config={"d": models.VectorParams(size=2, distance=models.Distance.DOT)},
                             sparse_vectors_config={"s": models.SparseVectorParams()})
    client.upsert(name, points=[
        models.PointStruct(id=1, vector={"d": [1.0, 0.0], "s": models.SparseVector(indices=[3], values=[2.0])},
                           payload={"g": "x"}),
        models.PointStruct(id=2, vector={"d": [0.5, 0.0], "s": models.SparseVector(indices=[3, 4], values=[1.0, 1.0])},
                           payload={"g": "y"}),
    ])
    reply = _grpc_points(client).SearchGroups(qgrpc.SearchPointGroups(
        collection_name=name, vector=[1.0], sparse_indices=qgrpc.SparseIndices(data=[3]), vector_name="s",
        group_by="g", group_size=1, limit=5), timeout=30)
    assert [(g.id.string_value, g.hits[0].score) for g in reply.result.groups] == [("x", 2.0), ("y", 1.0)]
    status, _, body = call(shared_server.http_port, "POST", f"/collections/{name}/points/search/groups",
                           {"vector": {"name": "d", "vector": [1.0, 0.0]}, "group_by": "g", "group_size": 1,
                            "limit": 1, "with_payload": True})
    assert status == 200, body
    assert body["result"]["groups"] == [{"id": "x", "hits": [{"id": 1, "version": 0, "score": 1.0,
                                                              "payload": {"g": "x"}}]}]


def test_legacy_recommend_groups(clients, shared_server, spec_collection):
    reply = _grpc_points(clients["grpc"]).RecommendGroups(qgrpc.RecommendPointGroups(
        collection_name=spec_collection, positive=[qgrpc.PointId(num=1)], group_by="k", group_size=1, limit=10,
        with_lookup=qgrpc.WithLookup(collection=spec_collection)), timeout=30)
    got = [[h.id.num for h in g.hits] for g in reply.result.groups]
    assert got == [[2], [2], [4], [8]]
    assert reply.result.groups[2].lookup.id.num == 1
    assert reply.result.groups[2].lookup.payload["n"].integer_value == 1
    status, _, body = call(shared_server.http_port, "POST", f"/collections/{spec_collection}/points/recommend/groups",
                           {"positive": [[1.0, 0.0]], "negative": [[0.0, 1.0]], "strategy": "best_score",
                            "group_by": "k", "group_size": 1, "limit": 2})
    assert status == 200, body
    assert [g["id"] for g in body["result"]["groups"]] == ["a", "b"]


# ------------------------------------------------------------------ errors


def _refusal(door: str, call_it) -> tuple[object, str]:
    if door == "grpc":
        with pytest.raises(grpc.RpcError) as info:
            call_it()
        return info.value.code(), info.value.details()
    with pytest.raises(UnexpectedResponse) as info:
        call_it()
    return info.value.status_code, json.loads(info.value.content)["status"]["error"]


def test_errors(clients, door, spec_collection):
    client = clients[door]
    code, message = _refusal(door, lambda: client.query_points_groups(spec_collection, group_by="k", group_size=0,
                                                                      query=[1.0, 0.0]))
    assert code in (grpc.StatusCode.INVALID_ARGUMENT, 422) and "group_size" in message
    code, message = _refusal(door, lambda: client.query_points_groups(spec_collection, group_by="k", limit=0,
                                                                      query=[1.0, 0.0]))
    assert code in (grpc.StatusCode.INVALID_ARGUMENT, 422) and "limit" in message
    code, message = _refusal(door, lambda: client.query_points_groups(spec_collection, group_by="k", query=[1.0, 0.0],
                                                                      with_lookup="groups_no_such_collection"))
    assert code in (grpc.StatusCode.NOT_FOUND, 404) and "groups_no_such_collection" in message
    code, message = _refusal(door, lambda: client.query_points_groups("groups_missing", group_by="k"))
    assert code in (grpc.StatusCode.NOT_FOUND, 404)
    code, message = _refusal(door, lambda: client.query_points_groups(spec_collection, group_by="a..b"))
    assert code in (grpc.StatusCode.INVALID_ARGUMENT, 400)
    code, message = _refusal(door, lambda: client.query_points_groups(spec_collection, group_by="k", query=[1.0]))
    assert code in (grpc.StatusCode.INVALID_ARGUMENT, 400) and "dim" in message


def test_rest_shapes(shared_server, spec_collection):
    port = shared_server.http_port
    status, _, body = call(port, "POST", f"/collections/{spec_collection}/points/query/groups",
                           {"query": [1.0, 0.0], "group_by": "k", "group_size": 1, "limit": 1,
                            "with_lookup": {"collection": spec_collection, "with_vector": True}})
    assert status == 200, body
    assert body["result"] == {"groups": [{"id": "a", "hits": [{"id": 1, "version": 0, "score": 10.0}]}]}
    status, _, body = call(port, "POST", f"/collections/{spec_collection}/points/query/groups",
                           {"query": [1.0, 0.0], "group_by": "k", "offset": 1})
    assert status == 400 and "offset" in body["status"]["error"], body
    status, _, body = call(port, "POST", f"/collections/{spec_collection}/points/query/groups", {"query": [1.0, 0.0]})
    assert status == 400 and "group_by" in body["status"]["error"], body
    status, _, body = call(port, "POST", f"/collections/{spec_collection}/points/query/groups",
                           {"group_by": "n", "limit": 1, "with_lookup": spec_collection})
    assert status == 200, body
    assert body["result"]["groups"][0]["lookup"] == {"id": 1, "payload": {"k": "a", "n": 1}}


# ------------------------------------------------------------------ strict mode


def test_strict_mode(clients, door):
    client = clients[door]
    name = _fresh(client, f"groups_strict_{door}", strict_mode_config=models.StrictModeConfig(
        enabled=True, unindexed_filtering_retrieve=False, max_query_limit=6))
    client.upsert(name, points=[models.PointStruct(id=1, vector=[1.0, 0.0], payload={"g": "x", "loc": {"lat": 1,
                                                                                                        "lon": 2}})])
    _, message = _refusal(door, lambda: client.query_points_groups(name, group_by="g", query=[1.0, 0.0]))
    assert message == ('Bad request: Index required but not found for "g". '
                       'Help: Create an index supporting `match` for this key.')
    client.create_payload_index(name, "loc", models.PayloadSchemaType.GEO)
    _, message = _refusal(door, lambda: client.query_points_groups(name, group_by="loc", query=[1.0, 0.0]))
    assert message == ('Bad request: Index of type "Geo" found for "loc". '
                       'Help: Create an index supporting `match` for this key.')
    client.create_payload_index(name, "g", models.PayloadSchemaType.KEYWORD)
    _, message = _refusal(door, lambda: client.query_points_groups(name, group_by="g", query=[1.0, 0.0], limit=3))
    assert message == ('Bad request: Limit exceeded 9 > 6 for "limit". '
                       'Help: Reduce the "limit" parameter to or below 6.')
    result = client.query_points_groups(name, group_by="g", query=[1.0, 0.0], limit=2)
    assert [g.id for g in result.groups] == ["x"]
