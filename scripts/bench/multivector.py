"""Multivector (MaxSim) query benchmark: vecinfer (in-process and through gRPC) against
qdrant-edge-py (Qdrant's engine in-process), exact and through its HNSW graph, on one data set.

    .venv/bin/python scripts/bench/multivector.py [--n 10000] [--rows 16] [--dim 128] [--query-rows 32] [--queries 100] [--varied]

Data: ColBERT-like token matrices, generated (seeded): each point a matrix of `--rows` unit
vectors (with `--varied`, 8 to 24 for 16, as documents differ in length) of `--dim` numbers
around a per-point direction around one of 200 topics; each query `--query-rows` noisy copies
of rows of one point. Cosine, MaxSim. vecinfer scores every point
exactly (it has no multivector graph); qdrant-edge is measured exact (`exact=True`, the
like-for-like figure) and through its HNSW graph (M=16, ef_construct=100, ef=100), after
`optimize()`. Each engine runs in its own process, one search thread per query
(OMP_NUM_THREADS=1, as `vecinfer serve` runs). Recall@10 is against an exact numpy MaxSim.
Ratios are to qdrant-edge exact.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as `vecinfer serve` does: one thread per query
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import Server, percentile  # noqa: E402

M, EF_CONSTRUCT, EF = 16, 100, 100
ENGINES = ["qdrant-edge-exact", "qdrant-edge-hnsw", "vecinfer", "vecinfer-grpc"]
BATCH = 250  # points per upsert


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def make_data(n: int, rows: int, dim: int, query_rows: int, n_queries: int,
              varied: bool) -> tuple[list[np.ndarray], np.ndarray]:
    """(points: n matrices of rows × dim, queries: n_queries × query_rows × dim), unit rows, seeded."""
    rng = np.random.default_rng(42)
    topics = unit(rng.normal(size=(200, dim)))
    centres = unit(topics[rng.integers(0, 200, n)] + 0.8 * unit(rng.normal(size=(n, dim))))
    counts = rng.integers(rows // 2, rows * 3 // 2 + 1, n) if varied else np.full(n, rows)
    points = [unit(centres[i] + 0.9 * unit(rng.normal(size=(int(counts[i]), dim)))) for i in range(n)]
    owners = rng.integers(0, n, n_queries)
    queries = np.stack([unit(points[o][rng.integers(0, len(points[o]), query_rows)]
                             + 0.5 * unit(rng.normal(size=(query_rows, dim)))) for o in owners])
    return points, queries


def exact_top10(points: list[np.ndarray], queries: np.ndarray) -> list[list[int]]:
    flat = np.concatenate(points)
    starts = np.cumsum([len(p) for p in points]) - np.array([len(p) for p in points])
    out = []
    for q in queries:
        scores = np.maximum.reduceat(flat @ q.T, starts, axis=0).sum(axis=1)
        out.append(np.argsort(-scores, kind="stable")[:10].tolist())
    return out


# ---------------------------------------------------------------------------- engines
# Each offers load(points) -> timings and search(query) -> ids.

class EdgeEngine:
    def __init__(self, exact: bool) -> None:
        self.exact = exact

    def load(self, points: list[np.ndarray]) -> dict:
        import qdrant_edge as qe

        self.qe = qe
        self.tmp = tempfile.mkdtemp(prefix="edge-multi-")
        config = qe.EdgeConfig(
            vectors=qe.EdgeVectorParams(size=points[0].shape[1], distance=qe.Distance.Cosine,
                                        multivector_config=qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim)),
            hnsw_config=qe.HnswIndexConfig(m=M, ef_construct=EF_CONSTRUCT, full_scan_threshold=10000),
            max_search_threads=1)
        self.shard = qe.EdgeShard.create(self.tmp, config)
        started = time.perf_counter()
        for start in range(0, len(points), BATCH):
            batch = [qe.Point(i, points[i].tolist(), {}) for i in range(start, min(len(points), start + BATCH))]
            self.shard.update(qe.UpdateOperation.upsert_points(batch))
        upserted = time.perf_counter()
        if not self.exact:
            self.shard.optimize()  # builds the graph; exact search does not need it
        return {"upsert_s": upserted - started, "index_s": time.perf_counter() - upserted}

    def search(self, query: np.ndarray) -> list[int]:
        qe = self.qe
        params = qe.SearchParams(exact=True) if self.exact else qe.SearchParams(hnsw_ef=EF)
        request = qe.QueryRequest(limit=10, query=qe.Query.Nearest(query.tolist()), params=params)
        return [p.id for p in self.shard.query(request)]


class VecinferEngine:
    """The storage and query layers in this process (no gRPC)."""

    def load(self, points: list[np.ndarray]) -> dict:
        from vecinfer.domain import points as ops
        from vecinfer.domain.collections import CollectionConfig, DenseVectorParams, Distance
        from vecinfer.storage.catalog import Catalog

        self.tmp = tempfile.mkdtemp(prefix="vecinfer-multi-")
        self.catalog = Catalog(Path(self.tmp))
        params = DenseVectorParams(points[0].shape[1], Distance.COSINE, {"multivector_config": {"comparator": "max_sim"}})
        self.collection = self.catalog.create("bench", CollectionConfig(dense={"": params}, unnamed=True))
        started = time.perf_counter()
        for start in range(0, len(points), BATCH):
            batch = [ops.Point(i, {"": points[i]}, {}) for i in range(start, min(len(points), start + BATCH))]
            self.collection.write([ops.Upsert(batch)])
        upserted = time.perf_counter()
        self.catalog.optimizer.wait_idle(3600)
        return {"upsert_s": upserted - started, "index_s": time.perf_counter() - upserted,
                "segments": len(self.collection.segments.all)}

    def search(self, query: np.ndarray) -> list[int]:
        from vecinfer.domain.query import Nearest, Prefetch, QueryRequest
        from vecinfer.query import planner

        request = QueryRequest(root=Prefetch(query=Nearest(vector=query), limit=10))
        with self.collection.lock.reading():
            return [int(p.id) for p in planner.execute(self.collection, request)]


class VecinferGrpcEngine:
    """A vecinfer server process, queried through Qdrant's gRPC API (qdrant_client's stubs)."""

    def load(self, points: list[np.ndarray]) -> dict:
        import grpc
        from qdrant_client import grpc as qgrpc

        self.qgrpc = qgrpc
        self.server = Server()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.server.grpc_port}",
                                             options=[("grpc.max_send_message_length", -1)])
        self.points = qgrpc.PointsStub(self.channel)
        collections = qgrpc.CollectionsStub(self.channel)
        collections.Create(qgrpc.CreateCollection(collection_name="bench", vectors_config=qgrpc.VectorsConfig(
            params=qgrpc.VectorParams(size=points[0].shape[1], distance=qgrpc.Cosine,
                                      multivector_config=qgrpc.MultiVectorConfig(comparator=qgrpc.MaxSim)))), timeout=60)
        started = time.perf_counter()
        for start in range(0, len(points), BATCH):
            batch = [qgrpc.PointStruct(id=qgrpc.PointId(num=i), vectors=qgrpc.Vectors(vector=qgrpc.Vector(
                multi_dense=self._matrix(points[i])))) for i in range(start, min(len(points), start + BATCH))]
            self.points.Upsert(qgrpc.UpsertPoints(collection_name="bench", wait=True, points=batch), timeout=300)
        upserted = time.perf_counter()
        while collections.Get(qgrpc.GetCollectionInfoRequest(collection_name="bench"), timeout=60).result.status != qgrpc.Green:
            time.sleep(0.5)
        return {"upsert_s": upserted - started, "index_s": time.perf_counter() - upserted}

    def _matrix(self, rows: np.ndarray):  # -> qgrpc.MultiDenseVector
        qgrpc = self.qgrpc
        return qgrpc.MultiDenseVector(vectors=[qgrpc.DenseVector(data=row) for row in rows.tolist()])

    def search(self, query: np.ndarray) -> list[int]:
        qgrpc = self.qgrpc
        request = qgrpc.QueryPoints(collection_name="bench", limit=10, query=qgrpc.Query(
            nearest=qgrpc.VectorInput(multi_dense=self._matrix(query))))
        return [p.id.num for p in self.points.Query(request, timeout=60).result]

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.server.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0


def engine_for(name: str):
    if name.startswith("qdrant-edge"):
        return EdgeEngine(exact=name.endswith("exact"))
    return VecinferEngine() if name == "vecinfer" else VecinferGrpcEngine()


def run_worker(name: str, args: argparse.Namespace) -> dict:
    points, queries = make_data(args.n, args.rows, args.dim, args.query_rows, args.queries, args.varied)
    truth = exact_top10(points, queries)
    engine = engine_for(name)
    result = {"engine": name, **engine.load(points)}
    result["build_s"] = result["upsert_s"] + result["index_s"]
    result["upsert_pts_s"] = args.n / result["upsert_s"]
    for q in queries[:5]:
        engine.search(q)  # warm-up
    latencies, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        found.append(engine.search(q))
        latencies.append(time.perf_counter() - t0)
    result["qps_1"] = len(queries) / sum(latencies)
    result["p50_ms"] = percentile(latencies, 50) * 1e3
    result["p99_ms"] = percentile(latencies, 99) * 1e3
    result["recall"] = float(np.mean([len(set(g) & set(t)) / 10 for g, t in zip(found, truth)]))
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result["rss_mb"] = (engine.rss_bytes() if hasattr(engine, "rss_bytes") else own) / 2**20
    if hasattr(engine, "server"):
        engine.server.stop()
    return result


COLUMNS = [("build_s", "build s", "{:.1f}"), ("upsert_pts_s", "upsert pts/s", "{:.0f}"), ("qps_1", "QPS", "{:.1f}"),
           ("p50_ms", "p50 ms", "{:.1f}"), ("p99_ms", "p99 ms", "{:.1f}"), ("recall", "recall@10", "{:.3f}"),
           ("rss_mb", "RSS MB", "{:.0f}")]


def table(results: list[dict]) -> str:
    anchor = next((r for r in results if r["engine"] == "qdrant-edge-exact"), None)
    lines = ["| engine | " + " | ".join(c[1] for c in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for r in results:
        cells = []
        for key, _, fmt in COLUMNS:
            cell = fmt.format(r[key])
            if anchor and r is not anchor and anchor.get(key) and key != "recall":
                cell += f" ({r[key] / anchor[key]:.2f}x)"
            cells.append(cell)
        lines.append(f"| {r['engine']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--query-rows", type=int, default=32)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--varied", action="store_true", help="rows per point from rows/2 to 3·rows/2")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(run_worker(args.worker, args)), flush=True)
        return
    passed = ["--n", str(args.n), "--rows", str(args.rows), "--dim", str(args.dim), "--query-rows", str(args.query_rows),
              "--queries", str(args.queries), *(["--varied"] if args.varied else [])]
    results = []
    for name in (e for e in args.engines.split(",") if e):
        print(f"running {name} ...", flush=True)
        out = subprocess.run([sys.executable, __file__, "--worker", name, *passed], capture_output=True, text=True)
        line = next((row for row in out.stdout.splitlines() if row.startswith("RESULT ")), None)
        if line is None:
            print(out.stdout[-2000:], out.stderr[-3000:])
            continue
        print(f"  {line[7:]}", flush=True)
        results.append(json.loads(line[7:]))
    rows = f"{args.rows // 2}–{args.rows * 3 // 2} rows" if args.varied else f"{args.rows} rows"
    print(f"\n### Multivectors: {args.n} points × {rows} × {args.dim}-d, Cosine MaxSim, "
          f"{args.queries} queries of {args.query_rows} rows\n")
    print("Ratios to qdrant-edge-py exact (higher is better for pts/s and QPS; lower for s, ms, MB).\n")
    print(table(results))


if __name__ == "__main__":
    main()
