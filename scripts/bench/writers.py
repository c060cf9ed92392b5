"""Concurrent writers: single-point upserts (wait=true) from 1..N gRPC clients at once, as a
multiple of one writer's rate, with the write-ahead log's fsyncs per record (group commit).

    .venv/bin/python scripts/bench/writers.py [--seconds 5] [--writers 1,2,4,8,16]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import Server  # noqa: E402


def wal_counters(port: int) -> tuple[float, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith(("vecinfer_wal_records_total ", "vecinfer_wal_syncs_total ")):
            name, value = line.split()
            values[name] = float(value)
    return values.get("vecinfer_wal_records_total", float("nan")), values.get("vecinfer_wal_syncs_total", float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--writers", default="1,2,4,8,16")
    args = parser.parse_args()
    from qdrant_client import models

    server = Server()
    try:
        setup = server.client()
        setup.create_collection("w", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE))
        vector = [0.01 * (i % 7) for i in range(384)]
        base = None
        for count in [int(n) for n in args.writers.split(",")]:
            clients = [server.client() for _ in range(count)]
            done = [0] * count
            stop = threading.Event()

            def write(k: int, clients=clients, done=done, stop=stop) -> None:
                point_id = k * 10_000_000
                while not stop.is_set():
                    clients[k].upsert("w", wait=True, points=[models.PointStruct(id=point_id, vector=vector, payload={"k": k})])
                    done[k] += 1
                    point_id += 1

            records0, syncs0 = wal_counters(server.http_port)
            threads = [threading.Thread(target=write, args=(k,)) for k in range(count)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            time.sleep(args.seconds)
            stop.set()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            records1, syncs1 = wal_counters(server.http_port)
            rate = sum(done) / elapsed
            base = base or rate
            per_record = (syncs1 - syncs0) / max(1.0, records1 - records0)
            print(f"{count:3d} writers: {rate:8.0f} writes/s  {rate / base:5.2f}x one writer  "
                  f"fsyncs per record {per_record:.2f}", flush=True)
            for client in clients:
                client.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
