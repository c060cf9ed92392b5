"""The REST door: the Qdrant Inference seed flow over plain HTTP, Qdrant's envelopes and
status codes, the operations endpoints, and one store seen through both doors."""

from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families
from qdrant_client import models

from conftest import make_client
from rest_http import call

MINILM = "sentence-transformers/all-minilm-l6-v2"
COOKIES = "Recipe for baking chocolate chip cookies"


@pytest.fixture(scope="module")
def port(shared_server) -> int:
    return shared_server.http_port


def test_seed_flow_over_http_matches_the_grpc_door(port, shared_server):
    """The Qdrant Inference page's requests, as curl sends them."""
    status, _, body = call(port, "PUT", "/collections/recipes", {
        "vectors": {"dense": {"size": 384, "distance": "Cosine"}},
        "sparse_vectors": {"bm25": {"modifier": "idf"}},
    })
    assert (status, body["result"], body["status"]) == (200, True, "ok")
    status, _, body = call(port, "PUT", "/collections/recipes/points?wait=true", {"points": [{
        "id": 1,
        "vector": {"dense": {"text": COOKIES, "model": MINILM}, "bm25": {"text": COOKIES, "model": "qdrant/bm25"}},
        "payload": {"topic": "cooking"},
    }]})
    assert status == 200, body
    assert body["result"]["status"] == "completed"
    assert body["usage"]["inference"]["models"][MINILM]["tokens"] > 0
    status, _, body = call(port, "POST", "/collections/recipes/points/query", {
        "query": {"text": "How to bake cookies?", "model": MINILM}, "using": "dense", "with_payload": True,
    })
    assert status == 200, body
    (hit,) = body["result"]["points"]
    assert hit["id"] == 1 and hit["payload"] == {"topic": "cooking"} and hit["version"] == 0
    assert 0.5 < hit["score"] <= 1.0

    # The same document through the gRPC door, into point 2: the stored BM25 vectors agree.
    client = make_client(shared_server, cloud_inference=True)
    client.upsert("recipes", points=[models.PointStruct(id=2, vector={
        "dense": models.Document(text=COOKIES, model=MINILM),
        "bm25": models.Document(text=COOKIES, model="qdrant/bm25"),
    })])
    status, _, body = call(port, "POST", "/collections/recipes/points", {"ids": [1, 2], "with_vector": True})
    assert status == 200, body
    by_id = {r["id"]: r["vector"] for r in body["result"]}
    assert by_id[1]["bm25"] == by_id[2]["bm25"]
    assert by_id[1]["bm25"]["indices"] == sorted(by_id[1]["bm25"]["indices"])
    assert by_id[1]["dense"] == pytest.approx(by_id[2]["dense"], abs=1e-6)
    (grpc_point,) = client.retrieve("recipes", ids=[1], with_vectors=True)
    assert grpc_point.vector["bm25"].indices == by_id[1]["bm25"]["indices"]
    assert grpc_point.vector["bm25"].values == pytest.approx(by_id[1]["bm25"]["values"])
    client.close()

    status, _, body = call(port, "GET", "/collections/recipes/points/1")
    assert status == 200 and set(body["result"]["vector"]) == {"dense", "bm25"}
    assert body["result"]["payload"] == {"topic": "cooking"}


def test_unnamed_document_and_batch_form(port):
    call(port, "PUT", "/collections/unnamed_docs", {"vectors": {"size": 384, "distance": "Cosine"}})
    status, _, body = call(port, "PUT", "/collections/unnamed_docs/points?wait=true", {"batch": {
        "ids": [1, 2], "vectors": [{"text": "red apples", "model": MINILM}, {"text": "fast cars", "model": MINILM}],
        "payloads": [{"k": "fruit"}, None],
    }})
    assert status == 200, body
    status, _, body = call(port, "POST", "/collections/unnamed_docs/points/query", {
        "prefetch": {"query": {"text": "automobiles", "model": MINILM}, "limit": 2},
        "query": {"text": "automobiles", "model": MINILM}, "limit": 1,
    })
    assert status == 200, body
    assert [p["id"] for p in body["result"]["points"]] == [2]
    status, _, body = call(port, "POST", "/collections/unnamed_docs/points", {"ids": [1], "with_vector": True,
                                                                               "with_payload": True})
    assert isinstance(body["result"][0]["vector"], list) and len(body["result"][0]["vector"]) == 384
    assert body["result"][0]["payload"] == {"k": "fruit"}


