"""A batch of dense queries: its plain nearest searches in one graph search call per segment
(`planner.execute_batch`, what QueryBatch runs) against the same queries executed one by one,
in this process, interleaved round by round.

    .venv/bin/python scripts/bench/query_batch.py [--n 100000] [--batch 16] [--rounds 5]

Data: the cached MiniLM set (scripts/bench/data.py), else random unit vectors; one collection
with vecinfer's defaults (HNSW m=16, ef_construct=100), indexed before measuring. Printed: queries/s
of each way per round, the medians and their ratio, and whether both gave the same answers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as `vecinfer serve` does: one thread per query

sys.path.insert(0, str(Path(__file__).parent))
from grpc_path import dataset  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from vecinfer.domain import points as ops
    from vecinfer.domain.collections import CollectionConfig, DenseVectorParams, Distance, HnswConfig
    from vecinfer.domain.query import Nearest, Prefetch, QueryRequest, SearchParams
    from vecinfer.query import planner
    from vecinfer.storage.catalog import Catalog

    corpus, queries, kind = dataset(args.n)
    with tempfile.TemporaryDirectory(prefix="vecinfer-bench-") as tmp:
        catalog = Catalog(Path(tmp))
        collection = catalog.create("bench", CollectionConfig(
            dense={"": DenseVectorParams(corpus.shape[1], Distance.COSINE)}, unnamed=True,
            hnsw=HnswConfig(m=16, ef_construct=100)))
        for start in range(0, len(corpus), 1000):
            collection.write([ops.Upsert([ops.Point(i, {"": corpus[i]}, {})
                                          for i in range(start, min(len(corpus), start + 1000))])])
        catalog.optimizer.wait_idle(3600)

        def batches() -> list[list[QueryRequest]]:
            requests = [QueryRequest(root=Prefetch(query=Nearest(vector=q.copy()), limit=10,
                                                   params=SearchParams(hnsw_ef=100))) for q in queries]
            return [requests[i : i + args.batch] for i in range(0, len(requests), args.batch)]

        def one_by_one() -> list[list[list[int]]]:
            return [[[p.id for p in planner.execute(collection, r)] for r in batch] for batch in batches()]

        def together() -> list[list[list[int]]]:
            return [[[p.id for p in hits] for hits in planner.execute_batch(collection, batch)] for batch in batches()]

        rates: dict[str, list[float]] = {"one by one": [], "execute_batch": []}
        answers = {}
        with collection.lock.reading():
            segments = len(collection.segments.all)
            for r in range(args.rounds):
                ways = [("one by one", one_by_one), ("execute_batch", together)]
                for name, way in (ways if r % 2 == 0 else ways[::-1]):
                    started = time.perf_counter()
                    answers[name] = way()
                    rates[name].append(len(queries) / (time.perf_counter() - started))
        catalog.close()

    print(f"{kind} {args.n} x {corpus.shape[1]}, {segments} segments, {len(queries)} queries in batches of "
          f"{args.batch}, {args.rounds} interleaved rounds\n")
    print("| way | queries/s per round | median |")
    print("|---|---|---|")
    for name, values in rates.items():
        print(f"| {name} | {', '.join(f'{v:.0f}' for v in values)} | {statistics.median(values):.0f} |")
    ratio = statistics.median(rates["execute_batch"]) / statistics.median(rates["one by one"])
    print(f"\nexecute_batch / one by one: {ratio:.2f}x; same answers: {answers['one by one'] == answers['execute_batch']}")


if __name__ == "__main__":
    main()
