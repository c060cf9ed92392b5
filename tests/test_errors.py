"""Bad input gets a clear status, and a rejected request stores nothing."""

from __future__ import annotations

import grpc
import pytest
from qdrant_client import models

DIM = 4


@pytest.fixture(scope="module")
def coll(client):
    name = "errors"
    client.create_collection(name, vectors_config={
        "dense": models.VectorParams(size=DIM, distance=models.Distance.COSINE),
    }, sparse_vectors_config={"kw": models.SparseVectorParams()})
    client.upsert(name, points=[models.PointStruct(id=1, vector={"dense": [1, 0, 0, 0]}, payload={"keep": True})])
    return name


def rpc_error(call):
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


def test_missing_collection_is_not_found(client):
    err = rpc_error(lambda: client.query_points("nope", query=[1, 0, 0, 0]))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert "nope" in err.details()
    err = rpc_error(lambda: client.get_collection("nope"))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = rpc_error(lambda: client.upsert("nope", points=[models.PointStruct(id=1, vector=[1, 2])]))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert client.delete_collection("nope") is False


def test_create_existing_collection(client, coll):
    err = rpc_error(lambda: client.create_collection(coll, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT)))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS


def test_wrong_dimension_names_expected_and_actual(client, coll):
    err = rpc_error(lambda: client.upsert(coll, points=[models.PointStruct(id=2, vector={"dense": [1, 2, 3]})]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "expected dim: 4, got 3" in err.details()
    err = rpc_error(lambda: client.query_points(coll, query=[1, 2], using="dense"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "expected dim: 4, got 2" in err.details()


def test_unknown_vector_name(client, coll):
    err = rpc_error(lambda: client.upsert(coll, points=[models.PointStruct(id=2, vector={"nope": [1, 2, 3, 4]})]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Not existing vector name error: nope" in err.details()
    assert "'dense'" in err.details()  # lists the names that exist
    err = rpc_error(lambda: client.query_points(coll, query=[1, 0, 0, 0], using="nope"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    # An unnamed vector into a collection that only has named ones.
    err = rpc_error(lambda: client.upsert(coll, points=[models.PointStruct(id=2, vector=[1, 2, 3, 4])]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_dense_sparse_mismatch(client, coll):
    err = rpc_error(lambda: client.upsert(coll, points=[models.PointStruct(
        id=2, vector={"kw": [1.0, 2.0, 3.0, 4.0]})]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "sparse" in err.details()
    err = rpc_error(lambda: client.upsert(coll, points=[models.PointStruct(
        id=2, vector={"dense": models.SparseVector(indices=[1], values=[1.0])})]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_batch_with_one_bad_point_stores_nothing(client, coll):
    good = [models.PointStruct(id=i, vector={"dense": [1, i, 0, 0]}) for i in range(10, 20)]
    bad = models.PointStruct(id=99, vector={"dense": [1, 2]})
    err = rpc_error(lambda: client.upsert(coll, points=[*good, bad]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "point 99" in err.details()
    assert client.count(coll).count == 1
    assert client.retrieve(coll, ids=[1])[0].payload == {"keep": True}


def test_batch_update_is_atomic(client, coll):
    err = rpc_error(lambda: client.batch_update_points(coll, update_operations=[
        models.DeleteOperation(delete=models.PointIdsList(points=[1])),
        models.UpdateVectorsOperation(update_vectors=models.UpdateVectors(points=[
            models.PointVectors(id=12345, vector={"dense": [1, 0, 0, 0]})])),
    ]))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert "12345" in err.details()
    assert client.count(coll).count == 1  # the delete did not happen either


def test_query_validation(client, coll):
    err = rpc_error(lambda: client.query_points(coll, query=models.FusionQuery(fusion=models.Fusion.RRF)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "prefetch" in err.details()
    err = rpc_error(lambda: client.query_points(coll, prefetch=[models.Prefetch(query=[1, 0, 0, 0], using="dense")],
                                                query=models.RrfQuery(rrf=models.Rrf(weights=[1.0, 2.0]))))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "got 2, expected 1" in err.details()
    err = rpc_error(lambda: client.query_points(coll, query=777, using="dense"))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert "777" in err.details()


def test_bad_uuid(client, coll):
    err = rpc_error(lambda: client.retrieve(coll, ids=["not-a-uuid"]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not-a-uuid" in err.details()


@pytest.mark.parametrize("call, feature", [
    (lambda c, n: c.count(n, count_filter=models.Filter(must=[models.SliceCondition(
        slice=models.Slice(total=2, index=0))])), "slice"),
], ids=["slice"])
def test_unsupported_features_are_unimplemented_not_invalid(client, coll, call, feature):
    err = rpc_error(lambda: call(client, coll))
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED, err.details()
    assert feature in err.details()


def test_bounds_on_the_grpc_door(client, coll):
    err = rpc_error(lambda: client.query_points(coll, query=[1, 0, 0, 0], using="dense",
                                                search_params=models.SearchParams(hnsw_ef=2**31 - 1)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "params.hnsw_ef" in err.details() and "VECINFER_MAX_HNSW_EF" in err.details()
    err = rpc_error(lambda: client.create_collection("huge_m", vectors_config=models.VectorParams(
        size=2, distance=models.Distance.DOT), hnsw_config=models.HnswConfigDiff(m=100000)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "hnsw_config.m" in err.details()
    assert not client.collection_exists("huge_m")


def test_overwrite_payload_with_a_key_is_refused_not_dropped(client, coll):
    from qdrant_client import grpc as qgrpc

    request = qgrpc.SetPayloadPoints(collection_name=coll, wait=True, key="nested",
                                     payload={"x": qgrpc.Value(integer_value=1)},
                                     points_selector=qgrpc.PointsSelector(points=qgrpc.PointsIdsList(
                                         ids=[qgrpc.PointId(num=1)])))
    err = rpc_error(lambda: client.grpc_points.OverwritePayload(request, timeout=10))
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED and "overwrite_payload" in err.details()
    assert client.retrieve(coll, ids=[1])[0].payload == {"keep": True}
