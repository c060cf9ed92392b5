"""Strict mode end to end through qdrant-client 1.20, both doors: the collection's limits refuse
requests with Qdrant's messages (gRPC INVALID_ARGUMENT / REST 400 `Bad request: ...`; rate
limits RESOURCE_EXHAUSTED / 429 with a retry-after), and a refused write stores nothing."""

from __future__ import annotations

import json
import re

import grpc
import pytest
from qdrant_client import models
from qdrant_client.common.client_exceptions import ResourceExhaustedResponse
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import make_client
from rest_http import call

DOORS = ("grpc", "rest")
VECTOR = [0.1, 0.2, 0.3, 0.4]


@pytest.fixture(scope="module")
def clients(shared_server):
    made = {"grpc": make_client(shared_server), "rest": make_client(shared_server, prefer_grpc=False)}
    yield made
    for client in made.values():
        client.close()


@pytest.fixture(params=DOORS)
def door(request):
    return request.param


def collection(clients, door: str, name: str, **strict) -> str:
    """A fresh collection `name_door` with strict mode on and the given limits."""
    client = clients[door]
    full = f"{name}_{door}"
    client.delete_collection(full)
    client.create_collection(
        full, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
        strict_mode_config=models.StrictModeConfig(enabled=True, **strict))
    return full


def refused(door: str, call_it) -> str:
    """The message of a strict-mode refusal, checked to come as Qdrant sends it."""
    if door == "grpc":
        with pytest.raises(grpc.RpcError) as info:
            call_it()
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value.details()
        return info.value.details()
    with pytest.raises(UnexpectedResponse) as info:
        call_it()
    assert info.value.status_code == 400, info.value.content
    return json.loads(info.value.content)["status"]["error"]


def limit_message(value, limit, name: str) -> str:
    return (f'Bad request: Limit exceeded {value} > {limit} for "{name}". '
            f'Help: Reduce the "{name}" parameter to or below {limit}.')


def points(*ids: int, payload: dict | None = None) -> list[models.PointStruct]:
    return [models.PointStruct(id=i, vector=VECTOR, payload=payload or {"city": "Berlin"}) for i in ids]


def stored(clients, door: str, name: str) -> int:
    return clients[door].count(name, exact=False).count


def key_filter(key: str, value) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key=key, match=models.MatchValue(value=value))])


# ------------------------------------------------------------------ limits


def test_query_limit_counts_query_prefetch_and_scroll_limits(clients, door):
    client = clients[door]
    name = collection(clients, door, "limit", max_query_limit=5)
    client.upsert(name, points=points(1, 2))
    assert refused(door, lambda: client.query_points(name, query=VECTOR, limit=6)) == limit_message(6, 5, "limit")
    assert refused(door, lambda: client.query_points(
        name, prefetch=[models.Prefetch(query=VECTOR, limit=7)], query=models.FusionQuery(fusion=models.Fusion.RRF),
        limit=3)) == limit_message(7, 5, "limit")
    # A prefetch's own default limit is 10.
    assert refused(door, lambda: client.query_points(
        name, prefetch=[models.Prefetch(query=VECTOR)], query=models.FusionQuery(fusion=models.Fusion.RRF),
        limit=3)) == limit_message(10, 5, "limit")
    assert refused(door, lambda: client.scroll(name, limit=6)) == limit_message(6, 5, "limit")
    # Within the limit, and the offset is not counted.
    assert len(client.query_points(name, query=VECTOR, limit=5).points) == 2
    assert client.query_points(name, query=VECTOR, limit=5, offset=100).points == []
    assert len(client.scroll(name, limit=5)[0]) == 2


def test_disabled_strict_mode_enforces_nothing(clients, door):
    client = clients[door]
    name = f"disabled_{door}"
    client.delete_collection(name)
    client.create_collection(name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
                             strict_mode_config=models.StrictModeConfig(enabled=False, max_query_limit=1,
                                                                        upsert_max_batchsize=1))
    client.upsert(name, points=points(1, 2, 3))
    assert len(client.query_points(name, query=VECTOR, limit=3).points) == 3


