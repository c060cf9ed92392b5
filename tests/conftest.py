"""Test fixtures: a real vecinfer server in a subprocess, on free loopback ports.

The test process never imports vecinfer's generated `qdrant` protos (they would clash with
qdrant_client's in one descriptor pool); it speaks to the server through qdrant-client and
through qdrant_client.grpc's own stubs.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


_handed_out: set[int] = set()
_port_picker = random.Random(os.getpid())


def free_port() -> int:
    """A loopback port that is free now and stays free until a server binds it.

    Ports are picked below the kernel's ephemeral range: a port the kernel hands out with
    `bind(0)` may be given again to any outgoing connection (a client of an earlier test) in the
    moments before our server binds it; a port outside that range is never taken that way.
    """
    low, _ = _ephemeral_range()
    floor = 10000 if low > 12000 else 1024
    for _ in range(1000):
        port = _port_picker.randrange(floor, low)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free loopback port below the ephemeral range")


class ServerProcess:
    """One `vecinfer serve` process; can be stopped, killed and started again on the same storage."""

    def __init__(self, storage_dir: Path, log_path: Path, env: dict | None = None):
        self.storage_dir = storage_dir
        self.log_path = log_path
        self.extra_env = env or {}
        self.grpc_port = free_port()
        self.http_port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def grpc_address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self, timeout: float = 120.0, until: str = "/readyz") -> ServerProcess:
        """Start and wait until `until` answers 200: /readyz (storage loaded, models warm), or
        /livez for a server that is up but not ready."""
        # Snapshots beside the storage folder, not in the working directory; the embedding cache
        # off unless a test turns it on (token counts in usage assume the model ran).
        defaults = {"VECINFER_SNAPSHOTS_DIR": str(self.storage_dir.parent / "snapshots"),
                    "VECINFER_EMBEDDING_CACHE_BYTES": "0"}
        env = {**defaults, **os.environ, **self.extra_env, "PYTHONUNBUFFERED": "1"}
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vecinfer.cli", "serve", "--host", "127.0.0.1",
             "--grpc-port", str(self.grpc_port), "--http-port", str(self.http_port),
             "--storage-dir", str(self.storage_dir)],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                # Ready: storage loaded and local models warm (503 until then).
                with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{until}", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start within {timeout}s:\n{self.log()}")

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def server_factory(tmp_path):
    servers: list[ServerProcess] = []

    def make(storage_dir: Path | None = None, env: dict | None = None) -> ServerProcess:
        server = ServerProcess(storage_dir or tmp_path / "storage", tmp_path / f"server{len(servers)}.log", env)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


class ClipModels:
    """The small test CLIP (scripts/make_test_clip.py) as served by the test servers."""

    text = "test/tiny-clip-text"
    vision = "test/tiny-clip-vision"
    dimension = 16

    def __init__(self, models_dir: Path):
        self.models_dir = models_dir

    @staticmethod
    def png_bytes(color: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
        import io

        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", size, color).save(buffer, format="PNG")
        return buffer.getvalue()

    def png_base64(self, color: str = "red") -> str:
        import base64

        return base64.b64encode(self.png_bytes(color)).decode()


@pytest.fixture(scope="session")
def clip_models() -> ClipModels:
    """Built once per checkout and cached under .cache/, keyed by the code that makes it."""
    import hashlib

    sources = [ROOT / "scripts" / "make_test_clip.py", *sorted((ROOT / "src" / "vecinfer" / "inference" / "onnx").glob("*.py"))]
    key = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:12]
    out = ROOT / ".cache" / f"test-models-{key}"
    if not (out / "tiny-clip-vision" / "vecinfer-model.json").exists():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_test_clip.py"), str(out)], check=True, timeout=600)
    return ClipModels(out)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, clip_models):
    """One server for a whole test module (tests use distinct collection names)."""
    tmp = tmp_path_factory.mktemp("shared")
    server = ServerProcess(tmp / "storage", tmp / "server.log",
                           env={"VECINFER_MODELS_DIR": str(clip_models.models_dir)}).start()
    yield server
    server.stop()


@contextlib.contextmanager
def gateway_in_front(tmp: Path, models_dir: Path | None = None, upstream_env: dict | None = None):
    """An embedded vecinfer (the upstream) and a gateway in front of it (`--upstream`); yields
    (gateway, upstream)."""
    upstream = ServerProcess(tmp / "upstream-storage", tmp / "upstream.log", env=upstream_env).start()
    env = {"VECINFER_UPSTREAM": upstream.grpc_address, "VECINFER_UPSTREAM_HTTP": f"127.0.0.1:{upstream.http_port}"}
    if models_dir is not None:
        env["VECINFER_MODELS_DIR"] = str(models_dir)
    gateway = ServerProcess(tmp / "gateway-storage", tmp / "gateway.log", env=env)
    try:
        yield gateway.start(), upstream
    finally:
        gateway.stop()
        upstream.stop()
    assert not (tmp / "gateway-storage").exists(), "the gateway keeps no storage of its own"


def make_client(server: ServerProcess, **kwargs):
    from qdrant_client import QdrantClient

    # The client checks the server version in a background thread that can outlive a short
    # test's server; test_wire checks that version check on its own.
    kwargs.setdefault("check_compatibility", False)
    kwargs.setdefault("prefer_grpc", True)
    return QdrantClient(host="127.0.0.1", grpc_port=server.grpc_port, port=server.http_port, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def client(shared_server):
    c = make_client(shared_server)
    yield c
    c.close()


@pytest.fixture(scope="module")
def cloud_client(shared_server):
    """A client that sends every inference object to the server (no local embedding)."""
    c = make_client(shared_server, cloud_inference=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def emulator():
    """Loopback servers that speak the providers' embeddings APIs (provider_emulators.py)."""
    import provider_emulators

    emu, stop = provider_emulators.start()
    yield emu
    stop()
