"""Dense search benchmark: vecinfer (in-process and through gRPC), qdrant-edge-py (Qdrant's
engine in-process) and raw FAISS HNSW on the same data, in one run.

    .venv/bin/python scripts/bench/search.py [--n 100000] [--queries 200] [--engines a,b] [--no-sparse]

Data: real all-MiniLM-L6-v2 embeddings (384-d) of short passages of English text
(scripts/bench/data.py, cached under .cache/bench). Each engine runs in its own process (so
its RSS is its own), with M=16, ef_construct=100 and search ef=100 (vecinfer's and Qdrant's
defaults), one search thread per query in process; the gRPC server runs with its own defaults
(a query alone searches its segments on up to one thread per CPU; set VECINFER_SEARCH_THREADS=1
in the environment for one thread). Recall@10 is against exact search, unfiltered and
under filters keeping 50 %, 10 % and 1 % of the points. Ratios are to qdrant-edge-py.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as `vecinfer serve` does: one thread per query
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import CpuMeter, Server, percentile  # noqa: E402

from data import CACHE, minilm_embeddings, search_vectors  # noqa: E402

M, EF_CONSTRUCT, EF = 16, 100, 100
SELECTIVITY = {"none": None, "50%": 50, "10%": 10, "1%": 1}  # bucket < x, buckets 0..99
ENGINES = ["qdrant-edge", "vecinfer", "vecinfer-grpc", "faiss"]


def bucket(i: int) -> int:
    return (i * 7919) % 100  # spread buckets so filters do not follow insertion order


def ground_truth(corpus: np.ndarray, queries: np.ndarray) -> dict[str, np.ndarray]:
    buckets = np.array([bucket(i) for i in range(len(corpus))])
    scores = queries @ corpus.T
    truth = {}
    for name, limit in SELECTIVITY.items():
        s = scores if limit is None else np.where(buckets[None, :] < limit, scores, -np.inf)
        top = np.argpartition(-s, 10, axis=1)[:, :10]
        order = np.argsort(-np.take_along_axis(s, top, axis=1), axis=1)
        truth[name] = np.take_along_axis(top, order, axis=1)
    return truth


# ---------------------------------------------------------------------------- engines
# Each offers load(corpus) and search(query, limit_bucket) -> ids.

class FaissEngine:
    def load(self, corpus):
        import faiss

        faiss.omp_set_num_threads(1)
        self.faiss = faiss
        self.buckets = np.array([bucket(i) for i in range(len(corpus))])
        self.masks = {x: np.packbits(self.buckets < x, bitorder="little") for x in SELECTIVITY.values() if x}
        started = time.perf_counter()
        self.index = faiss.IndexHNSWFlat(corpus.shape[1], M, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = EF_CONSTRUCT
        self.index.add(corpus)
        return {"upsert_s": time.perf_counter() - started, "index_s": 0.0}

    def search(self, query, limit):
        params = self.faiss.SearchParametersHNSW()
        params.efSearch = EF
        if limit is not None:
            params.sel = self.faiss.IDSelectorBitmap(len(self.buckets), self.faiss.swig_ptr(self.masks[limit]))
        _, labels = self.index.search(query.reshape(1, -1), 10, params=params)
        return labels[0].tolist()


class EdgeEngine:
    def load(self, corpus):
        import qdrant_edge as qe

        self.qe = qe
        self.tmp = tempfile.mkdtemp(prefix="edge-")
        config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=corpus.shape[1], distance=qe.Distance.Cosine),
                               hnsw_config=qe.HnswIndexConfig(m=M, ef_construct=EF_CONSTRUCT, full_scan_threshold=10000),
                               max_search_threads=1)
        self.shard = qe.EdgeShard.create(self.tmp, config)
        self.shard.update(qe.UpdateOperation.create_field_index("bucket", qe.PayloadSchemaType.Integer))
        started = time.perf_counter()
        for start in range(0, len(corpus), 1000):
            points = [qe.Point(i, corpus[i].tolist(), {"bucket": bucket(i)}) for i in range(start, min(len(corpus), start + 1000))]
            self.shard.update(qe.UpdateOperation.upsert_points(points))
        upserted = time.perf_counter()
        self.shard.optimize()
        return {"upsert_s": upserted - started, "index_s": time.perf_counter() - upserted}

    def search(self, query, limit):
        qe = self.qe
        flt = None if limit is None else qe.Filter(must=[qe.FieldCondition("bucket", range=qe.RangeFloat(lt=float(limit)))])
        request = qe.QueryRequest(limit=10, query=qe.Query.Nearest(query.tolist()), filter=flt,
                                  params=qe.SearchParams(hnsw_ef=EF))
        return [p.id for p in self.shard.query(request)]


class VecinferEngine:
    """The storage and query layers in this process (no gRPC)."""

    def load(self, corpus):
        import faiss

        from vecinfer.domain import points as ops
        from vecinfer.domain.collections import CollectionConfig, DenseVectorParams, Distance, HnswConfig
        from vecinfer.storage.catalog import Catalog
        faiss.omp_set_num_threads(1)
        self.tmp = tempfile.mkdtemp(prefix="vecinfer-")
        self.catalog = Catalog(Path(self.tmp))
        config = CollectionConfig(dense={"": DenseVectorParams(corpus.shape[1], Distance.COSINE)}, unnamed=True,
                                  hnsw=HnswConfig(m=M, ef_construct=EF_CONSTRUCT))
        self.collection = self.catalog.create("bench", config)
        started = time.perf_counter()
        for start in range(0, len(corpus), 1000):
            points = [ops.Point(i, {"": corpus[i]}, {"bucket": bucket(i)}) for i in range(start, min(len(corpus), start + 1000))]
            self.collection.write([ops.Upsert(points)])
        upserted = time.perf_counter()
        self.catalog.optimizer.wait_idle(3600)
        memory = self.collection.segments.memory_bytes()
        graphs = sum(p.stat().st_size for p in Path(self.tmp).rglob("hnsw-*.faiss"))
        return {"upsert_s": upserted - started, "index_s": time.perf_counter() - upserted,
                "segments": len(self.collection.segments.all),
                "bytes_per_point": (memory["ram_vector_bytes"] + memory["mmap_vector_bytes"] + graphs) / len(corpus)}

    def search(self, query, limit):
        from vecinfer.domain.filters import Filter, Range
        from vecinfer.domain.query import Nearest, Prefetch, QueryRequest
        from vecinfer.query import planner

        flt = None if limit is None else Filter(must=(Range("bucket", lt=float(limit)),))
        request = QueryRequest(root=Prefetch(query=Nearest(vector=query), filter=flt, limit=10))
        with self.collection.lock.reading():
            return [p.id for p in planner.execute(self.collection, request)]


class VecinferGrpcEngine:
    """A vecinfer server process, queried through Qdrant's gRPC API (qdrant_client's stubs)."""

    def load(self, corpus):
        import grpc
        from qdrant_client import grpc as qgrpc

        self.qgrpc = qgrpc
        self.server = Server()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.server.grpc_port}",
                                             options=[("grpc.max_send_message_length", -1)])
        self.points = qgrpc.PointsStub(self.channel)
        collections = qgrpc.CollectionsStub(self.channel)
        collections.Create(qgrpc.CreateCollection(collection_name="bench", vectors_config=qgrpc.VectorsConfig(
            params=qgrpc.VectorParams(size=corpus.shape[1], distance=qgrpc.Cosine)),
            hnsw_config=qgrpc.HnswConfigDiff(m=M, ef_construct=EF_CONSTRUCT)), timeout=60)
        started = time.perf_counter()
        for start in range(0, len(corpus), 1000):
            points = [qgrpc.PointStruct(id=qgrpc.PointId(num=i), vectors=qgrpc.Vectors(vector=qgrpc.Vector(
                dense=qgrpc.DenseVector(data=corpus[i].tolist()))), payload={"bucket": qgrpc.Value(integer_value=bucket(i))})
                for i in range(start, min(len(corpus), start + 1000))]
            self.points.Upsert(qgrpc.UpsertPoints(collection_name="bench", wait=True, points=points), timeout=300)
        upserted = time.perf_counter()
        while collections.Get(qgrpc.GetCollectionInfoRequest(collection_name="bench"), timeout=60).result.status != qgrpc.Green:
            time.sleep(0.5)
        return {"upsert_s": upserted - started, "index_s": time.perf_counter() - upserted}

    def search(self, query, limit):
        qgrpc = self.qgrpc
        flt = None
        if limit is not None:
            flt = qgrpc.Filter(must=[qgrpc.Condition(field=qgrpc.FieldCondition(key="bucket", range=qgrpc.Range(lt=float(limit))))])
        request = qgrpc.QueryPoints(collection_name="bench", query=qgrpc.Query(nearest=qgrpc.VectorInput(
            dense=qgrpc.DenseVector(data=query.tolist()))), limit=10, filter=flt,
            params=qgrpc.SearchParams(hnsw_ef=EF))
        return [p.id.num for p in self.points.Query(request, timeout=60).result]

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.server.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0


# ---------------------------------------------------------------------------- sparse (BM25)

def bm25_data(n: int, n_queries: int):
    """BM25 document vectors of the corpus passages and query vectors of 3-word queries."""
    from vecinfer.domain.inference import Document
    from vecinfer.inference.bm25.model import Bm25Backend

    _, _, texts, query_texts = minilm_embeddings(n, n_queries)
    backend = Bm25Backend()
    docs = backend.embed_sync([Document(model="qdrant/bm25", text=t) for t in texts], "document").vectors
    queries = backend.embed_sync([Document(model="qdrant/bm25", text=" ".join(t.split()[:3])) for t in query_texts], "query").vectors
    return docs, queries


def sparse_truth(docs, queries) -> np.ndarray:
    """Exact BM25 + IDF top-10 by brute force."""
    rows = np.concatenate([np.full(len(v.indices), i) for i, v in enumerate(docs)])
    tokens = np.concatenate([v.indices for v in docs]).astype(np.int64)
    values = np.concatenate([v.values for v in docs]).astype(np.float64)
    n = len(docs)
    out = []
    for q in queries:
        scores = np.zeros(n)
        for t in q.indices.tolist():
            hit = tokens == t
            df = len(np.unique(rows[hit]))
            idf = np.log((n - df + 0.5) / (df + 0.5) + 1)
            np.add.at(scores, rows[hit], idf * values[hit])
        order = np.argsort(-scores, kind="stable")[:10]
        out.append([i for i in order.tolist() if scores[i] > 0])
    return out


class SparseEdgeEngine:
    def load(self, docs):
        import qdrant_edge as qe

        self.qe = qe
        self.tmp = tempfile.mkdtemp(prefix="edge-sparse-")
        config = qe.EdgeConfig(sparse_vectors={"text": qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)}, max_search_threads=1)
        self.shard = qe.EdgeShard.create(self.tmp, config)
        started = time.perf_counter()
        for start in range(0, len(docs), 1000):
            points = [qe.Point(i, {"text": qe.SparseVector(docs[i].indices.tolist(), docs[i].values.tolist())})
                      for i in range(start, min(len(docs), start + 1000))]
            self.shard.update(qe.UpdateOperation.upsert_points(points))
        upserted = time.perf_counter()
        self.shard.optimize()
        return {"upsert_s": upserted - started, "index_s": time.perf_counter() - upserted}

    def search(self, query):
        qe = self.qe
        request = qe.QueryRequest(limit=10, query=qe.Query.Nearest(qe.SparseVector(query.indices.tolist(), query.values.tolist()), using="text"))
        return [p.id for p in self.shard.query(request)]


class SparseVecinferEngine:
    def load(self, docs):
        from vecinfer.domain import points as ops
        from vecinfer.domain.collections import CollectionConfig, Modifier, SparseVectorParams
        from vecinfer.storage.catalog import Catalog

        self.tmp = tempfile.mkdtemp(prefix="vecinfer-sparse-")
        self.catalog = Catalog(Path(self.tmp))
        self.collection = self.catalog.create("bench", CollectionConfig(sparse={"text": SparseVectorParams(Modifier.IDF)}))
        started = time.perf_counter()
        for start in range(0, len(docs), 1000):
            self.collection.write([ops.Upsert([ops.Point(i, {"text": docs[i]}) for i in range(start, min(len(docs), start + 1000))])])
        return {"upsert_s": time.perf_counter() - started, "index_s": 0.0}

    def search(self, query):
        from vecinfer.domain.query import Nearest, Prefetch, QueryRequest
        from vecinfer.query import planner

        request = QueryRequest(root=Prefetch(query=Nearest(vector=query), using="text", limit=10))
        with self.collection.lock.reading():
            return [p.id for p in planner.execute(self.collection, request)]


def run_sparse_worker(engine_name: str, n: int, n_queries: int) -> dict:
    docs, queries = bm25_data(n, n_queries)
    truth = sparse_truth(docs, queries)
    engine = {"qdrant-edge": SparseEdgeEngine, "vecinfer": SparseVecinferEngine}[engine_name]()
    result = {"engine": engine_name, **engine.load(docs)}
    result["build_s"] = result["upsert_s"] + result["index_s"]
    result["upsert_pts_s"] = n / result["upsert_s"]
    for q in queries[:20]:
        engine.search(q)
    latencies, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        found.append(engine.search(q))
        latencies.append(time.perf_counter() - t0)
    result["qps_1"] = len(queries) / sum(latencies)
    result["p50_ms"] = percentile(latencies, 50) * 1e3
    result["p99_ms"] = percentile(latencies, 99) * 1e3
    with ThreadPoolExecutor(8) as pool:
        t0 = time.perf_counter()
        list(pool.map(engine.search, list(queries) * 2))
        result["qps_8"] = 2 * len(queries) / (time.perf_counter() - t0)
    result["recall_none"] = float(np.mean([len(set(f) & set(t)) / max(1, len(t)) for f, t in zip(found, truth)]))
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**20
    return result


WORKERS = {"faiss": FaissEngine, "qdrant-edge": EdgeEngine, "vecinfer": VecinferEngine, "vecinfer-grpc": VecinferGrpcEngine}


def run_worker(engine_name: str, n: int, n_queries: int) -> dict:
    corpus, queries, _ = search_vectors(n, n_queries)
    truth = dict(np.load(CACHE / f"truth-{n}-{n_queries}.npz"))
    engine = WORKERS[engine_name]()
    result = {"engine": engine_name, **engine.load(corpus)}
    result["build_s"] = result["upsert_s"] + result["index_s"]
    result["upsert_pts_s"] = n / result["upsert_s"]
    for q in queries[:20]:
        engine.search(q, None)  # warm-up
    latencies, found = [], []
    pids = [os.getpid()] + ([engine.server.proc.pid] if hasattr(engine, "server") else [])
    with CpuMeter(pids) as meter:
        for q in queries:
            t0 = time.perf_counter()
            found.append(engine.search(q, None))
            latencies.append(time.perf_counter() - t0)
    result["other_cpu"] = meter.other_cores
    result["qps_1"] = len(queries) / sum(latencies)
    result["p50_ms"] = percentile(latencies, 50) * 1e3
    result["p99_ms"] = percentile(latencies, 99) * 1e3
    with ThreadPoolExecutor(8) as pool:
        t0 = time.perf_counter()
        list(pool.map(lambda q: engine.search(q, None), list(queries) * 2))
        result["qps_8"] = 2 * len(queries) / (time.perf_counter() - t0)
    for name, limit in SELECTIVITY.items():
        got = found if limit is None else [engine.search(q, limit) for q in queries]
        result[f"recall_{name}"] = float(np.mean([len(set(g) & set(t.tolist())) / 10 for g, t in zip(got, truth[name])]))
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result["rss_mb"] = (engine.rss_bytes() if hasattr(engine, "rss_bytes") else own) / 2**20
    if hasattr(engine, "server"):
        engine.server.stop()
    return result


COLUMNS = [("build_s", "build s", "{:.1f}", False), ("upsert_pts_s", "upsert pts/s", "{:.0f}", True),
           ("qps_1", "QPS 1 client", "{:.0f}", True), ("qps_8", "QPS 8 clients", "{:.0f}", True),
           ("p50_ms", "p50 ms", "{:.2f}", False), ("p99_ms", "p99 ms", "{:.2f}", False),
           ("recall_none", "recall@10", "{:.3f}", True), ("recall_50%", "r@10 50%", "{:.3f}", True),
           ("recall_10%", "r@10 10%", "{:.3f}", True), ("recall_1%", "r@10 1%", "{:.3f}", True),
           ("rss_mb", "RSS MB", "{:.0f}", False)]


def table(results: list[dict], columns=COLUMNS) -> str:
    anchor = next((r for r in results if r["engine"] == "qdrant-edge"), None)
    lines = ["| engine | " + " | ".join(c[1] for c in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for r in results:
        cells = []
        for key, _, fmt, _ in columns:
            cell = fmt.format(r[key])
            if anchor and r is not anchor and anchor.get(key) and not key.startswith("recall"):
                cell += f" ({r[key] / anchor[key]:.2f}x)"
            cells.append(cell)
        lines.append(f"| {r['engine']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--no-sparse", action="store_true", help="skip the BM25 part")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.worker.startswith("sparse:"):
            result = run_sparse_worker(args.worker.split(":", 1)[1], args.n, args.queries)
        else:
            result = run_worker(args.worker, args.n, args.queries)
        print("RESULT " + json.dumps(result), flush=True)
        return
    corpus, queries, description = search_vectors(args.n, args.queries)
    truth_path = CACHE / f"truth-{args.n}-{args.queries}.npz"
    if not truth_path.exists():
        np.savez(truth_path, **ground_truth(corpus, queries))
    def run(worker: str) -> dict | None:
        print(f"running {worker} ...", flush=True)
        out = subprocess.run([sys.executable, __file__, "--worker", worker, "--n", str(args.n), "--queries", str(args.queries)],
                             capture_output=True, text=True)
        line = next((row for row in out.stdout.splitlines() if row.startswith("RESULT ")), None)
        if line is None:
            print(out.stdout[-2000:], out.stderr[-3000:])
            return None
        print(f"  {line[7:]}", flush=True)
        return json.loads(line[7:])

    results = [r for r in (run(e) for e in args.engines.split(",") if e) if r]
    sparse = [] if args.no_sparse or args.n > 100_000 else [r for r in (run(f"sparse:{e}") for e in ("qdrant-edge", "vecinfer")) if r]
    if results:
        print(f"\n### Dense: {description}, {corpus.shape[1]}-d, {args.queries} queries\n")
        print("Ratios to qdrant-edge-py (higher is better for pts/s, QPS; lower for s, ms, MB).\n")
        print(table(results))
    if sparse:
        print(f"\n### Sparse: BM25 (qdrant/bm25) of the same {args.n} passages, IDF, {args.queries} 3-word queries\n")
        print("recall@10 = agreement with an exact brute-force BM25+IDF ranking.\n")
        print(table(sparse, [c for c in COLUMNS if not c[0].startswith("recall_") or c[0] == "recall_none"]))
    for r in results:
        if "bytes_per_point" in r:
            print(f"\nvecinfer: {r['segments']} segments, {r['bytes_per_point']:.0f} bytes per point of vectors + graphs "
                  f"(sealed vectors memory-mapped); other CPU during single-client queries {r['other_cpu']:.2f} cores")


if __name__ == "__main__":
    main()