def test_refused_upserts_and_vector_updates_store_nothing(clients, door):
    client = clients[door]
    name = collection(clients, door, "batch", upsert_max_batchsize=2)
    assert refused(door, lambda: client.upsert(name, points=points(1, 2, 3))) == limit_message(3, 2, "upsert limit")
    assert stored(clients, door, name) == 0
    client.upsert(name, points=points(1, 2))
    updates = [models.PointVectors(id=i, vector=[1.0, 0, 0, 0]) for i in (1, 2, 1)]
    assert refused(door, lambda: client.update_vectors(name, points=updates)) == limit_message(3, 2, "update limit")
    (record,) = client.retrieve(name, ids=[1], with_vectors=True)
    assert record.vector == pytest.approx(VECTOR)
    # A batch is checked operation by operation, and refused whole.
    batch = [models.UpsertOperation(upsert=models.PointsList(points=points(5, 6))),
             models.UpsertOperation(upsert=models.PointsList(points=points(7, 8, 9)))]
    assert refused(door, lambda: client.batch_update_points(name, batch)) == limit_message(3, 2, "upsert limit")
    assert stored(clients, door, name) == 2


def test_search_params_and_batch_size(clients, door):
    client = clients[door]
    name = collection(clients, door, "params", search_max_hnsw_ef=64, search_allow_exact=False, search_max_batchsize=2)
    client.upsert(name, points=points(1))
    assert refused(door, lambda: client.query_points(name, query=VECTOR, search_params=models.SearchParams(
        hnsw_ef=65))) == limit_message(65, 64, "hnsw_ef")
    assert refused(door, lambda: client.query_points(name, query=VECTOR, search_params=models.SearchParams(
        exact=True))) == "Bad request: Exact search disabled!. Help: Set exact=false."
    assert len(client.query_points(name, query=VECTOR, search_params=models.SearchParams(hnsw_ef=64)).points) == 1
    requests = [models.QueryRequest(query=VECTOR, limit=1)] * 3
    assert refused(door, lambda: client.query_batch_points(name, requests)) == \
        limit_message(3, 2, "search batch size")
    assert len(client.query_batch_points(name, requests[:2])) == 2


def test_unindexed_filtering(clients, door):
    client = clients[door]
    name = collection(clients, door, "unindexed", unindexed_filtering_retrieve=False,
                      unindexed_filtering_update=False)
    client.create_payload_index(name, "city", models.PayloadSchemaType.KEYWORD)
    client.create_payload_index(name, "n", models.PayloadSchemaType.INTEGER)
    client.upsert(name, points=points(1, 2, payload={"city": "Berlin", "color": "red", "n": 1}))
    message = ('Bad request: Index required but not found for "color" of one of the following types: [keyword]. '
               "Help: Create an index for this key or use a different filter.")
    assert refused(door, lambda: client.query_points(name, query=VECTOR, query_filter=key_filter("color", "red"))) \
        == message
    assert refused(door, lambda: client.scroll(name, scroll_filter=key_filter("color", "red"))) == message
    assert refused(door, lambda: client.count(name, count_filter=key_filter("color", "red"), exact=False)) == message
    assert refused(door, lambda: client.query_points(
        name, prefetch=[models.Prefetch(query=VECTOR, filter=key_filter("color", "red"), limit=2)],
        query=models.FusionQuery(fusion=models.Fusion.RRF))) == message
    # An integer index cannot serve a string match; a range wants float or integer.
    assert "for \"n\" of one of the following types: [keyword]" in refused(
        door, lambda: client.count(name, count_filter=key_filter("n", "one"), exact=False))
    assert "for \"city\" of one of the following types: [float, integer]" in refused(
        door, lambda: client.count(name, count_filter=models.Filter(must=[
            models.FieldCondition(key="city", range=models.Range(gte=1))]), exact=False))
    assert len(client.query_points(name, query=VECTOR, query_filter=key_filter("city", "Berlin")).points) == 2
    # Update filters: refused before anything changes; upsert's update_filter is not checked.
    assert refused(door, lambda: client.delete(name, points_selector=models.FilterSelector(
        filter=key_filter("color", "red")))) == message
    assert refused(door, lambda: client.set_payload(name, payload={"x": 1}, points=key_filter("color", "red"))) \
        == message
    assert refused(door, lambda: client.clear_payload(name, points_selector=key_filter("color", "red"))) == message
    assert stored(clients, door, name) == 2
    client.upsert(name, points=points(1, payload={"city": "Paris"}), update_filter=key_filter("color", "red"))
    client.delete(name, points_selector=models.FilterSelector(filter=key_filter("city", "Paris")))
    assert stored(clients, door, name) == 1


def test_nested_keys_need_an_index_on_outer_array_inner(clients, door):
    client = clients[door]
    name = collection(clients, door, "nested", unindexed_filtering_retrieve=False)
    nested = models.Filter(must=[models.NestedCondition(nested=models.Nested(key="items", filter=key_filter("sku", "a")))])
    assert 'not found for "items[].sku" of one of the following types: [keyword]' in refused(
        door, lambda: client.count(name, count_filter=nested, exact=False))
    client.create_payload_index(name, "items[].sku", models.PayloadSchemaType.KEYWORD)
    assert client.count(name, count_filter=nested, exact=False).count == 0