@pytest.fixture(scope="module")
def small(port) -> str:
    call(port, "PUT", "/collections/small", {"vectors": {"size": 4, "distance": "Dot"}})
    status, _, body = call(port, "PUT", "/collections/small/points?wait=true", {"points": [
        {"id": i, "vector": [1.0, float(i), 0.0, 0.0], "payload": {"i": i}} for i in range(10)
    ]})
    assert status == 200, body
    return "small"


@pytest.mark.parametrize("method, path, body, status, prefix", [
    ("POST", "/collections/small/points/query", None, 400, "Format error in JSON body"),
    ("POST", "/collections/small/points/query", {"query": [1, 0, 0, 0], "limit": 0}, 422,
     "Validation error in JSON body: [limit:"),
    ("POST", "/collections/small/points/query", {"query": [1, 0, 0], "limit": 1}, 400,
     "Wrong input: Vector dimension error: expected dim: 4, got 3"),
    ("POST", "/collections/small/points/query", {"query": [1, 0, 0, 0], "using": "nope"}, 400,
     "Wrong input: Not existing vector name error: nope"),
    ("POST", "/collections/small/points/query", {"query": [1, 0, 0, 0], "limits": 3}, 400,
     "Format error in JSON body: limits: unknown field `limits`"),
    ("POST", "/collections/small/points/query", {"query": {"text": {"query": "hello"}}}, 501,
     "Not implemented: the `text` query"),
    ("POST", "/collections/small/points/query", {"query": 999}, 404, "Not found: No point with id 999 found"),
    ("POST", "/collections/missing/points/query", {"query": [1, 0, 0, 0]}, 404,
     "Not found: Collection `missing` doesn't exist!"),
    ("PUT", "/collections/small", {"vectors": {"size": 4, "distance": "Dot"}}, 409,
     "Wrong input: Collection `small` already exists!"),
    ("PUT", "/collections/bad", {"vectors": {"size": 4, "distance": "cosine"}}, 400,
     "Format error in JSON body: vectors.distance"),
    ("PUT", "/collections/bad", {"vectors": {"size": 0, "distance": "Dot"}}, 422,
     "Validation error in JSON body: [vectors.size:"),
    ("PUT", "/collections/small/points", {"points": [{"id": -1, "vector": [1, 0, 0, 0]}]}, 400,
     'Format error in JSON body: points[0].id: value "-1" is not a valid point ID'),
    ("PUT", "/collections/small/points", {"points": [{"id": "5", "vector": [1, 0, 0, 0]}]}, 400,
     'Format error in JSON body: points[0].id: value "5" is not a valid point ID'),
    ("PUT", "/collections/small/points", {"points": [{"id": 1, "vector": [[1, 0], [0, 1]]}]}, 400,
     "Wrong input: Conversion between multi and regular vectors failed"),
    ("PUT", "/collections/small/points", {"pts": []}, 400, "Format error in JSON body: body: Invalid PointInsertOperations"),
    ("POST", "/collections/small/points/payload", {"payload": {"a": 1}}, 400,
     "Bad request: Either list of point ids or filter must be provided"),
    ("GET", "/collections/small/points/77", None, 404, "Not found: Point with id 77 does not exists!"),
    ("GET", "/collections/small/points/abc", None, 400, "Format error in JSON body: id:"),
    ("GET", "/collections/small/shards", None, 501, "Not implemented: shard keys"),
    ("POST", "/collections/small/points/query?timeout=0", {"query": [1, 0, 0, 0]}, 400,
     "Deserialize error in query parameters: `timeout`"),
    ("POST", "/collections/small/points/query", {"query": [1, 0, 0, 0], "filter": {"must": [{"key": "i"}]}}, 422,
     "Validation error in JSON body: [filter.must[0]: At least one field condition must be specified"),
    ("POST", "/collections/small/points/query", {"query": {"text": "x", "model": "no/such-model"}}, 400,
     "Unknown model `no/such-model`"),
])
def test_errors_use_qdrant_codes_and_name_the_field(port, small, method, path, body, status, prefix):
    got, _, answer = call(port, method, path, body, raw=b"{not json" if body is None and method == "POST" else None)
    assert got == status, answer
    assert answer["status"]["error"].startswith(prefix), answer["status"]["error"]
    assert isinstance(answer["time"], float) and "result" not in answer


