"""The official Qdrant JS clients (pinned in tests/js/package.json) driving a vecinfer server.

- @qdrant/js-client-rest through the REST door: collections, upsert with server-side inference
  (MiniLM and qdrant/bm25 Documents), query, retrieve, scroll, count, delete
  (tests/js/client_flow.mjs).
- @qdrant/js-client-grpc through the gRPC door (package `qdrant`, binary protobuf over HTTP/2,
  gzip on by default): collections with named dense and sparse vectors, aliases (create, use,
  rename, delete), payload indexes, upsert with explicit vectors and with Documents, get, legacy
  search and recommend, query (nearest dense/sparse/Document, prefetch + RRF and rrf{k},
  recommend, order_by), scroll (pages, order_by), count, query groups, facets, error codes
  (tests/js/grpc_flow.mjs). Its answers are checked against rankings and scores the script
  computes from the points it upserts.

Each test installs the packages when missing (`npm install`; scripts/test.sh runs `npm ci`),
starts a server and runs its script, which prints a JSON summary or names the failing step.
js-client-grpc 1.19 declares node >= 22 but runs on node 20; @connectrpc/connect is pinned to
2.1.2 because @connectrpc/connect-node 2.1.2 (the last one for node 20) wants exactly that peer."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

JS_DIR = ROOT / "tests" / "js"
PACKAGES = ("@qdrant/js-client-rest", "@qdrant/js-client-grpc", "@connectrpc/connect")


def ensure_js_clients() -> None:
    manifests = [JS_DIR / "node_modules" / name / "package.json" for name in PACKAGES]
    if all(m.exists() for m in manifests):
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed to install tests/js's packages (or run scripts/test.sh, which installs them)"
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=JS_DIR,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and all(m.exists() for m in manifests), (
        f"npm install in {JS_DIR} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def run_flow(script: Path, url: str, server) -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH")
    try:
        done = subprocess.run([node, str(script), url], cwd=JS_DIR, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{script.name} did not finish in {e.timeout}s\nstdout:\n{e.stdout}\nstderr:\n{e.stderr}\n"
                    f"server log (tail):\n{server.log()[-4000:]}")
    assert done.returncode == 0, (
        f"{script.name} exited with {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}\n"
        f"server log (tail):\n{server.log()[-4000:]}")
    assert '"ok": true' in done.stdout, done.stdout
    return done.stdout


def test_official_js_client_flow(server_factory):
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    ensure_js_clients()
    server = server_factory().start()
    run_flow(JS_DIR / "client_flow.mjs", f"http://127.0.0.1:{server.http_port}", server)


def test_official_js_grpc_client_flow(server_factory):
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    ensure_js_clients()
    server = server_factory().start()
    run_flow(JS_DIR / "grpc_flow.mjs", f"http://127.0.0.1:{server.grpc_port}", server)