def test_filter_sizes(clients, door):
    client = clients[door]
    name = collection(clients, door, "fsize", filter_max_conditions=2, condition_max_size=3)
    many = models.Filter(must=[models.FieldCondition(key="a", match=models.MatchValue(value=i)) for i in range(3)])
    assert refused(door, lambda: client.query_points(name, query=VECTOR, query_filter=many)) == (
        "Bad request: Filter condition limit reached (3 > 2). Help: Reduce the amount of conditions of your filter.")
    big = models.Filter(must=[models.FieldCondition(key="a", match=models.MatchAny(any=[1, 2, 3, 4]))])
    assert refused(door, lambda: client.delete(name, points_selector=models.FilterSelector(filter=big))) == (
        "Bad request: Condition size limit reached (4 > 3). Help: Reduce the size of your condition.")
    assert refused(door, lambda: client.count(name, count_filter=models.Filter(must=[
        models.HasIdCondition(has_id=[1, 2, 3, 4])]), exact=False)).startswith("Bad request: Condition size limit")
    assert client.count(name, count_filter=models.Filter(must=[models.HasIdCondition(has_id=[1, 2, 3])]),
                        exact=False).count == 0


def test_collection_size_limits(clients, door):
    client = clients[door]
    name = collection(clients, door, "npoints", max_points_count=2)
    client.upsert(name, points=points(1, 2))
    assert refused(door, lambda: client.upsert(name, points=points(3))) == \
        "Bad request: Max points count limit of 2 reached!"
    assert stored(clients, door, name) == 2
    client.delete(name, points_selector=models.PointIdsList(points=[2]))  # deletes are never refused for size
    client.upsert(name, points=points(3))

    name = collection(clients, door, "vbytes", max_collection_vector_size_bytes=32)  # two 4-dim float vectors
    client.upsert(name, points=points(1, 2))
    assert refused(door, lambda: client.upsert(name, points=points(3))) == \
        "Bad request: Max vector storage size limit of 0.000030517578MB reached!"

    name = collection(clients, door, "pbytes", max_collection_payload_size_bytes=1000)
    client.upsert(name, points=points(1, payload={"text": "x" * 1000}))
    message = "Bad request: Max payload storage size limit of 0.0009536743MB reached!"
    assert refused(door, lambda: client.upsert(name, points=points(2))) == message
    assert refused(door, lambda: client.set_payload(name, payload={"a": 1}, points=[1])) == message
    assert refused(door, lambda: client.overwrite_payload(name, payload={"a": 1}, points=[1])) == message
    assert stored(clients, door, name) == 1
    client.clear_payload(name, points_selector=[1])
    client.set_payload(name, payload={"a": 1}, points=[1])


def test_sparse_max_length(clients, door):
    client = clients[door]
    name = f"sparse_{door}"
    client.delete_collection(name)
    client.create_collection(name, vectors_config={}, sparse_vectors_config={"s": models.SparseVectorParams()},
                             strict_mode_config=models.StrictModeConfig(
                                 enabled=True, sparse_config={"s": models.StrictModeSparse(max_length=2)}))
    long = models.SparseVector(indices=[1, 2, 3], values=[1.0, 1.0, 1.0])
    assert refused(door, lambda: client.upsert(name, points=[models.PointStruct(id=1, vector={"s": long})])) \
        == "Bad request: Sparse vector 's' has a limit of 2 indices, but 3 were provided!"
    assert stored(clients, door, name) == 0
    client.upsert(name, points=[models.PointStruct(id=1, vector={"s": models.SparseVector(indices=[1, 2],
                                                                                          values=[1.0, 1.0])})])
    assert refused(door, lambda: client.update_vectors(name, points=[models.PointVectors(id=1, vector={"s": long})])) \
        == "Bad request: Sparse vector 's' has a limit of 2 indices, but 3 were provided!"


def test_max_payload_index_count(clients, door):
    client = clients[door]
    name = collection(clients, door, "nindex", max_payload_index_count=1)
    client.create_payload_index(name, "a", models.PayloadSchemaType.KEYWORD)
    assert refused(door, lambda: client.create_payload_index(name, "b", models.PayloadSchemaType.KEYWORD)) == (
        "Bad request: Collection already has the maximum number of payload indices (1). "
        "Help: Please delete an existing index before creating a new one.")
    assert set(client.get_collection(name).payload_schema) == {"a"}
    client.delete_payload_index(name, "a")
    client.create_payload_index(name, "b", models.PayloadSchemaType.KEYWORD)