def test_rejected_requests_change_nothing(port, small):
    before = call(port, "POST", "/collections/small/points/scroll", {"limit": 100, "with_vector": True})[2]["result"]
    status, _, _ = call(port, "POST", "/collections/small/points/batch", {"operations": [
        {"upsert": {"points": [{"id": 50, "vector": [1, 1, 1, 1]}]}},
        {"delete": {"points": [1, 2]}},
        {"upsert": {"points": [{"id": 51, "vector": [1, 1, 1]}]}},
    ]})
    assert status == 400
    status, _, _ = call(port, "PUT", "/collections/small/points", {"points": [
        {"id": 60, "vector": [1, 1, 1, 1]}, {"id": 61, "vector": [1, 1, 1, 1], "payload": []}]})
    assert status == 400
    after = call(port, "POST", "/collections/small/points/scroll", {"limit": 100, "with_vector": True})[2]["result"]
    assert after == before


def test_every_operation_round_trips(port, small):
    ok = lambda r: r[0] == 200 and r[2]["status"] == "ok"  # noqa: E731
    assert ok(call(port, "POST", "/collections/small/points/payload?wait=true",
                   {"payload": {"x": 1}, "points": [1], "key": "nested.inner"}))
    assert call(port, "POST", "/collections/small/points", {"ids": [1], "with_payload": True})[2]["result"][0][
        "payload"] == {"i": 1, "nested": {"inner": {"x": 1}}}
    assert ok(call(port, "PUT", "/collections/small/points/payload", {"payload": {"only": 1}, "points": [2]}))
    assert ok(call(port, "POST", "/collections/small/points/payload/delete", {"keys": ["i"], "filter": {
        "must": [{"key": "i", "range": {"gte": 8}}]}}))
    assert ok(call(port, "POST", "/collections/small/points/payload/clear", {"points": [3]}))
    assert ok(call(port, "PUT", "/collections/small/points/vectors", {"points": [{"id": 4, "vector": [9, 9, 9, 9]}]}))
    assert ok(call(port, "PUT", "/collections/small/index?wait=true", {"field_name": "i", "field_schema": "integer"}))
    info = call(port, "GET", "/collections/small")[2]["result"]
    assert info["payload_schema"]["i"] == {"data_type": "integer", "points": 6}
    assert info["config"]["params"]["vectors"] == {"size": 4, "distance": "Dot"}
    assert ok(call(port, "DELETE", "/collections/small/index/i?wait=true"))
    status, _, body = call(port, "POST", "/collections/small/points/query/batch", {"searches": [
        {"query": [0, 1, 0, 0], "limit": 2}, {"query": [0, 1, 0, 0], "limit": 1, "filter": {
            "must": {"key": "i", "match": {"any": [5, 6]}}}, "with_payload": ["i"]}]})
    assert status == 200
    assert [p["id"] for p in body["result"][0]["points"]] == [4, 9]
    assert body["result"][1]["points"][0]["payload"] == {"i": 6}
    status, _, body = call(port, "POST", "/collections/small/points/scroll", {"limit": 3, "offset": 2})
    assert [r["id"] for r in body["result"]["points"]] == [2, 3, 4] and body["result"]["next_page_offset"] == 5
    assert call(port, "POST", "/collections/small/points/count", {"exact": True})[2]["result"] == {"count": 10}
    assert ok(call(port, "POST", "/collections/small/points/delete?wait=true", {"points": [0, 1]}))
    assert ok(call(port, "POST", "/collections/small/points/vectors/delete", {"vector": [""], "points": [9]}))
    status, _, body = call(port, "POST", "/collections/small/points/count", {"filter": {
        "must": {"has_vector": ""}}})
    assert body["result"]["count"] == 7
    assert ok(call(port, "PATCH", "/collections/small", {"optimizers_config": {"indexing_threshold": 0},
                                                          "metadata": {"owner": "tests"}}))
    info = call(port, "GET", "/collections/small")[2]["result"]
    assert info["config"]["optimizer_config"]["indexing_threshold"] == 0
    assert info["config"]["metadata"] == {"owner": "tests"}


