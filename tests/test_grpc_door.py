"""The gRPC door is a synchronous grpc.server: queries and writes are answered on its worker
threads, and only the embedding of their inference objects (and the other operations) runs on
the service's event loop while the worker waits. Checked through the server's own count of
work handed to the loop, and by what callers see: every answer right, calls beyond the worker
pool waiting their turn, not refused."""

from __future__ import annotations

import threading

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families
from qdrant_client import grpc as qgrpc

from conftest import ServerProcess
from rest_http import call

MINILM = "sentence-transformers/all-minilm-l6-v2"
LOOP_CALLS = "vecinfer_grpc_loop_calls_total"


def metric(server: ServerProcess, name: str) -> float:
    status, _, text = call(server.http_port, "GET", "/metrics")
    assert status == 200
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    raise AssertionError(f"{name} not in /metrics")


@pytest.fixture(scope="module")
def door(tmp_path_factory):
    """A server with only two gRPC workers (one of which a stream may hold), so that a handful
    of callers already queue."""
    tmp = tmp_path_factory.mktemp("door")
    server = ServerProcess(tmp / "storage", tmp / "server.log",
                           env={"VECINFER_GRPC_WORKERS": "2", "VECINFER_GRPC_MAX_STREAMS": "1"}).start()
    channel = grpc.insecure_channel(server.grpc_address)
    points = qgrpc.PointsStub(channel)
    qgrpc.CollectionsStub(channel).Create(qgrpc.CreateCollection(
        collection_name="door", vectors_config=qgrpc.VectorsConfig(params=qgrpc.VectorParams(
            size=384, distance=qgrpc.Cosine))), timeout=30)
    yield server, points
    channel.close()
    server.stop()


def _vector(i: int) -> list[float]:
    v = np.random.default_rng(i).standard_normal(384).astype(np.float32)
    return (v / np.linalg.norm(v)).tolist()


def _point(i: int) -> qgrpc.PointStruct:
    return qgrpc.PointStruct(id=qgrpc.PointId(num=i), vectors=qgrpc.Vectors(vector=qgrpc.Vector(
        dense=qgrpc.DenseVector(data=_vector(i)))))


def _nearest(i: int, limit: int = 1) -> qgrpc.QueryPoints:
    return qgrpc.QueryPoints(collection_name="door", limit=limit, query=qgrpc.Query(nearest=qgrpc.VectorInput(
        dense=qgrpc.DenseVector(data=_vector(i)))))


def test_plain_queries_and_writes_never_wait_for_the_event_loop(door):
    server, points = door
    before = metric(server, LOOP_CALLS)
    points.Upsert(qgrpc.UpsertPoints(collection_name="door", wait=True, points=[_point(i) for i in range(50)]),
                  timeout=30)
    points.UpdateBatch(qgrpc.UpdateBatchPoints(collection_name="door", wait=True, operations=[
        qgrpc.PointsUpdateOperation(upsert=qgrpc.PointsUpdateOperation.PointStructList(
            points=[_point(i) for i in range(50, 60)]))]), timeout=30)
    for i in (3, 17, 55):
        (hit,) = points.Query(_nearest(i), timeout=30).result
        assert hit.id.num == i
    batch = points.QueryBatch(qgrpc.QueryBatchPoints(collection_name="door", query_points=[_nearest(4), _nearest(5)]),
                              timeout=30)
    assert [r.result[0].id.num for r in batch.result] == [4, 5]
    (hit,) = points.Search(qgrpc.SearchPoints(collection_name="door", vector=_vector(8), limit=1), timeout=30).result
    assert hit.id.num == 8
    assert metric(server, LOOP_CALLS) == before


