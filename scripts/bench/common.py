"""Shared helpers for the benchmarks: a server subprocess, a text corpus, CPU accounting."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Benchmarks measure the models unless they ask for the embedding cache (repeated texts would hit it).
_MEASURE_THE_MODEL = {"VECINFER_EMBEDDING_CACHE_BYTES": "0"}


class Server:
    """`vecinfer serve` in a subprocess on free loopback ports, with a temporary storage dir."""

    def __init__(self, env: dict | None = None):
        self.tmp = tempfile.TemporaryDirectory(prefix="vecinfer-bench-")
        self.grpc_port, self.http_port = free_port(), free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vecinfer.cli", "serve", "--grpc-port", str(self.grpc_port),
             "--http-port", str(self.http_port), "--storage-dir", self.tmp.name],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**_MEASURE_THE_MODEL, **os.environ, **(env or {})},
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("server exited during start-up") from None
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def client(self, **kwargs):
        from qdrant_client import QdrantClient

        return QdrantClient(host="127.0.0.1", grpc_port=self.grpc_port, port=self.http_port,
                            prefer_grpc=True, timeout=300, check_compatibility=False, **kwargs)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)
        self.tmp.cleanup()


def text_corpus(n: int) -> list[str]:
    """n real English passages: comments and docstring lines of the Python standard library,
    grouped into documents of 8-40 words (deterministic; no download)."""
    words_re = re.compile(r"[A-Za-z][A-Za-z'-]+")
    lines: list[str] = []
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(stdlib.rglob("*.py")):
        if "test" in path.parts or "site-packages" in path.parts:
            continue
        for line in path.read_text(errors="ignore").splitlines():
            stripped = line.strip().lstrip("#").strip()
            if len(words_re.findall(stripped)) >= 4 and not stripped.startswith(("def ", "class ", "import ", "from ")):
                lines.append(stripped)
    docs, i, size = [], 0, 8
    while len(docs) < n:
        words: list[str] = []
        while len(words) < size:
            words.extend(lines[i % len(lines)].split())
            i += 1
        docs.append(" ".join(words[:40]))
        size = 8 + (len(docs) * 7) % 33
        if i > len(lines) * 4:
            break
    return docs[:n]


def _proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used by processes other than ours during a measurement, in cores."""

    def __init__(self, pids: list[int]):
        self.pids = pids

    def __enter__(self):
        self.t0 = time.monotonic()
        self.busy0 = _busy_seconds()
        self.own0 = sum(_proc_cpu_seconds(p) for p in self.pids)
        return self

    def __exit__(self, *exc):
        elapsed = time.monotonic() - self.t0
        own = sum(_proc_cpu_seconds(p) for p in self.pids) - self.own0
        self.other_cores = max(0.0, (_busy_seconds() - self.busy0 - own) / max(elapsed, 1e-9))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]