def test_strict_mode_switched_on_later(clients, door):
    client = clients[door]
    name = f"later_{door}"
    client.delete_collection(name)
    client.create_collection(name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    client.upsert(name, points=points(1, 2, 3))
    client.update_collection(name, strict_mode_config=models.StrictModeConfig(enabled=True, max_query_limit=2))
    assert refused(door, lambda: client.query_points(name, query=VECTOR, limit=3)) == limit_message(3, 2, "limit")
    client.update_collection(name, strict_mode_config=models.StrictModeConfig(enabled=False))
    assert len(client.query_points(name, query=VECTOR, limit=3).points) == 3


# ------------------------------------------------------------------ rate limits

RATE_MESSAGE = re.compile(r"Rate limiting exceeded: (Read|Write) rate limit exceeded: Operation requires (\d+) tokens "
                          r"but only (\d+\.\d) were available\. Retry after (\d+)s")


def test_read_rate_limit(clients, door):
    client = clients[door]
    name = collection(clients, door, "rread", read_rate_limit=3)
    client.scroll(name)
    client.query_points(name, query=VECTOR)
    client.retrieve(name, ids=[1])
    with pytest.raises(ResourceExhaustedResponse) as info:
        client.query_points(name, query=VECTOR)
    match = RATE_MESSAGE.fullmatch(info.value.message)
    assert match and match.group(1) == "Read" and match.group(2) == "1", info.value.message
    assert 1 <= info.value.retry_after_s <= 20 and match.group(4) == str(info.value.retry_after_s)


def test_write_rate_limit_refuses_before_storing(clients, door):
    client = clients[door]
    name = collection(clients, door, "rwrite", write_rate_limit=3)
    client.upsert(name, points=points(1, 2))
    with pytest.raises(ResourceExhaustedResponse) as info:
        client.upsert(name, points=points(3, 4))
    match = RATE_MESSAGE.fullmatch(info.value.message)
    assert match and match.groups()[:2] == ("Write", "2"), info.value.message
    assert stored(clients, door, name) == 2
    # What can never fit says so, and waiting does not help (no retry-after: a plain error).
    with pytest.raises((UnexpectedResponse, grpc.RpcError)) as never:
        client.upsert(name, points=points(*range(10, 14)))
    if door == "rest":
        assert never.value.status_code == 429
        text = json.loads(never.value.content)["status"]["error"]
    else:
        assert never.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        text = never.value.details()
    assert text == ("Rate limiting exceeded: Write rate limit exceeded, request larger than rate limiter capacity, "
                    "please try to split your request")
    assert stored(clients, door, name) == 2


def test_rest_envelopes_for_refusals(clients, shared_server):
    """Qdrant's REST shapes as curl sees them: 400 `Bad request: ...`, 429 with Retry-After."""
    name = collection(clients, "rest", "envelope", max_query_limit=1, read_rate_limit=1)
    port = shared_server.http_port
    status, _, body = call(port, "POST", f"/collections/{name}/points/query", {"query": VECTOR, "limit": 2})
    assert status == 400 and body["status"]["error"] == limit_message(2, 1, "limit") and "result" not in body
    status, _, body = call(port, "POST", f"/collections/{name}/points/scroll", {"limit": 1})
    assert status == 200, body
    status, headers, body = call(port, "POST", f"/collections/{name}/points/scroll", {"limit": 1})
    assert status == 429 and RATE_MESSAGE.fullmatch(body["status"]["error"]), body
    assert int(headers["Retry-After"]) >= 1


# ------------------------------------------------------------------ settings the doors pass beside the body

def test_max_timeout(clients, door):
    client = clients[door]
    name = collection(clients, door, "timeout", max_timeout=5)
    client.query_points(name, query=VECTOR, timeout=5)
    assert refused(door, lambda: client.query_points(name, query=VECTOR, timeout=6)) == \
        limit_message(6, 5, "timeout")


def test_count_exact_follows_search_allow_exact(clients, door):
    client = clients[door]
    name = collection(clients, door, "cexact", search_allow_exact=False)
    assert client.count(name, exact=False).count == 0
    assert refused(door, lambda: client.count(name, exact=True)) == \
        "Bad request: Exact search disabled!. Help: Set exact=false."


def test_search_max_oversampling(clients, door):
    client = clients[door]
    name = collection(clients, door, "oversampling", search_max_oversampling=2.0)
    params = models.SearchParams(quantization=models.QuantizationSearchParams(oversampling=2.5))
    assert refused(door, lambda: client.query_points(name, query=VECTOR, search_params=params)) == \
        limit_message(2.5, 2, "oversampling")