def test_only_the_embedding_runs_on_the_event_loop(door):
    server, points = door
    before = metric(server, LOOP_CALLS)
    text = qgrpc.Document(text="a passage about rivers", model=MINILM)
    points.Upsert(qgrpc.UpsertPoints(collection_name="door", wait=True, points=[qgrpc.PointStruct(
        id=qgrpc.PointId(num=1000), vectors=qgrpc.Vectors(vector=qgrpc.Vector(document=text)))]), timeout=60)
    query = qgrpc.QueryPoints(collection_name="door", limit=1, query=qgrpc.Query(
        nearest=qgrpc.VectorInput(document=text)))
    (hit,) = points.Query(query, timeout=60).result
    assert hit.id.num == 1000 and hit.score == pytest.approx(1.0, abs=1e-4)
    # Count has no worker-thread path: it is one of the operations answered on the loop.
    points.Count(qgrpc.CountPoints(collection_name="door", exact=True), timeout=30)
    assert metric(server, LOOP_CALLS) == before + 3


def test_errors_keep_their_status_on_both_paths(door):
    server, points = door
    missing = qgrpc.QueryPoints(collection_name="no_such_collection", query=qgrpc.Query(nearest=qgrpc.VectorInput(
        dense=qgrpc.DenseVector(data=_vector(1)))))
    with pytest.raises(grpc.RpcError) as err:
        points.Query(missing, timeout=30)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert "no_such_collection" in err.value.details()
    wrong_size = qgrpc.QueryPoints(collection_name="door", query=qgrpc.Query(nearest=qgrpc.VectorInput(
        dense=qgrpc.DenseVector(data=[1.0, 2.0]))))
    with pytest.raises(grpc.RpcError) as err:
        points.Query(wrong_size, timeout=30)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as err:
        points.Count(qgrpc.CountPoints(collection_name="no_such_collection"), timeout=30)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_callers_beyond_the_worker_pool_wait_their_turn(door):
    server, points = door
    points.Upsert(qgrpc.UpsertPoints(collection_name="door", wait=True, points=[_point(i) for i in range(100)]),
                  timeout=30)
    found: dict[int, int] = {}
    failures: list[BaseException] = []

    def ask(i: int) -> None:
        try:
            found[i] = points.Query(_nearest(i), timeout=60).result[0].id.num
        except BaseException as exc:  # noqa: BLE001 - collected and reported below
            failures.append(exc)

    callers = [threading.Thread(target=ask, args=(i,)) for i in range(24)]  # twelve per worker
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(120)
    assert failures == []
    assert found == {i: i for i in range(24)}


def test_open_streams_are_bounded_and_leave_workers_for_queries(door):
    server, points = door
    health = health_pb2_grpc.HealthStub(grpc.insecure_channel(server.grpc_address))
    held = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=60)
    assert next(held).status == health_pb2.HealthCheckResponse.SERVING  # open, and holding a worker
    try:
        with pytest.raises(grpc.RpcError) as err:
            next(health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=30))
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "VECINFER_GRPC_MAX_STREAMS" in err.value.details()
        points.Upsert(qgrpc.UpsertPoints(collection_name="door", wait=True, points=[_point(7)]), timeout=30)
        (hit,) = points.Query(_nearest(7), timeout=30).result  # the other worker still answers
        assert hit.id.num == 7
    finally:
        held.cancel()
    # The closed stream gave its place back.
    again = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=30)
    assert next(again).status == health_pb2.HealthCheckResponse.SERVING
    again.cancel()


@pytest.mark.parametrize("env", [{"VECINFER_GRPC_WORKERS": "0"},
                                 {"VECINFER_GRPC_WORKERS": "8", "VECINFER_GRPC_MAX_STREAMS": "8"}])
def test_worker_and_stream_bounds_that_leave_no_worker_are_refused_at_start(tmp_path, env):
    server = ServerProcess(tmp_path / "storage", tmp_path / "server.log", env=env)
    with pytest.raises(RuntimeError, match="VECINFER_GRPC_MAX_STREAMS .* below VECINFER_GRPC_WORKERS"):
        server.start(timeout=60)
    server.stop()
