"""Two vecinfer servers side by side, this checkout's and another's (`--base-src`, the `src`
folder of e.g. `git worktree add /tmp/base <commit>`), measured in interleaved rounds on this
noisy 2-core machine: ratios of the same work in the same minutes, not absolute rates.

    git worktree add /tmp/base HEAD~1
    .venv/bin/python scripts/bench/ab_servers.py --base-src /tmp/base/src [--n 100000] [--rounds 6]

Both servers get the same data (the cached MiniLM set, else random unit vectors) through raw
`qdrant_client.grpc` stubs, in UpsertPoints of 1,000 points, and are left to index. Then each
round runs, for each server in turn (the order alternates), one caller's QueryPoints (dense
nearest, limit 10, hnsw_ef 100) for `--seconds`, and an ingest of 10 UpsertPoints of 1,000
points with `wait` into a second collection (never indexed). Printed: per-round rates, the median of each, and
this checkout's median over the base's. Only one server is busy at any moment.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import Server  # noqa: E402
from grpc_path import dataset  # noqa: E402


class Side:
    def __init__(self, name: str, env: dict[str, str]) -> None:
        import grpc
        from qdrant_client import grpc as q

        self.q = q
        self.name = name
        self.server = Server(env=env)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.server.grpc_port}",
                                             options=[("grpc.max_send_message_length", -1)])
        self.points = q.PointsStub(self.channel)
        self.collections = q.CollectionsStub(self.channel)
        self.qps: list[float] = []
        self.p50_ms: list[float] = []
        self.server_ms: list[float] = []
        self.ingest: list[float] = []

    def create(self, name: str, indexed: bool = True) -> None:
        q = self.q
        # The ingest collection is never indexed: a graph built in the background would slow
        # whichever server is measured next.
        optimizers = None if indexed else q.OptimizersConfigDiff(indexing_threshold=0)
        self.collections.Create(q.CreateCollection(collection_name=name, vectors_config=q.VectorsConfig(
            params=q.VectorParams(size=384, distance=q.Cosine)), hnsw_config=q.HnswConfigDiff(m=16, ef_construct=100),
            optimizers_config=optimizers), timeout=60)

    def upsert(self, name: str, vectors: np.ndarray, first_id: int) -> None:
        q = self.q
        for start in range(0, len(vectors), 1000):
            points = [q.PointStruct(id=q.PointId(num=first_id + i), vectors=q.Vectors(vector=q.Vector(
                dense=q.DenseVector(data=vectors[i].tolist())))) for i in range(start, min(len(vectors), start + 1000))]
            self.points.Upsert(q.UpsertPoints(collection_name=name, wait=True, points=points), timeout=300)

    def wait_green(self) -> None:
        while self.collections.Get(self.q.GetCollectionInfoRequest(collection_name="bench"),
                                   timeout=60).result.status != self.q.Green:
            time.sleep(0.5)

    def query_round(self, requests: list, seconds: float) -> None:
        latencies, server_times, n = [], [], 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            sent = time.perf_counter()
            response = self.points.Query(requests[n % len(requests)], timeout=60)
            latencies.append(time.perf_counter() - sent)
            server_times.append(response.time)
            n += 1
        self.qps.append(n / (time.perf_counter() - started))
        self.p50_ms.append(1000 * statistics.median(latencies))
        self.server_ms.append(1000 * statistics.median(server_times))

    def ingest_round(self, vectors: np.ndarray, first_id: int) -> None:
        started = time.perf_counter()
        self.upsert("ingest", vectors, first_id)
        self.ingest.append(len(vectors) / (time.perf_counter() - started))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-src", required=True, type=Path)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    corpus, queries, kind = dataset(args.n)
    base = Side("base", {"PYTHONPATH": str(args.base_src.resolve())})
    this = Side("this", {})
    sides = [base, this]
    try:
        for side in sides:
            side.create("bench")
            side.create("ingest", indexed=False)
            side.upsert("bench", corpus, 0)
        for side in sides:
            side.wait_green()
        q = base.q
        requests = [q.QueryPoints(collection_name="bench", limit=10, params=q.SearchParams(hnsw_ef=100),
                                  query=q.Query(nearest=q.VectorInput(dense=q.DenseVector(data=v.tolist()))))
                    for v in queries]
        rng = np.random.default_rng(1)
        for r in range(args.rounds):
            chunk = rng.standard_normal((10_000, corpus.shape[1])).astype(np.float32)
            for side in (sides if r % 2 == 0 else sides[::-1]):
                side.query_round(requests, args.seconds)
                side.ingest_round(chunk, r * 10_000)
            print(f"round {r}: " + ", ".join(f"{s.name} {s.qps[-1]:.0f} q/s {s.ingest[-1]:.0f} pts/s" for s in sides),
                  flush=True)
    finally:
        for side in sides:
            side.channel.close()
            side.server.stop()

    def med(values: list[float]) -> float:
        return statistics.median(values)

    print(f"\n{kind} {args.n} x {corpus.shape[1]}, {args.rounds} interleaved rounds; medians:\n")
    print("| server | QPS 1 caller | p50 ms (client) | p50 ms (server's `time`) | upsert pts/s |")
    print("|---|---|---|---|---|")
    for side in sides:
        print(f"| {side.name} | {med(side.qps):.0f} | {med(side.p50_ms):.2f} | {med(side.server_ms):.2f} | "
              f"{med(side.ingest):.0f} |")
    print(f"| this / base | {med(this.qps) / med(base.qps):.2f}x | {med(this.p50_ms) / med(base.p50_ms):.2f}x | "
          f"{med(this.server_ms) / med(base.server_ms):.2f}x | {med(this.ingest) / med(base.ingest):.2f}x |")


if __name__ == "__main__":
    main()
