"""Gateway mode (`--upstream`): what reaches the upstream, and what comes back.

Recording upstreams (generic gRPC servers in this process that log each call's method, raw
bytes, metadata and deadline) show that requests without inference objects arrive
byte-identical, for methods vecinfer implements and for ones it does not; that metadata and
deadlines arrive; that provider keys never leave the gateway; and that several upstreams share
the load and survive one going away. A real upstream vecinfer shows Documents resolved at the
gateway arriving as vectors."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from concurrent import futures
from dataclasses import dataclass, field

import grpc
import pytest
from grpc_health.v1 import health, health_pb2_grpc
from qdrant_client import grpc as qgrpc
from qdrant_client import models

from conftest import ServerProcess, free_port, gateway_in_front, make_client
from rest_http import call

MINILM = "sentence-transformers/all-minilm-l6-v2"
UNKNOWN_FIELD = b"\xf8\x06\x2a"  # field 111, varint 42: a field from a newer client


@dataclass
class Recorded:
    method: str
    body: bytes
    metadata: dict[str, str]
    remaining: float | None


@dataclass
class RecordingUpstream:
    """A gRPC server answering every method with a canned response, recording each call."""

    name: str
    port: int = field(default_factory=free_port)
    calls: list[Recorded] = field(default_factory=list)
    server: grpc.Server | None = None

    def start(self) -> RecordingUpstream:
        recorder = self

        class Handler(grpc.GenericRpcHandler):
            def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
                method = details.method
                if method.startswith("/grpc.health"):
                    return None

                def answer(body: bytes, context: grpc.ServicerContext) -> bytes:
                    metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
                    recorder.calls.append(Recorded(method, body, metadata, context.time_remaining()))
                    if method.endswith("/Delete"):
                        context.abort(grpc.StatusCode.NOT_FOUND, f"nope from {recorder.name}")
                    if method == "/qdrant.Points/Count":
                        return qgrpc.CountResponse(result=qgrpc.CountResult(count=7), time=0.5).SerializeToString()
                    if method == "/qdrant.Points/Query":
                        return qgrpc.QueryResponse(time=0.1).SerializeToString()
                    return b""

                return grpc.unary_unary_rpc_method_handler(answer)

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), self.server)
        self.server.add_generic_rpc_handlers((Handler(),))
        self.server.add_insecure_port(f"127.0.0.1:{self.port}")
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(0).wait()


@pytest.fixture
def recording(tmp_path):
    """Two recording upstreams and a gateway in front of both."""
    ups = [RecordingUpstream("first").start(), RecordingUpstream("second").start()]
    gateway = ServerProcess(tmp_path / "storage", tmp_path / "gateway.log", env={
        "VECINFER_UPSTREAM": ",".join(f"127.0.0.1:{u.port}" for u in ups)}).start()
    channel = grpc.insecure_channel(gateway.grpc_address)
    yield gateway, ups, channel
    channel.close()
    gateway.stop()
    for upstream in ups:
        upstream.stop()


def _raw(channel: grpc.Channel, method: str, body: bytes, **kwargs) -> bytes:
    stub = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
    return stub(body, **kwargs)


def _all_calls(ups: list[RecordingUpstream]) -> list[Recorded]:
    return [c for u in ups for c in u.calls]


def test_requests_without_inference_arrive_byte_identical(recording):
    gateway, ups, channel = recording
    count = qgrpc.CountPoints(collection_name="c", exact=True).SerializeToString() + UNKNOWN_FIELD
    query = qgrpc.QueryPoints(collection_name="c", query=qgrpc.Query(nearest=qgrpc.VectorInput(
        dense=qgrpc.DenseVector(data=[0.5, 0.25])))).SerializeToString() + UNKNOWN_FIELD
    snapshots = b"\x0a\x01c"  # qdrant.Snapshots/List {collection_name: "c"}: a service vecinfer lacks
    answers = {}
    for method, body in (("/qdrant.Points/Count", count), ("/qdrant.Points/Query", query),
                         ("/qdrant.Snapshots/List", snapshots)):
        answers[method] = _raw(channel, method, body, timeout=5,
                               metadata=(("api-key", "secret"), ("x-trace", "t1"), ("openai-api-key", "sk-private")))
        (seen,) = [c for c in _all_calls(ups) if c.method == method]
        assert seen.body == body, method
        assert seen.metadata.get("api-key") == "secret" and seen.metadata.get("x-trace") == "t1"
        assert "openai-api-key" not in seen.metadata  # provider keys stay in the gateway
        assert seen.remaining is not None and 3 < seen.remaining <= 5.1  # the caller's deadline travels
    assert qgrpc.CountResponse.FromString(answers["/qdrant.Points/Count"]).result.count == 7
    assert answers["/qdrant.Snapshots/List"] == b""


def test_the_rest_door_needs_an_upstream_rest_address(recording):
    gateway, _, _ = recording  # started with --upstream only
    status, _, body = call(gateway.http_port, "GET", "/collections")
    assert status == 501 and "--upstream-http" in body["status"]["error"]


def test_the_upstream_status_comes_back_unchanged(recording):
    _, _, channel = recording
    with pytest.raises(grpc.RpcError) as error:
        _raw(channel, "/qdrant.Collections/Delete", qgrpc.DeleteCollection(collection_name="x").SerializeToString())
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert error.value.details().startswith("nope from ")


def test_requests_spread_over_upstreams_and_survive_one_going_away(recording):
    _, ups, channel = recording
    body = qgrpc.CountPoints(collection_name="c").SerializeToString()
    for _ in range(20):
        _raw(channel, "/qdrant.Points/Count", body, timeout=10)
    assert all(len(u.calls) >= 3 for u in ups), [len(u.calls) for u in ups]  # round robin: both used
    ups[0].stop()
    before = len(ups[1].calls)
    for _ in range(20):  # every later request succeeds, on the one left
        assert qgrpc.CountResponse.FromString(_raw(channel, "/qdrant.Points/Count", body, timeout=10)).result.count == 7
    assert len(ups[1].calls) - before == 20
    ups[1].stop()
    with pytest.raises(grpc.RpcError) as error:
        _raw(channel, "/qdrant.Points/Count", body, timeout=10)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "upstream 127.0.0.1:" in error.value.details()


def test_the_upstream_api_key_replaces_the_callers(tmp_path):
    upstream = RecordingUpstream("keyed").start()
    gateway = ServerProcess(tmp_path / "storage", tmp_path / "gateway.log", env={
        "VECINFER_UPSTREAM": f"127.0.0.1:{upstream.port}", "VECINFER_UPSTREAM_API_KEY": "cluster-key"}).start()
    try:
        with grpc.insecure_channel(gateway.grpc_address) as channel:
            _raw(channel, "/qdrant.Points/Count", qgrpc.CountPoints(collection_name="c").SerializeToString(),
                 metadata=(("api-key", "callers-key"),))
        (seen,) = upstream.calls
        assert seen.metadata["api-key"] == "cluster-key"
    finally:
        gateway.stop()
        upstream.stop()


def test_a_document_query_arrives_as_a_vector_and_usage_is_merged(recording):
    _, ups, channel = recording
    request = qgrpc.QueryPoints(collection_name="c", using="s", query=qgrpc.Query(nearest=qgrpc.VectorInput(
        document=qgrpc.Document(text="hello hello world", model="qdrant/bm25"))))
    answer = qgrpc.QueryResponse.FromString(_raw(channel, "/qdrant.Points/Query",
                                                 request.SerializeToString() + UNKNOWN_FIELD, timeout=10))
    (seen,) = [c for c in _all_calls(ups) if c.method == "/qdrant.Points/Query"]
    forwarded = qgrpc.QueryPoints.FromString(seen.body)
    vector = forwarded.query.nearest
    assert vector.WhichOneof("variant") == "sparse" and len(vector.sparse.indices) == 2  # unique tokens
    assert list(vector.sparse.values) == [1.0, 1.0]
    assert seen.body.endswith(UNKNOWN_FIELD) or UNKNOWN_FIELD in seen.body  # the newer field survives
    assert answer.usage.inference.models["qdrant/bm25"].tokens > 0


def test_documents_upserted_through_the_gateway_carry_vectors_upstream(tmp_path, clip_models):
    with gateway_in_front(tmp_path, clip_models.models_dir) as (gateway, upstream):
        through = make_client(gateway, cloud_inference=True)
        direct = make_client(upstream)
        through.create_collection("docs", vectors_config={"d": models.VectorParams(size=384,
                                                                                   distance=models.Distance.COSINE)},
                                  sparse_vectors_config={"s": models.SparseVectorParams(modifier=models.Modifier.IDF)})
        texts = ["Recipe for chocolate chip cookies", "The stock market fell on Monday", "Hiking trails in Norway"]
        through.upsert("docs", points=[models.PointStruct(id=i, payload={"t": t}, vector={
            "d": models.Document(text=t, model=MINILM), "s": models.Document(text=t, model="qdrant/bm25")})
            for i, t in enumerate(texts)])
        stored = direct.retrieve("docs", ids=[0, 1, 2], with_vectors=True)
        assert all(len(p.vector["d"]) == 384 and len(p.vector["s"].indices) > 0 for p in stored)
        hits = through.query_points("docs", query=models.Document(text="baking cookies", model=MINILM), using="d",
                                    limit=1).points
        assert hits[0].id == 0
        # REST through the gateway too, with usage merged into the upstream's answer.
        status, _, body = call(gateway.http_port, "POST", "/collections/docs/points/query",
                               {"query": {"text": "stock prices", "model": "qdrant/bm25"}, "using": "s", "limit": 1})
        assert status == 200 and body["result"]["points"][0]["id"] == 1
        assert body["usage"]["inference"]["models"]["qdrant/bm25"]["tokens"] > 0
        # Paths without inference objects pass through untouched, errors too.
        status, _, body = call(gateway.http_port, "GET", "/collections/missing")
        assert status == 404 and "missing" in body["status"]["error"]
        status, _, _ = call(gateway.http_port, "GET", "/readyz")
        assert status == 200
        through.close()
        direct.close()


def test_a_gateway_with_no_upstream_reachable_says_so(tmp_path):
    port = free_port()  # nothing listens here
    gateway = ServerProcess(tmp_path / "storage", tmp_path / "gateway.log",
                            env={"VECINFER_UPSTREAM": f"127.0.0.1:{port}"}).start(until="/livez")
    try:
        with grpc.insecure_channel(gateway.grpc_address) as channel:
            with pytest.raises(grpc.RpcError) as error:
                _raw(channel, "/qdrant.Points/Count", qgrpc.CountPoints(collection_name="c").SerializeToString(),
                     timeout=10)
        assert error.value.code() == grpc.StatusCode.UNAVAILABLE
        assert f"upstream 127.0.0.1:{port}" in error.value.details()
        # Never ready; once its models are warm (until then /readyz says that), the reason is
        # the upstream.
        deadline = time.monotonic() + 60
        while True:
            with pytest.raises(urllib.error.HTTPError) as not_ready:
                urllib.request.urlopen(f"http://127.0.0.1:{gateway.http_port}/readyz", timeout=5)
            assert not_ready.value.code == 503
            reason = not_ready.value.read()
            if b"is not reachable" in reason:
                break
            assert b"warming up" in reason and time.monotonic() < deadline, reason
            time.sleep(0.1)
    finally:
        gateway.stop()


def test_a_read_only_key_reads_through_the_gateway_and_nothing_else(tmp_path):
    upstream = RecordingUpstream("guarded").start()
    gateway = ServerProcess(tmp_path / "storage", tmp_path / "gateway.log", env={
        "VECINFER_UPSTREAM": f"127.0.0.1:{upstream.port}", "VECINFER_UPSTREAM_API_KEY": "cluster-key",
        "VECINFER_API_KEY": "full", "VECINFER_READ_ONLY_API_KEY": "ro"}).start()
    try:
        with grpc.insecure_channel(gateway.grpc_address) as channel:
            read_only = (("api-key", "ro"),)
            _raw(channel, "/qdrant.Points/Count", qgrpc.CountPoints(collection_name="c").SerializeToString(),
                 metadata=read_only)
            for method in ("/qdrant.Collections/UpdateCollectionClusterSetup", "/qdrant.ShardSnapshots/Delete",
                           "/qdrant.Points/Upsert", "/qdrant.Made/Up"):
                with pytest.raises(grpc.RpcError) as error:
                    _raw(channel, method, b"", metadata=read_only)
                assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED, method
            _raw(channel, "/qdrant.ShardSnapshots/List", b"", metadata=(("api-key", "full"),))
        assert [c.method for c in upstream.calls] == ["/qdrant.Points/Count", "/qdrant.ShardSnapshots/List"]
    finally:
        gateway.stop()
        upstream.stop()
