"""Does appending to an HNSW graph (how vecinfer merges segments) cost recall, against building
the graph at once? FAISS alone, on the benchmark set (100k MiniLM passages, 200 queries),
recall@10 against exact search, M=16, ef_construct=100:

    .venv/bin/python scripts/bench/graph_recall.py [--n 100000]

Rows: one `add` of every vector; 8,192-point adds (vecinfer's index build); a 6,500-point
graph grown by 6,500-point appends (vecinfer's merges); two half-size graphs searched apart
and their hits merged (two segments); the last two also at ef 64 and 128.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
import sys
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from data import minilm_embeddings  # noqa: E402

Graph = tuple[faiss.Index, int]  # a graph and the row number of its first vector


def build(rows: np.ndarray, chunk: int) -> faiss.Index:
    index = faiss.IndexHNSWFlat(rows.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 100
    for start in range(0, len(rows), chunk):
        index.add(rows[start:start + chunk])
    return index


def recall(graphs: list[Graph], queries: np.ndarray, truth: np.ndarray, ef: int = 100) -> float:
    params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
    params.efSearch = ef
    found = []
    for query in queries:
        hits: list[tuple[float, int]] = []
        for index, first in graphs:
            scores, ids = index.search(query[None], 10, params=params)
            hits += [(s, i + first) for s, i in zip(scores[0], ids[0]) if i >= 0]
        hits.sort(key=lambda hit: -hit[0])
        found.append({i for _, i in hits[:10]})
    return float(np.mean([len(f & set(t)) / 10 for f, t in zip(found, truth)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    corpus, queries, _, _ = minilm_embeddings(args.n)
    corpus, queries = np.ascontiguousarray(corpus, np.float32), np.ascontiguousarray(queries, np.float32)
    truth = np.argsort(-(queries @ corpus.T), axis=1)[:, :10]
    half = len(corpus) // 2

    def report(label: str, make: Callable[[], list[Graph]]) -> list[Graph]:
        started = time.perf_counter()
        graphs = make()
        built = time.perf_counter() - started
        print(f"{label:<44}recall@10 {recall(graphs, queries, truth):.4f}   built in {built:6.1f} s", flush=True)
        return graphs

    def appended() -> list[Graph]:
        grown = build(corpus[:6500], 6500)
        for start in range(6500, len(corpus), 6500):
            grown.add(corpus[start:start + 6500])
        return [(grown, 0)]

    report("one add of every vector", lambda: [(build(corpus, len(corpus)), 0)])
    whole = report("8,192-point adds (index build)", lambda: [(build(corpus, 8192), 0)])
    report("6,500-point appends (merges)", appended)
    halves = report("two halves searched apart, hits merged",
                    lambda: [(build(corpus[:half], 8192), 0), (build(corpus[half:], 8192), half)])
    for ef in (64, 128):
        print(f"ef {ef}: one graph {recall(whole, queries, truth, ef):.4f}, two halves {recall(halves, queries, truth, ef):.4f}")


if __name__ == "__main__":
    main()
