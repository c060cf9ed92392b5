"""API keys on both doors (full and read-only), and TLS on both doors through qdrant-client."""

from __future__ import annotations

import os
import ssl
import subprocess
import time

import grpc
import pytest
from qdrant_client import QdrantClient, models

from conftest import make_client
from rest_http import call

FULL, READ = "full-key-0123456789", "read-key-9876543210"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import ServerProcess

    tmp = tmp_path_factory.mktemp("auth")
    s = ServerProcess(tmp / "storage", tmp / "server.log",
                      env={"VECINFER_API_KEY": FULL, "VECINFER_READ_ONLY_API_KEY": READ}).start()
    yield s
    s.stop()


def test_rest_keys(server):
    port = server.http_port
    status, _, text = call(port, "GET", "/collections")
    assert (status, text) == (401, "Must provide an API key or an Authorization bearer token")
    status, _, text = call(port, "GET", "/collections", headers={"api-key": "wrong"})
    assert (status, text) == (401, "Invalid API key or JWT")
    assert call(port, "PUT", "/collections/secured", {"vectors": {"size": 2, "distance": "Dot"}},
                headers={"api-key": FULL})[0] == 200
    assert call(port, "GET", "/collections/secured", headers={"Authorization": f"Bearer {READ}"})[0] == 200
    assert call(port, "POST", "/collections/secured/points/query", {"query": [1, 0]}, headers={"api-key": READ})[0] == 200
    status, _, body = call(port, "PUT", "/collections/secured/points", {"points": [{"id": 1, "vector": [1, 0]}]},
                           headers={"api-key": READ})
    assert status == 403 and body["status"]["error"].startswith("Forbidden")
    assert call(port, "DELETE", "/collections/secured", headers={"api-key": READ})[0] == 403
    for path in ("/", "/healthz", "/livez", "/readyz"):
        assert call(port, "GET", path)[0] == 200, path
    assert call(port, "GET", "/metrics")[0] == 401
    assert call(port, "GET", "/metrics", headers={"api-key": READ})[0] == 200
    assert FULL not in server.log() and READ not in server.log()


def test_grpc_keys(server):
    with pytest.raises(grpc.RpcError) as info:
        make_client(server).get_collections()
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as info:
        make_client(server, api_key="wrong", https=False).get_collections()
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    full = make_client(server, api_key=FULL, https=False)
    full.create_collection("secured_grpc", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    full.upsert("secured_grpc", points=[models.PointStruct(id=1, vector=[1.0, 0.0])])
    read = make_client(server, api_key=READ, https=False)
    assert read.count("secured_grpc").count == 1
    with pytest.raises(grpc.RpcError) as info:
        read.upsert("secured_grpc", points=[models.PointStruct(id=2, vector=[1.0, 0.0])])
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as info:
        read.delete_collection("secured_grpc")
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert full.count("secured_grpc").count == 1
    # Health stays open.
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(server.grpc_address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_tls_on_both_doors_through_the_client(tmp_path, certificate, monkeypatch):
    from conftest import ServerProcess

    cert, key = certificate
    server = ServerProcess(tmp_path / "storage", tmp_path / "server.log", env={
        "VECINFER_TLS_CERT": str(cert), "VECINFER_TLS_KEY": str(key), "VECINFER_API_KEY": FULL})
    # ServerProcess.start polls plain HTTP; wait for the TLS port instead.
    try:
        with pytest.raises(RuntimeError):
            server.start(timeout=3)
        context = ssl.create_default_context(cafile=str(cert))
        deadline = time.monotonic() + 120
        while True:
            try:
                import urllib.request

                with urllib.request.urlopen(f"https://127.0.0.1:{server.http_port}/", context=context, timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.2)
        monkeypatch.setenv("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", str(cert))
        for prefer_grpc in (False, True):
            client = QdrantClient(host="127.0.0.1", port=server.http_port, grpc_port=server.grpc_port, https=True,
                                  api_key=FULL, prefer_grpc=prefer_grpc, verify=context, timeout=30,
                                  check_compatibility=False)
            name = f"tls_{'grpc' if prefer_grpc else 'rest'}"
            client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
            client.upsert(name, points=[models.PointStruct(id=1, vector=[1.0, 0.0])])
            assert client.query_points(name, query=[1.0, 0.0]).points[0].id == 1
            client.close()
        # Plain text is refused on the TLS ports.
        with pytest.raises(OSError):
            import urllib.request

            urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}/collections", timeout=5)
    finally:
        server.stop()
        os.environ.pop("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", None)
