"""BM25 benchmark: ingest documents/s through gRPC and query latency on a 100k corpus,
next to baselines run in the same process.

    .venv/bin/python scripts/bench/bm25.py [--docs 100000] [--queries 500]

Baselines: ingest = the same BM25 vectors computed in-process with no gRPC or storage;
query = a brute-force scan of every stored document vector (numpy) with the same IDF.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import CpuMeter, Server, percentile, text_corpus  # noqa: E402

from vecinfer.inference.bm25.model import Bm25Backend  # noqa: E402  (no protos: safe beside qdrant_client)

BM25 = "qdrant/bm25"


def brute_force_index(vectors):
    rows = np.concatenate([np.full(len(v.indices), i, dtype=np.int64) for i, v in enumerate(vectors)])
    indices = np.concatenate([v.indices for v in vectors]).astype(np.int64)
    values = np.concatenate([v.values for v in vectors])
    return rows, indices, values


def brute_force_query(index, n_docs, query, k=10):
    rows, indices, values = index
    hit = np.isin(indices, query.indices)
    df = {int(t): 0 for t in query.indices}
    uniq, counts = np.unique(indices[hit], return_counts=True)
    df.update(zip(uniq.tolist(), counts.tolist()))
    idf = {t: math.log((n_docs - d + 0.5) / (d + 0.5) + 1) for t, d in df.items()}
    weights = np.array([idf[int(t)] for t in indices[hit]], dtype=np.float32)
    scores = np.bincount(rows[hit], weights=values[hit] * weights, minlength=n_docs)
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--clients", type=int, default=2, help="concurrent upsert streams")
    args = parser.parse_args()
    from qdrant_client import models

    docs = text_corpus(args.docs)
    queries = [" ".join(d.split()[:3]) for d in docs[:: max(1, len(docs) // args.queries)]][: args.queries]
    print(f"corpus: {len(docs)} passages from the Python standard library's comments/docstrings, "
          f"{sum(len(d.split()) for d in docs) / len(docs):.1f} words avg; {len(queries)} queries of 3 words")

    backend = Bm25Backend()
    t0 = time.perf_counter()
    documents = [models_document(d) for d in docs]
    vectors = [backend.embed_sync(documents[i:i + args.batch], "document").vectors for i in range(0, len(docs), args.batch)]
    vectors = [v for batch in vectors for v in batch]
    baseline_ingest = len(docs) / (time.perf_counter() - t0)

    server = Server()
    try:
        client = server.client(cloud_inference=True)
        client.create_collection("bm25", vectors_config={},
                                 sparse_vectors_config={"text": models.SparseVectorParams(modifier=models.Modifier.IDF)})
        batches = [docs[i:i + args.batch] for i in range(0, len(docs), args.batch)]

        def upload(start: int) -> None:
            for b in range(start, len(batches), args.clients):
                client.upsert("bm25", wait=True, points=[
                    models.PointStruct(id=b * args.batch + j, vector={"text": models.Document(text=t, model=BM25)})
                    for j, t in enumerate(batches[b])])

        with CpuMeter([os.getpid(), server.proc.pid]) as ingest_cpu:
            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(upload, range(args.clients)))
            ingest = len(docs) / (time.perf_counter() - t0)

        latencies, overlap = [], []
        index = brute_force_index(vectors)
        query_vectors = backend.embed_sync([models_document(q) for q in queries], "query").vectors
        for q in queries[:5]:  # warm-up
            client.query_points("bm25", query=models.Document(text=q, model=BM25), using="text", limit=10)
        with CpuMeter([os.getpid(), server.proc.pid]) as query_cpu:
            for q, qv in zip(queries, query_vectors):
                t0 = time.perf_counter()
                hits = client.query_points("bm25", query=models.Document(text=q, model=BM25), using="text", limit=10).points
                latencies.append(time.perf_counter() - t0)
                expected = set(brute_force_query(index, len(docs), qv).tolist())
                overlap.append(len(expected & {p.id for p in hits}) / 10)
        brute = []
        for qv in query_vectors:
            t0 = time.perf_counter()
            brute_force_query(index, len(docs), qv)
            brute.append(time.perf_counter() - t0)
    finally:
        server.stop()

    p50, p99 = percentile(latencies, 50) * 1e3, percentile(latencies, 99) * 1e3
    b50, b99 = percentile(brute, 50) * 1e3, percentile(brute, 99) * 1e3
    print(f"{'measure':<36}{'vecinfer (gRPC)':>16}{'baseline':>12}{'ratio':>8}")
    print(f"{'ingest documents/s':<36}{ingest:>16.0f}{baseline_ingest:>12.0f}{ingest / baseline_ingest:>8.2f}"
          f"   baseline: BM25 in-process, no gRPC/storage; other CPU {ingest_cpu.other_cores:.2f} cores")
    print(f"{'query p50 ms':<36}{p50:>16.2f}{b50:>12.2f}{b50 / p50:>8.2f}"
          f"   baseline: brute-force scan in-process (ratio = speed-up)")
    print(f"{'query p99 ms':<36}{p99:>16.2f}{b99:>12.2f}{b99 / p99:>8.2f}"
          f"   other CPU during queries {query_cpu.other_cores:.2f} cores")
    print(f"top-10 agreement with brute force: {np.mean(overlap):.3f} (ties at equal scores may differ)")


def models_document(text: str):
    from vecinfer.domain.inference import Document

    return Document(model=BM25, text=text)


if __name__ == "__main__":
    main()
