"""A Document query the embedding cache already holds, against a plain vector query and a
miss, through vecinfer's gRPC door with raw `qdrant_client.grpc` stubs (no client-side model
conversion), one caller, interleaved rounds.

    .venv/bin/python scripts/bench/cached_text.py [--rounds 3] [--calls 300]

A cached text is answered on the gRPC worker (the SQLite read happens there), so its p50 should
sit just above a vector query's; a miss runs MiniLM. 3,000 random 384-d points; printed: p50 per
kind and round, then the medians and the cached / vector ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import Server, percentile  # noqa: E402

MINILM = "sentence-transformers/all-minilm-l6-v2"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    import grpc
    from qdrant_client import grpc as q

    server = Server(env={"VECINFER_EMBEDDING_CACHE_BYTES": str(256 << 20)})
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
        points = q.PointsStub(channel)
        q.CollectionsStub(channel).Create(q.CreateCollection(collection_name="c", vectors_config=q.VectorsConfig(
            params=q.VectorParams(size=384, distance=q.Cosine))), timeout=60)
        vectors = np.random.default_rng(0).normal(size=(3000, 384)).astype(np.float32)
        for start in range(0, len(vectors), 500):
            points.Upsert(q.UpsertPoints(collection_name="c", wait=True, points=[
                q.PointStruct(id=q.PointId(num=i), vectors=q.Vectors(vector=q.Vector(
                    dense=q.DenseVector(data=vectors[i].tolist())))) for i in range(start, start + 500)]), timeout=60)

        def document(text: str) -> q.QueryPoints:
            return q.QueryPoints(collection_name="c", limit=10, query=q.Query(nearest=q.VectorInput(
                document=q.Document(text=text, model=MINILM))))

        cached = document("the quick brown fox jumps over the lazy dog")
        plain = q.QueryPoints(collection_name="c", limit=10, query=q.Query(nearest=q.VectorInput(
            dense=q.DenseVector(data=vectors[0].tolist()))))
        points.Query(cached, timeout=60)
        time.sleep(0.5)  # the cache's write lands after the first answer
        medians: dict[str, list[float]] = {"vector": [], "cached text": [], "missed text": []}
        misses = 0
        for round_ in range(args.rounds):
            for kind in medians:
                latencies = []
                for _ in range(args.calls if kind != "missed text" else args.calls // 5):
                    if kind == "missed text":
                        misses += 1
                        request = document(f"passage {misses} on a topic of its own, number {misses * 7}")
                    else:
                        request = plain if kind == "vector" else cached
                    started = time.perf_counter()
                    points.Query(request, timeout=60)
                    latencies.append(time.perf_counter() - started)
                p50 = percentile(latencies, 50) * 1e3
                medians[kind].append(p50)
                print(f"round {round_}: {kind:12s} p50 {p50:.2f} ms")
        summary = {kind: statistics.median(values) for kind, values in medians.items()}
        print(", ".join(f"{kind} {value:.2f} ms" for kind, value in summary.items()),
              f"| cached / vector {summary['cached text'] / summary['vector']:.2f}x")
        channel.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