def test_collections_list_exists_delete(port):
    call(port, "PUT", "/collections/temp", {})
    assert {"name": "temp"} in call(port, "GET", "/collections")[2]["result"]["collections"]
    assert call(port, "GET", "/collections/temp/exists")[2]["result"] == {"exists": True}
    assert call(port, "DELETE", "/collections/temp")[2]["result"] is True
    assert call(port, "DELETE", "/collections/temp")[2]["result"] is False
    assert call(port, "GET", "/collections/temp/exists")[2]["result"] == {"exists": False}


def test_operations_endpoints(port):
    assert call(port, "GET", "/healthz")[:1] == (200,)
    assert call(port, "GET", "/livez")[:1] == (200,)
    status, _, text = call(port, "GET", "/readyz")
    assert status == 200 and text == "all shards are ready"
    assert call(port, "GET", "/")[2]["version"] == "1.20.0"


def _metrics(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, headers, text = call(port, "GET", "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_parse_and_move(port, shared_server):
    call(port, "PUT", "/collections/metered", {"vectors": {"size": 2, "distance": "Dot"}})
    before = _metrics(port)
    for _ in range(3):
        call(port, "PUT", "/collections/metered/points?wait=true",
             {"points": [{"id": 1, "vector": {"text": "x", "model": "qdrant/bm25"}}]})  # unnamed is dense: 400
        call(port, "PUT", "/collections/metered/points", {"points": [{"id": 2, "vector": [1, 2]}]})
        call(port, "POST", "/collections/metered/points/query", {"query": [1, 0]})
        call(port, "POST", "/collections/metered/points/query", raw=b"{oops")
    client = make_client(shared_server)
    client.query_points("metered", query=[1.0, 0.0])
    client.close()
    after = _metrics(port)

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert moved("vecinfer_requests_total", door="rest", operation="upsert", outcome="ok") == 3
    assert moved("vecinfer_requests_total", door="rest", operation="upsert", outcome="InvalidArgument") == 3
    assert moved("vecinfer_requests_total", door="rest", operation="query", outcome="ok") == 3
    assert moved("vecinfer_requests_total", door="grpc", operation="query", outcome="ok") == 1
    assert moved("vecinfer_request_duration_seconds_count", door="rest", operation="query") == 3
    assert moved("vecinfer_rejected_requests_total", door="rest", status="400") == 3
    assert moved("vecinfer_inference_calls_total", backend="qdrant/bm25", outcome="ok") == 3
    assert after[("vecinfer_collection_points", (("collection", "metered"),))] == 1
    assert after[("collections_total", ())] >= 1
    assert after[("vecinfer_ready", ())] == 1


@pytest.mark.parametrize("path, body, field", [
    ("/collections/small/points/query", {"query": [1, 0, 0, 0], "limit": 10**9}, "limit"),
    ("/collections/small/points/query", {"query": [1, 0, 0, 0], "offset": 10**9}, "offset"),
    ("/collections/small/points/query", {"query": [1, 0, 0, 0], "params": {"hnsw_ef": 2**31 - 1}}, "params.hnsw_ef"),
    ("/collections/small/points/scroll", {"limit": 10**9}, "limit"),
    ("/collections/small/points/count", {"filter": {"must": [{"must": [{"must": [
        {"key": "i", "match": {"value": 1}}]}]}]}}, None),
    ("/collections/small/points/query", {"query": [1, 0, 0, 0], "filter": json.loads(
        '{"must": [' * 70 + '{"key": "i", "match": {"value": 1}}' + ']}' * 70)}, "filter nesting depth"),
    ("/collections/toobig", {"vectors": {"size": 4, "distance": "Dot"}, "hnsw_config": {"m": 100000}},
     "hnsw_config.m"),
    ("/collections/toobig", {"vectors": {"size": 4, "distance": "Dot"}, "hnsw_config": {"ef_construct": 10**7}},
     "hnsw_config.ef_construct"),
])
def test_bounds_are_checked_before_work(port, small, path, body, field):
    method = "PUT" if path.count("/") == 2 else "POST"
    status, _, answer = call(port, method, path, body)
    if field is None:
        assert status == 200, answer
        return
    assert status == 422, answer
    assert answer["status"]["error"].startswith(f"Validation error in JSON body: [{field}:"), answer
    assert "VECINFER_MAX_" in answer["status"]["error"]


def test_error_messages_echo_only_a_prefix(port, small):
    long_name = "x" * 5000
    status, _, answer = call(port, "POST", "/collections/small/points/query",
                             {"query": {"text": "q", "model": long_name}})
    assert status == 400 and len(answer["status"]["error"]) < 400
    status, _, answer = call(port, "POST", "/collections/small/points", {"ids": ["y" * 100000]})
    assert status == 400 and len(answer["status"]["error"]) < 400


@pytest.mark.parametrize("method, path, body, status, prefix", [
    ("POST", "/collections/small/points/count?wait=maybe", {}, 400, "Deserialize error in query parameters: `wait`"),
    ("POST", "/collections/small/points/count?consistency=some", {}, 400,
     "Deserialize error in query parameters: `consistency`"),
    ("POST", "/collections/small/points/count?ordering=fast", {}, 400, "Deserialize error in query parameters: `ordering`"),
    ("PUT", "/collections/sharded", {"sharding_method": "custom"}, 501, "Not implemented: custom sharding"),
    ("PUT", "/collections/bytes", {"vectors": {"size": 4, "distance": "Dot", "datatype": "uint8"}}, 501,
     "Not implemented: the vector datatype 'uint8'"),
])
def test_query_parameters_and_unsupported_settings(port, small, method, path, body, status, prefix):
    got, _, answer = call(port, method, path, body)
    assert got == status, answer
    assert answer["status"]["error"].startswith(prefix), answer


def test_body_over_the_limit_is_400_and_changes_nothing(server_factory):
    server = server_factory(env={"VECINFER_REST_MAX_REQUEST_MB": "1"}).start()
    port = server.http_port
    call(port, "PUT", "/collections/big", {"vectors": {"size": 4, "distance": "Dot"}})
    status, _, answer = call(port, "PUT", "/collections/big/points", {"points": [
        {"id": 1, "vector": [1, 0, 0, 0], "payload": {"blob": "x" * (2 << 20)}}]})
    assert status == 400, answer
    assert "VECINFER_REST_MAX_REQUEST_MB" in answer["status"]["error"]
    assert call(port, "POST", "/collections/big/points/count", {})[2]["result"] == {"count": 0}
