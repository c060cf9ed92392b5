"""The official Qdrant JS client (@qdrant/js-client-rest, pinned in tests/js/package.json) driving a
vecinfer server through its REST door: collections, upsert with server-side inference (MiniLM and
qdrant/bm25 Documents), query, retrieve, scroll, count, delete. The flow and its checks live in
tests/js/client_flow.mjs; this test installs the package when missing, starts a server and runs it."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import ROOT

JS_DIR = ROOT / "tests" / "js"
SCRIPT = JS_DIR / "client_flow.mjs"
CLIENT_PACKAGE = JS_DIR / "node_modules" / "@qdrant" / "js-client-rest" / "package.json"


def ensure_js_client() -> None:
    if CLIENT_PACKAGE.exists():
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed to install tests/js's packages (or run scripts/test.sh, which installs them)"
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=JS_DIR,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and CLIENT_PACKAGE.exists(), (
        f"npm install in {JS_DIR} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def test_official_js_client_flow(server_factory):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH")
    ensure_js_client()
    server = server_factory().start()
    url = f"http://127.0.0.1:{server.http_port}"
    try:
        done = subprocess.run([node, str(SCRIPT), url], cwd=JS_DIR, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"client_flow.mjs did not finish in {e.timeout}s\nstdout:\n{e.stdout}\nstderr:\n{e.stderr}\n"
                    f"server log (tail):\n{server.log()[-4000:]}")
    assert done.returncode == 0, (
        f"client_flow.mjs exited with {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}\n"
        f"server log (tail):\n{server.log()[-4000:]}")
    assert '"ok": true' in done.stdout, done.stdout
