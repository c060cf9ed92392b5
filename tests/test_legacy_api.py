"""The legacy Search / Recommend / Discover family (and batches), which older clients and the JS
client still call: the same answers as the Query API, through gRPC stubs and REST paths."""

from __future__ import annotations

import grpc
import pytest
from qdrant_client import grpc as qgrpc
from qdrant_client import models

from conftest import make_client
from rest_http import call

POINTS = {1: [1.0, 0.0], 2: [0.0, 1.0], 3: [1.0, 1.0], 4: [-1.0, 0.5], 5: [0.5, -1.0]}


@pytest.fixture(scope="module")
def legacy(shared_server):
    client = make_client(shared_server)
    client.delete_collection("legacy")
    client.create_collection("legacy", vectors_config={"v": models.VectorParams(size=2, distance=models.Distance.DOT)},
                             sparse_vectors_config={"s": models.SparseVectorParams()})
    client.upsert("legacy", points=[models.PointStruct(
        id=i, vector={"v": v, "s": models.SparseVector(indices=[i], values=[1.0])}, payload={"n": i})
        for i, v in POINTS.items()])
    channel = grpc.insecure_channel(f"127.0.0.1:{shared_server.grpc_port}")
    yield client, qgrpc.PointsStub(channel), shared_server.http_port
    channel.close()
    client.close()


def _ids(result) -> list:
    return [(p.id.num, round(p.score, 5)) for p in result]


def test_search_matches_query(legacy):
    client, stub, port = legacy
    expected = [(p.id, round(p.score, 5)) for p in client.query_points("legacy", query=[1.0, 0.2], using="v",
                                                                        limit=3).points]
    got = stub.Search(qgrpc.SearchPoints(collection_name="legacy", vector=[1.0, 0.2], vector_name="v", limit=3))
    assert _ids(got.result) == expected
    status, _, body = call(port, "POST", "/collections/legacy/points/search",
                           {"vector": {"name": "v", "vector": [1.0, 0.2]}, "limit": 3, "with_payload": True})
    assert status == 200 and [(p["id"], round(p["score"], 5)) for p in body["result"]] == expected
    assert body["result"][0]["payload"] == {"n": expected[0][0]}


def test_search_sparse_and_batch(legacy):
    _, stub, port = legacy
    got = stub.Search(qgrpc.SearchPoints(collection_name="legacy", vector=[2.0], vector_name="s",
                                         sparse_indices=qgrpc.SparseIndices(data=[4]), limit=3))
    assert _ids(got.result) == [(4, 2.0)]
    batch = stub.SearchBatch(qgrpc.SearchBatchPoints(collection_name="legacy", search_points=[
        qgrpc.SearchPoints(collection_name="legacy", vector=[1.0, -1.0], vector_name="v", limit=1),
        qgrpc.SearchPoints(collection_name="legacy", vector=[-1.0, 0.0], vector_name="v", limit=1)]))
    assert [_ids(r.result)[0][0] for r in batch.result] == [5, 4]
    status, _, body = call(port, "POST", "/collections/legacy/points/search/batch", {"searches": [
        {"vector": {"name": "s", "vector": {"indices": [2], "values": [1.0]}}, "top": 2}]})
    assert status == 200 and [[p["id"] for p in r] for r in body["result"]] == [[2]]


def test_recommend_matches_the_spec_example(legacy):
    _, stub, port = legacy
    got = stub.Recommend(qgrpc.RecommendPoints(
        collection_name="legacy", positive=[qgrpc.PointId(num=1)], negative=[qgrpc.PointId(num=4)],
        positive_vectors=[qgrpc.Vector(dense=qgrpc.DenseVector(data=[0.0, 1.0]))], using="v", limit=3,
        strategy=qgrpc.RecommendStrategy.BestScore))
    assert sorted(_ids(got.result), key=lambda x: (-x[1], x[0])) == [(2, 0.75), (3, 0.75), (5, 0.66667)]
    status, _, body = call(port, "POST", "/collections/legacy/points/recommend",
                           {"positive": [1, [0.0, 1.0]], "negative": [4], "using": "v", "limit": 3})
    assert status == 200 and [p["id"] for p in body["result"]][0] == 3
    batch = stub.RecommendBatch(qgrpc.RecommendBatchPoints(collection_name="legacy", recommend_points=[
        qgrpc.RecommendPoints(collection_name="legacy", positive=[qgrpc.PointId(num=3)], using="v", limit=2)]))
    assert 3 not in [p[0] for p in _ids(batch.result[0].result)]


def test_discover(legacy):
    _, stub, port = legacy
    pair = qgrpc.ContextExamplePair(
        positive=qgrpc.VectorExample(vector=qgrpc.Vector(dense=qgrpc.DenseVector(data=[1.0, 0.0]))),
        negative=qgrpc.VectorExample(vector=qgrpc.Vector(dense=qgrpc.DenseVector(data=[0.0, 1.0]))))
    got = stub.Discover(qgrpc.DiscoverPoints(
        collection_name="legacy", target=qgrpc.TargetVector(single=qgrpc.VectorExample(
            vector=qgrpc.Vector(dense=qgrpc.DenseVector(data=[1.0, 1.0])))), context=[pair], using="v", limit=5))
    assert _ids(got.result) == [(1, 1.75), (5, 1.33333), (3, 0.83333), (2, -0.25), (4, -0.66667)]
    status, _, body = call(port, "POST", "/collections/legacy/points/discover/batch", {"searches": [
        {"target": [1.0, 1.0], "context": [{"positive": [1.0, 0.0], "negative": [0.0, 1.0]}], "using": "v",
         "limit": 2}]})
    assert status == 200 and [p["id"] for p in body["result"][0]] == [1, 5]


def test_legacy_errors_are_clear(legacy):
    _, stub, port = legacy
    with pytest.raises(grpc.RpcError) as error:
        stub.Search(qgrpc.SearchPoints(collection_name="legacy", vector=[1.0], vector_name="v", limit=3))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Vector dimension error" in error.value.details()
    status, _, body = call(port, "POST", "/collections/legacy/points/search", {"vector": [1.0, 0.0]})
    assert status == 400 and "limit" in body["status"]["error"]
