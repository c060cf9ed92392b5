"""Query kinds at 100k: latency of grouped, MMR, formula, recommend, discover and order_by
queries as multiples of a plain nearest query, for vecinfer (in-process and through gRPC) and,
where it has the operation, qdrant-edge-py (Qdrant's engine in-process), in one run.

    .venv/bin/python scripts/bench/query_kinds.py [--n 100000] [--reps 200] [--budget 12]

Data: the search benchmark's real all-MiniLM-L6-v2 vectors (scripts/bench/data.py, cached under
.cache/bench) with a payload per point: `group` (keyword, 1,000 values), `price` (float,
uniform in [0, 100)), `tag` (keyword, 50 values); keyword indexes on `group` and `tag`, a float
index on `price` in every engine. M=16, ef_construct=100, ef=100, one search thread.

Kinds (limit 10 each): nearest; groups (group_by=group, group_size 3, 10 groups); MMR
(diversity 0.5, candidates_limit 100); formula over a 100-candidate nearest prefetch
(sum[$score, mult[0.01, price], exp_decay(price, target 50, scale 10)]); recommend best_score
with 3 positives; discover with a target and 2 pairs; order_by price (ascending). Examples are
given as vectors (the query vector and stored points' vectors), so no id lookups are timed.

Each engine runs in its own process. Kinds are interleaved (query i of every kind, then query
i+1) so that neighbours' load falls on all of them alike; a kind stops after `--reps`
repetitions or once it has used `--budget` seconds (but not before `--min-reps`). Reported:
p50 and p99 per kind, its p50 as a multiple of the same engine's nearest p50, and vecinfer's p50
as a multiple of qdrant-edge's for the same kind; "top-10 agreement" compares the first 20
queries' results with qdrant-edge's.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as `vecinfer serve` does: one thread per query
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import CpuMeter, Server, percentile  # noqa: E402

from data import search_vectors  # noqa: E402

M, EF_CONSTRUCT, EF = 16, 100, 100
KINDS = ["nearest", "groups", "mmr", "formula", "recommend_best", "discover", "order_by"]
LABELS = {"nearest": "nearest (limit 10)", "groups": "groups (group_by group, size 3)",
          "mmr": "nearest + MMR (diversity 0.5, 100 candidates)",
          "formula": "formula over a 100-candidate prefetch", "recommend_best": "recommend best_score, 3 positives",
          "discover": "discover, target + 2 pairs", "order_by": "order_by price (float index)"}
ENGINES = ["qdrant-edge", "vecinfer", "vecinfer-grpc"]
GROUPS, TAGS = 1000, 50
AGREEMENT_QUERIES = 20


def payloads(n: int) -> list[dict]:
    rng = np.random.default_rng(42)
    groups = rng.integers(0, GROUPS, n)
    prices = rng.uniform(0, 100, n)
    tags = rng.integers(0, TAGS, n)
    return [{"group": f"g{groups[i]:03d}", "price": float(prices[i]), "tag": f"t{tags[i]:02d}"} for i in range(n)]


class Inputs:
    """The vectors query i uses: the query itself, 3 positives, 2 (positive, negative) pairs."""

    def __init__(self, corpus: np.ndarray, queries: np.ndarray):
        self.corpus, self.queries = corpus, queries

    def __call__(self, i: int) -> dict:
        n = len(self.corpus)
        q = self.queries[i % len(self.queries)]
        # Stored points near the query as positives (its exact neighbours 2 and 5), far ones as negatives.
        sims = self.corpus @ q
        top = np.argpartition(-sims, 10)[:10]
        top = top[np.argsort(-sims[top])]
        far = [(i * 7919 + k * 104729) % n for k in range(2)]
        return {"query": q, "positives": [q, self.corpus[top[2]], self.corpus[top[5]]],
                "target": q, "pairs": [(self.corpus[top[1]], self.corpus[far[0]]),
                                       (self.corpus[top[4]], self.corpus[far[1]])]}


# ---------------------------------------------------------------------------- engines
# Each offers load(corpus, payloads) and run(kind, inputs) -> list of ids (group ids for groups).

class EdgeEngine:
    kinds = [k for k in KINDS if k != "groups"]  # qdrant-edge-py has no grouped query

    def load(self, corpus, payload):
        import qdrant_edge as qe

        self.qe = qe
        self.tmp = tempfile.mkdtemp(prefix="edge-kinds-")
        config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=corpus.shape[1], distance=qe.Distance.Cosine),
                               hnsw_config=qe.HnswIndexConfig(m=M, ef_construct=EF_CONSTRUCT, full_scan_threshold=10000),
                               max_search_threads=1)
        self.shard = qe.EdgeShard.create(self.tmp, config)
        for key, schema in (("group", qe.PayloadSchemaType.Keyword), ("tag", qe.PayloadSchemaType.Keyword),
                            ("price", qe.PayloadSchemaType.Float)):
            self.shard.update(qe.UpdateOperation.create_field_index(key, schema))
        for start in range(0, len(corpus), 1000):
            points = [qe.Point(i, corpus[i].tolist(), payload[i]) for i in range(start, min(len(corpus), start + 1000))]
            self.shard.update(qe.UpdateOperation.upsert_points(points))
        self.shard.optimize()
        self.params = qe.SearchParams(hnsw_ef=EF)
        e = qe.Expression
        self.formula = qe.Formula(e.Sum([e.Variable("$score"), e.Mult([e.Constant(0.01), e.Variable("price")]),
                                         e.Decay(qe.DecayKind.Exp, e.Variable("price"), e.Constant(50.0), 0.5, 10.0)]))

    def run(self, kind, x):
        qe = self.qe
        q = x["query"].tolist()
        if kind == "nearest":
            request = qe.QueryRequest(limit=10, query=qe.Query.Nearest(q), params=self.params)
        elif kind == "mmr":
            request = qe.QueryRequest(limit=10, query=qe.Mmr(q, 0.5, 100), params=self.params)
        elif kind == "formula":
            request = qe.QueryRequest(limit=10, query=self.formula, prefetches=[
                qe.Prefetch(limit=100, query=qe.Query.Nearest(q), params=self.params)])
        elif kind == "recommend_best":
            request = qe.QueryRequest(limit=10, params=self.params, query=qe.Query.RecommendBestScore(
                qe.RecommendQuery([v.tolist() for v in x["positives"]], [])))
        elif kind == "discover":
            request = qe.QueryRequest(limit=10, params=self.params, query=qe.Query.Discover(qe.DiscoverQuery(
                x["target"].tolist(), [qe.ContextPair(p.tolist(), n.tolist()) for p, n in x["pairs"]])))
        elif kind == "order_by":
            request = qe.QueryRequest(limit=10, query=qe.OrderBy("price"))
        else:
            raise ValueError(kind)
        return [p.id for p in self.shard.query(request)]


class VecinferEngine:
    """The storage and query layers in this process (no door), as search.py drives them."""

    kinds = KINDS

    def load(self, corpus, payload):
        import faiss

        from vecinfer.domain import formula as fx
        from vecinfer.domain import points as ops
        from vecinfer.domain.collections import CollectionConfig, DenseVectorParams, Distance, HnswConfig
        from vecinfer.storage.catalog import Catalog

        faiss.omp_set_num_threads(1)
        self.tmp = tempfile.mkdtemp(prefix="vecinfer-kinds-")
        self.catalog = Catalog(Path(self.tmp))
        config = CollectionConfig(dense={"": DenseVectorParams(corpus.shape[1], Distance.COSINE)}, unnamed=True,
                                  hnsw=HnswConfig(m=M, ef_construct=EF_CONSTRUCT))
        self.collection = self.catalog.create("bench", config)
        self.collection.write([ops.CreateFieldIndex("group", "keyword"), ops.CreateFieldIndex("tag", "keyword"),
                               ops.CreateFieldIndex("price", "float")])
        for start in range(0, len(corpus), 1000):
            points = [ops.Point(i, {"": corpus[i]}, payload[i]) for i in range(start, min(len(corpus), start + 1000))]
            self.collection.write([ops.Upsert(points)])
        self.catalog.optimizer.wait_idle(3600)
        self.formula = fx.FormulaQuery(fx.Sum((fx.Score(0), fx.Mult((fx.Constant(0.01), fx.Variable("price"))),
                                               fx.Decay("exp", fx.Variable("price"), fx.Constant(50.0), scale=10.0))))

    def run(self, kind, x):
        from vecinfer.domain.groups import GroupsRequest
        from vecinfer.domain.query import (
            ContextPair,
            Discover,
            Example,
            Nearest,
            NearestMmr,
            OrderBy,
            Prefetch,
            QueryRequest,
            Recommend,
        )
        from vecinfer.query import groups, planner

        q = x["query"]
        if kind == "nearest":
            root = Prefetch(query=Nearest(vector=q), limit=10)
        elif kind == "groups":
            request = GroupsRequest(QueryRequest(Prefetch(query=Nearest(vector=q), limit=10)), group_by="group",
                                    group_size=3)
            with self.collection.lock.reading():
                return [g.id for g in groups.execute(self.collection, request)]
        elif kind == "mmr":
            root = Prefetch(query=NearestMmr(Example(vector=q), diversity=0.5, candidates_limit=100), limit=10)
        elif kind == "formula":
            root = Prefetch(prefetch=[Prefetch(query=Nearest(vector=q), limit=100)], query=self.formula, limit=10)
        elif kind == "recommend_best":
            root = Prefetch(query=Recommend(positive=tuple(Example(vector=v) for v in x["positives"]),
                                            strategy="best_score"), limit=10)
        elif kind == "discover":
            root = Prefetch(query=Discover(Example(vector=x["target"]), tuple(
                ContextPair(Example(vector=p), Example(vector=n)) for p, n in x["pairs"])), limit=10)
        elif kind == "order_by":
            root = Prefetch(query=OrderBy("price"), limit=10)
        else:
            raise ValueError(kind)
        with self.collection.lock.reading():
            return [p.id for p in planner.execute(self.collection, QueryRequest(root))]


class VecinferGrpcEngine:
    """A vecinfer server process, queried through Qdrant's gRPC API (qdrant_client's stubs)."""

    kinds = KINDS

    def load(self, corpus, payload):
        import grpc
        from qdrant_client import grpc as g

        self.g = g
        self.server = Server()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.server.grpc_port}",
                                             options=[("grpc.max_send_message_length", -1)])
        self.points = g.PointsStub(self.channel)
        collections = g.CollectionsStub(self.channel)
        collections.Create(g.CreateCollection(collection_name="bench", vectors_config=g.VectorsConfig(
            params=g.VectorParams(size=corpus.shape[1], distance=g.Cosine)),
            hnsw_config=g.HnswConfigDiff(m=M, ef_construct=EF_CONSTRUCT)), timeout=60)
        for key, field_type in (("group", g.FieldTypeKeyword), ("tag", g.FieldTypeKeyword), ("price", g.FieldTypeFloat)):
            self.points.CreateFieldIndex(g.CreateFieldIndexCollection(collection_name="bench", wait=True, field_name=key,
                                                                      field_type=field_type), timeout=60)
        for start in range(0, len(corpus), 1000):
            points = [g.PointStruct(id=g.PointId(num=i), vectors=g.Vectors(vector=g.Vector(
                dense=g.DenseVector(data=corpus[i].tolist()))), payload={
                    "group": g.Value(string_value=payload[i]["group"]),
                    "price": g.Value(double_value=payload[i]["price"]),
                    "tag": g.Value(string_value=payload[i]["tag"])})
                for i in range(start, min(len(corpus), start + 1000))]
            self.points.Upsert(g.UpsertPoints(collection_name="bench", wait=True, points=points), timeout=300)
        while collections.Get(g.GetCollectionInfoRequest(collection_name="bench"), timeout=60).result.status != g.Green:
            time.sleep(0.5)
        e = g.Expression
        self.formula = g.Formula(expression=e(sum=g.SumExpression(sum=[
            e(variable="$score"), e(mult=g.MultExpression(mult=[e(constant=0.01), e(variable="price")])),
            e(exp_decay=g.DecayParamsExpression(x=e(variable="price"), target=e(constant=50.0), scale=10.0))])))

    def _vector(self, v):
        return self.g.VectorInput(dense=self.g.DenseVector(data=v.tolist()))

    def run(self, kind, x):
        g = self.g
        q = self._vector(x["query"])
        params = g.SearchParams(hnsw_ef=EF)
        if kind == "groups":
            request = g.QueryPointGroups(collection_name="bench", query=g.Query(nearest=q), params=params, limit=10,
                                         group_size=3, group_by="group")
            return [grp.id.string_value for grp in self.points.QueryGroups(request, timeout=60).result.groups]
        prefetch = []
        if kind == "nearest":
            query = g.Query(nearest=q)
        elif kind == "mmr":
            query = g.Query(nearest_with_mmr=g.NearestInputWithMmr(nearest=q, mmr=g.Mmr(diversity=0.5,
                                                                                        candidates_limit=100)))
        elif kind == "formula":
            query = g.Query(formula=self.formula)
            prefetch = [g.PrefetchQuery(query=g.Query(nearest=q), limit=100, params=params)]
        elif kind == "recommend_best":
            query = g.Query(recommend=g.RecommendInput(positive=[self._vector(v) for v in x["positives"]],
                                                       strategy=g.RecommendStrategy.BestScore))
        elif kind == "discover":
            query = g.Query(discover=g.DiscoverInput(target=self._vector(x["target"]), context=g.ContextInput(pairs=[
                g.ContextInputPair(positive=self._vector(p), negative=self._vector(n)) for p, n in x["pairs"]])))
        elif kind == "order_by":
            query = g.Query(order_by=g.OrderBy(key="price"))
        else:
            raise ValueError(kind)
        request = g.QueryPoints(collection_name="bench", query=query, prefetch=prefetch, limit=10,
                                params=None if kind == "order_by" else params)
        return [p.id.num for p in self.points.Query(request, timeout=60).result]


WORKERS = {"qdrant-edge": EdgeEngine, "vecinfer": VecinferEngine, "vecinfer-grpc": VecinferGrpcEngine}


def measure(engine, kinds: list[str], inputs: Callable[[int], dict], reps: int, min_reps: int, budget: float,
            pids: list[int]) -> dict:
    for i in range(3):  # warm-up: first calls build caches (filter columns, lazily loaded indexes)
        for kind in kinds:
            engine.run(kind, inputs(1000 + i))
    latencies: dict[str, list[float]] = {k: [] for k in kinds}
    found: dict[str, list[list]] = {k: [] for k in kinds}
    with CpuMeter(pids) as meter:
        for i in range(reps):
            x = inputs(i)
            active = [k for k in kinds if len(latencies[k]) < min_reps or sum(latencies[k]) < budget]
            if not active:
                break
            for kind in active:
                t0 = time.perf_counter()
                ids = engine.run(kind, x)
                latencies[kind].append(time.perf_counter() - t0)
                if i < AGREEMENT_QUERIES:
                    found[kind].append(ids)
    out = {"other_cpu": meter.other_cores, "kinds": {}}
    for kind in kinds:
        values = latencies[kind]
        out["kinds"][kind] = {"n": len(values), "p50_ms": percentile(values, 50) * 1e3,
                              "p99_ms": percentile(values, 99) * 1e3, "mean_ms": float(np.mean(values)) * 1e3,
                              "ids": found[kind]}
    return out


def run_worker(engine_name: str, n: int, reps: int, min_reps: int, budget: float) -> dict:
    corpus, queries, _ = search_vectors(n, 200)
    engine = WORKERS[engine_name]()
    started = time.perf_counter()
    engine.load(corpus, payloads(n))
    result = {"engine": engine_name, "load_s": time.perf_counter() - started}
    pids = [os.getpid()] + ([engine.server.proc.pid] if hasattr(engine, "server") else [])
    result.update(measure(engine, engine.kinds, Inputs(corpus, queries), reps, min_reps, budget, pids))
    if hasattr(engine, "server"):
        engine.server.stop()
    if hasattr(engine, "tmp"):
        shutil.rmtree(engine.tmp, ignore_errors=True)
    return result


def agreement(a: list[list], b: list[list]) -> float | None:
    pairs = [(x, y) for x, y in zip(a, b) if y]
    if not pairs:
        return None
    return float(np.mean([len(set(x) & set(y)) / len(y) for x, y in pairs]))


def table(results: dict[str, dict]) -> str:
    edge = results.get("qdrant-edge")
    vecinfer_engines = [e for e in ("vecinfer", "vecinfer-grpc") if e in results]
    head = ["query kind"]
    if edge:
        head += ["qdrant-edge p50 / p99 ms", "x nearest"]
    for name in vecinfer_engines:
        head += [f"{name} p50 / p99 ms", "x nearest"] + (["x qdrant-edge"] if edge else [])
    if edge and "vecinfer" in results:
        head += ["top-10 agreement"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for kind in KINDS:
        cells = [LABELS[kind]]
        anchors = {}
        for name in (["qdrant-edge"] if edge else []) + vecinfer_engines:
            r = results[name]["kinds"].get(kind)
            base = results[name]["kinds"]["nearest"]["p50_ms"]
            if r is None:
                cells += ["n/a", "n/a"] + (["n/a"] if name != "qdrant-edge" and edge else [])
                continue
            anchors[name] = r
            cells += [f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f}", f"{r['p50_ms'] / base:.1f}x"]
            if name != "qdrant-edge" and edge:
                e = edge["kinds"].get(kind)
                cells.append(f"{r['p50_ms'] / e['p50_ms']:.1f}x" if e else "n/a")
        if edge and "vecinfer" in results:
            e, v = edge["kinds"].get(kind), results["vecinfer"]["kinds"].get(kind)
            score = agreement(v["ids"], e["ids"]) if e and v else None
            cells.append("n/a" if score is None else f"{score:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=200, help="at most this many queries per kind")
    parser.add_argument("--min-reps", type=int, default=20, help="at least this many, whatever the budget")
    parser.add_argument("--budget", type=float, default=12.0, help="seconds of queries per kind and engine")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = run_worker(args.worker, args.n, args.reps, args.min_reps, args.budget)
        print("RESULT " + json.dumps(result), flush=True)
        return
    search_vectors(args.n, 200)  # embed and cache once, before the workers start
    results = {}
    for engine in [e for e in args.engines.split(",") if e]:
        print(f"running {engine} ...", flush=True)
        out = subprocess.run([sys.executable, __file__, "--worker", engine, "--n", str(args.n), "--reps", str(args.reps),
                              "--min-reps", str(args.min_reps), "--budget", str(args.budget)],
                             capture_output=True, text=True)
        line = next((row for row in out.stdout.splitlines() if row.startswith("RESULT ")), None)
        if line is None:
            print(out.stdout[-2000:], out.stderr[-3000:])
            continue
        result = json.loads(line[7:])
        results[engine] = result
        summary = {k: (v["n"], round(v["p50_ms"], 3), round(v["p99_ms"], 3)) for k, v in result["kinds"].items()}
        print(f"  load {result['load_s']:.1f} s, other CPU {result['other_cpu']:.2f} cores, "
              f"(n, p50 ms, p99 ms) {summary}", flush=True)
    if results:
        print(f"\n### Query kinds: {args.n} real MiniLM vectors, 384-d, limit 10\n")
        print("p50 / p99 in ms; 'x nearest' = that kind's p50 over the same engine's nearest p50; "
              "'x qdrant-edge' = vecinfer's p50 over qdrant-edge's for the same kind.\n")
        print(table(results))
        print()
        for name, r in results.items():
            counts = ", ".join(f"{k} {v['n']}" for k, v in r["kinds"].items())
            print(f"{name}: other processes' CPU during the queries {r['other_cpu']:.2f} cores; repetitions: {counts}")


if __name__ == "__main__":
    main()
