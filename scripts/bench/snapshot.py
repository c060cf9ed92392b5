"""Snapshot benchmark: a collection snapshot of N points taken while a writer runs.

    .venv/bin/python scripts/bench/snapshot.py [--points 100000] [--dim 384] [--baseline-seconds 10]

Loads N points (random unit vectors: the time and size of a snapshot do not depend on what the
vectors say; payload {"i": n, "group": "g<k>", "text": 40 chars}) through gRPC, waits for the
optimizer to finish, then runs one writer (single-point upserts with wait=true, back to back)
for a baseline period and on through `create_snapshot`. Prints the snapshot's time, size and
sha256 time, the writer's p50/p99/max latency before and during the snapshot, and the time to
recover the snapshot into a new collection (upload) with its point count checked.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import Server, percentile  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    args = parser.parse_args()

    from qdrant_client import models

    server = Server()
    try:
        client = server.client()
        client.create_collection("bench", vectors_config=models.VectorParams(size=args.dim, distance=models.Distance.COSINE))
        rng = np.random.default_rng(5)
        started = time.perf_counter()
        for start in range(0, args.points, 1000):
            block = rng.normal(size=(min(1000, args.points - start), args.dim)).astype(np.float32)
            client.upsert("bench", wait=True, points=models.Batch(
                ids=list(range(start, start + len(block))), vectors=block.tolist(),
                payloads=[{"i": start + j, "group": f"g{(start + j) % 50}", "text": "x" * 40} for j in range(len(block))]))
        print(f"loaded {args.points} points in {time.perf_counter() - started:.1f} s", flush=True)
        while client.get_collection("bench").status != models.CollectionStatus.GREEN:
            time.sleep(1)
        print(f"indexed after {time.perf_counter() - started:.1f} s", flush=True)

        latencies: list[tuple[float, float]] = []  # (started at, seconds)
        stop = threading.Event()

        def writer() -> None:
            writer_client = server.client()
            n = args.points
            while not stop.is_set():
                vector = rng.normal(size=args.dim).astype(np.float32).tolist()
                t0 = time.perf_counter()
                writer_client.upsert("bench", wait=True, points=[models.PointStruct(id=n, vector=vector, payload={"i": n})])
                latencies.append((t0, time.perf_counter() - t0))
                n += 1

        thread = threading.Thread(target=writer)
        thread.start()
        time.sleep(args.baseline_seconds)
        snap_start = time.perf_counter()
        description = client.create_snapshot("bench", wait=True)
        snap_end = time.perf_counter()
        time.sleep(1.0)
        stop.set()
        thread.join()

        before = [s for t, s in latencies if t < snap_start]
        during = [s for t, s in latencies if snap_start <= t <= snap_end]
        url = f"http://127.0.0.1:{server.http_port}/collections/bench/snapshots/{description.name}"
        t0 = time.perf_counter()
        data = urllib.request.urlopen(url, timeout=600).read()
        download = time.perf_counter() - t0
        t0 = time.perf_counter()
        digest = hashlib.sha256(data).hexdigest()
        hashing = time.perf_counter() - t0
        assert digest == description.checksum, "the listed checksum is the file's sha256"

        t0 = time.perf_counter()
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.http_port}/collections/restored/snapshots/upload?wait=true",
            data=_multipart(data), method="POST",
            headers={"Content-Type": "multipart/form-data; boundary=BENCHBOUNDARY"})
        urllib.request.urlopen(request, timeout=600).read()
        recover = time.perf_counter() - t0
        restored = client.count("restored").count
        moment = client.count("bench").count

        ms = 1000.0
        print(f"\nsnapshot of {args.points} points x {args.dim} dims (+ writer points): {snap_end - snap_start:.2f} s, "
              f"{description.size / 2**20:.1f} MiB, sha256 over the file {hashing:.2f} s, download {download:.2f} s")
        print(f"writer (single-point upserts, wait=true): before p50 {percentile(before, 50) * ms:.2f} ms, "
              f"p99 {percentile(before, 99) * ms:.2f} ms ({len(before)} writes); during the snapshot "
              f"p50 {percentile(during, 50) * ms:.2f} ms, p99 {percentile(during, 99) * ms:.2f} ms, "
              f"max {max(during) * ms:.1f} ms ({len(during)} writes)")
        print(f"recover by upload into a new collection: {recover:.2f} s, {restored} points "
              f"(source now {moment}: writes after the snapshot are not in it)")
    finally:
        server.stop()


def _multipart(data: bytes) -> bytes:
    head = (b"--BENCHBOUNDARY\r\nContent-Disposition: form-data; name=\"snapshot\"; filename=\"bench.snapshot\"\r\n"
            b"Content-Type: application/octet-stream\r\n\r\n")
    return head + data + b"\r\n--BENCHBOUNDARY--\r\n"


if __name__ == "__main__":
    main()
