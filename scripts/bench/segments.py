"""Many sealed segments: one dense query's latency when its segments are searched one after
another (VECINFER_SEARCH_THREADS=1) and with 2 threads (side by side when the search runs
alone, in turn beside another), in one process, on the same collection; the ratio is
sequential / parallel (above 1: parallel is faster).

    .venv/bin/python scripts/bench/segments.py [--n 200000] [--dim 128] [--segments 8] [--queries 300]

Random unit vectors (latency does not depend on what they say), HNSW M=16, ef_construct=100,
search ef=100; also the queries/s of two concurrent callers, where parallel search has no idle
core to use.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import percentile  # noqa: E402

from vecinfer.domain import points as ops  # noqa: E402
from vecinfer.domain.collections import CollectionConfig, DenseVectorParams, Distance, OptimizersConfig  # noqa: E402
from vecinfer.domain.query import SearchParams  # noqa: E402
from vecinfer.storage import segments  # noqa: E402
from vecinfer.storage.catalog import Catalog  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--segments", type=int, default=8)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(args.n, args.dim)).astype(np.float32)
    queries = rng.normal(size=(args.queries, args.dim)).astype(np.float32)
    per_segment_kb = args.n // args.segments * args.dim * 4 // 1024
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Catalog(Path(tmp))
        collection = catalog.create("c", CollectionConfig(
            dense={"": DenseVectorParams(args.dim, Distance.COSINE)}, unnamed=True,
            optimizers=OptimizersConfig(indexing_threshold=per_segment_kb, default_segment_number=10_000,
                                        max_segment_size=per_segment_kb * 2)))
        started = time.perf_counter()
        for start in range(0, args.n, 5_000):
            collection.write([ops.Upsert([ops.Point(i, {"": vectors[i]}, {}) for i in range(start, start + 5_000)])])
        catalog.optimizer.wait_idle(3600)
        with collection.lock.reading():
            count = len(collection.segments.sealed)
        print(f"{args.n} x {args.dim} in {count} sealed segments (+ mutable), built in {time.perf_counter() - started:.0f} s")
        mask = collection.matching(None)
        params = SearchParams(hnsw_ef=100)

        def one(q: np.ndarray) -> float:
            t0 = time.perf_counter()
            with collection.lock.reading():
                collection.search("", q, 10, mask, params)
            return time.perf_counter() - t0

        results = {}
        for threads in (1, 2):
            segments.set_search_threads(threads)
            for q in queries[:20]:
                one(q)
            latencies = [one(q) for q in queries]
            done = [0, 0]

            def caller(k: int, done: list[int] = done) -> None:
                for q in queries[k::2]:
                    one(q)
                    done[k] += 1

            t0 = time.perf_counter()
            callers = [threading.Thread(target=caller, args=(k,)) for k in range(2)]
            for c in callers:
                c.start()
            for c in callers:
                c.join()
            qps = sum(done) / (time.perf_counter() - t0)
            results[threads] = (percentile(latencies, 50), percentile(latencies, 99), qps)
            print(f"search threads {threads}: p50 {results[threads][0] * 1e3:.2f} ms, p99 {results[threads][1] * 1e3:.2f} ms, "
                  f"2 callers {qps:.0f} q/s")
        print(f"sequential / parallel: p50 {results[1][0] / results[2][0]:.2f}x, p99 {results[1][1] / results[2][1]:.2f}x, "
              f"2-caller q/s {results[2][2] / results[1][2]:.2f}x")
        catalog.close()


if __name__ == "__main__":
    main()
