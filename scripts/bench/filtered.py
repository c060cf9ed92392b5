"""Filtered dense search with payload indexes: vecinfer vs qdrant-edge-py (Qdrant's engine
in-process) on the same data, in one run.

    .venv/bin/pip install qdrant-edge-py==0.9.0
    .venv/bin/python scripts/bench/filtered.py [--n 100000] [--queries 200] [--budget 20]

Data: the 100k real all-MiniLM-L6-v2 embeddings of short English passages of
scripts/bench/data.py, each point with the payload {"kw": 10 values, "tag": 100 values,
"text": its passage}. Both engines index `kw` and `tag` as keywords and `text` as a full-text
index (word tokenizer, lowercase, phrase_matching), with M=16, ef_construct=100, search ef=100
and one thread per query. Filters: keyword matches keeping 10 % and 1 % of the points, and
full-text `text` / `text_any` / `phrase` conditions on words and a word pair picked by their
document frequency. recall@10 is against exact search over the points that pass the filter;
which points pass is computed with vecinfer's matcher and checked against qdrant-edge's count.

Each engine runs in its own process. A filter gets at most --budget seconds of queries (at
least 10 queries) per engine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as `vecinfer serve` does: one thread per query
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import CpuMeter, percentile  # noqa: E402

from data import CACHE, minilm_embeddings  # noqa: E402

M, EF_CONSTRUCT, EF = 16, 100, 100
ENGINES = ["qdrant-edge", "vecinfer"]
TEXT_PARAMS = {"type": "text", "tokenizer": "word", "lowercase": True, "phrase_matching": True}


def bucket(i: int) -> int:
    return (i * 7919) % 100  # spread values so filters do not follow insertion order


def payload(i: int, text: str) -> dict:
    return {"kw": f"k{bucket(i) % 10}", "tag": f"t{bucket(i)}", "text": text}


def choose_filters(texts: list[str]) -> list[dict]:
    """Filters by kind and expected share of points; full-text words picked by document frequency."""
    from vecinfer.storage.text_match import IndexedText, parse_text_index_params

    matcher = IndexedText(parse_text_index_params(TEXT_PARAMS))
    df: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for text in texts:
        seq = matcher.tokenizer.document_tokens(text)
        df.update(set(seq))
        pairs.update(set(zip(seq, seq[1:])))
    n = len(texts)

    def near(counts: Counter, share: float, skip: set) -> object:
        return min((k for k in counts if k not in skip and (not isinstance(k, str) or k.isalpha())),
                   key=lambda k: (abs(counts[k] - share * n), str(k)))

    w10 = near(df, 0.10, set())
    w1 = near(df, 0.01, {w10})
    a = near(df, 0.005, {w10, w1})
    b = near(df, 0.005, {w10, w1, a})
    pair = near(pairs, 0.01, set())
    return [
        {"name": "none", "kind": None},
        {"name": "keyword 10%", "kind": "keyword", "key": "kw", "value": "k3"},
        {"name": "keyword 1%", "kind": "keyword", "key": "tag", "value": "t42"},
        {"name": f"text '{w10}'", "kind": "text", "key": "text", "value": w10},
        {"name": f"text '{w1}'", "kind": "text", "key": "text", "value": w1},
        {"name": f"text_any '{a} {b}'", "kind": "text_any", "key": "text", "value": f"{a} {b}"},
        {"name": f"phrase '{pair[0]} {pair[1]}'", "kind": "phrase", "key": "text", "value": f"{pair[0]} {pair[1]}"},
    ]


def passes(flt: dict, texts: list[str]) -> np.ndarray:
    """Which points pass `flt`, by vecinfer's matcher (checked against qdrant-edge's count)."""
    from vecinfer.storage.text_match import matcher_for

    n = len(texts)
    if flt["kind"] is None:
        return np.ones(n, dtype=bool)
    if flt["kind"] == "keyword":
        return np.array([payload(i, texts[i])[flt["key"]] == flt["value"] for i in range(n)])
    matcher = matcher_for(TEXT_PARAMS)
    return np.array([matcher.matches(flt["kind"], flt["value"], [t]) for t in texts])


def ground_truth(corpus: np.ndarray, queries: np.ndarray, mask: np.ndarray) -> np.ndarray:
    scores = np.where(mask[None, :], queries @ corpus.T, -np.inf)
    k = min(10, int(mask.sum()))
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
    return np.take_along_axis(top, order, axis=1)


# ---------------------------------------------------------------------------- engines
# Each offers load(corpus, texts), search(query, flt) -> ids and count(flt) -> int.

class EdgeEngine:
    def load(self, corpus, texts):
        import qdrant_edge as qe

        self.qe = qe
        self.tmp = tempfile.mkdtemp(prefix="edge-filtered-")
        config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=corpus.shape[1], distance=qe.Distance.Cosine),
                               hnsw_config=qe.HnswIndexConfig(m=M, ef_construct=EF_CONSTRUCT, full_scan_threshold=10000),
                               max_search_threads=1)
        self.shard = qe.EdgeShard.create(self.tmp, config)
        for key in ("kw", "tag"):
            self.shard.update(qe.UpdateOperation.create_field_index(key, qe.PayloadSchemaType.Keyword))
        self.shard.update(qe.UpdateOperation.create_field_index("text", qe.TextIndexParams(
            tokenizer=qe.TokenizerType.Word, lowercase=True, phrase_matching=True)))
        started = time.perf_counter()
        for start in range(0, len(corpus), 1000):
            points = [qe.Point(i, corpus[i].tolist(), payload(i, texts[i])) for i in range(start, min(len(corpus), start + 1000))]
            self.shard.update(qe.UpdateOperation.upsert_points(points))
        upserted = time.perf_counter()
        self.shard.optimize()
        return {"upsert_s": upserted - started, "index_s": time.perf_counter() - upserted}

    def _filter(self, flt):
        qe = self.qe
        if flt["kind"] is None:
            return None
        match = {"keyword": lambda v: qe.MatchValue(v), "text": qe.MatchText, "text_any": qe.MatchTextAny,
                 "phrase": qe.MatchPhrase}[flt["kind"]](flt["value"])
        return qe.Filter(must=[qe.FieldCondition(flt["key"], match=match)])

    def search(self, query, flt):
        qe = self.qe
        request = qe.QueryRequest(limit=10, query=qe.Query.Nearest(query.tolist()), filter=self._filter(flt),
                                  params=qe.SearchParams(hnsw_ef=EF))
        return [p.id for p in self.shard.query(request)]

    def count(self, flt):
        return self.shard.count(self.qe.CountRequest(exact=True, filter=self._filter(flt)))

    def close(self):
        self.shard.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class VecinferEngine:
    """The storage and query layers in this process (no gRPC)."""

    def load(self, corpus, texts):
        import faiss

        from vecinfer.domain import points as ops
        from vecinfer.domain.collections import CollectionConfig, DenseVectorParams, Distance, HnswConfig
        from vecinfer.storage.catalog import Catalog
        faiss.omp_set_num_threads(1)
        self.tmp = tempfile.mkdtemp(prefix="vecinfer-filtered-")
        self.catalog = Catalog(Path(self.tmp))
        config = CollectionConfig(dense={"": DenseVectorParams(corpus.shape[1], Distance.COSINE)}, unnamed=True,
                                  hnsw=HnswConfig(m=M, ef_construct=EF_CONSTRUCT))
        self.collection = self.catalog.create("bench", config)
        self.collection.write([ops.CreateFieldIndex("kw", "keyword"), ops.CreateFieldIndex("tag", "keyword"),
                               ops.CreateFieldIndex("text", "text", dict(TEXT_PARAMS))])
        started = time.perf_counter()
        for start in range(0, len(corpus), 1000):
            points = [ops.Point(i, {"": corpus[i]}, payload(i, texts[i])) for i in range(start, min(len(corpus), start + 1000))]
            self.collection.write([ops.Upsert(points)])
        upserted = time.perf_counter()
        self.catalog.optimizer.wait_idle(3600)
        return {"upsert_s": upserted - started, "index_s": time.perf_counter() - upserted,
                "segments": len(self.collection.segments.all)}

    def _filter(self, flt):
        from vecinfer.domain.filters import Filter, Match

        if flt["kind"] is None:
            return None
        return Filter(must=(Match(flt["key"], flt["kind"], flt["value"]),))

    def search(self, query, flt):
        from vecinfer.domain.query import Nearest, Prefetch, QueryRequest
        from vecinfer.query import planner

        request = QueryRequest(root=Prefetch(query=Nearest(vector=query), filter=self._filter(flt), limit=10))
        with self.collection.lock.reading():
            return [p.id for p in planner.execute(self.collection, request)]

    def count(self, flt):
        from vecinfer.storage.filters import filter_mask

        with self.collection.lock.reading():
            return int(filter_mask(self.collection.segments, self._filter(flt)).sum())

    def close(self):
        self.catalog.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


WORKERS = {"qdrant-edge": EdgeEngine, "vecinfer": VecinferEngine}


def truth_path(n: int, n_queries: int) -> Path:
    return CACHE / f"filtered-truth-{n}-{n_queries}.npz"


def run_worker(engine_name: str, n: int, n_queries: int, budget: float) -> dict:
    corpus, queries, texts, _ = minilm_embeddings(n, n_queries)
    filters = choose_filters(texts)
    truth = dict(np.load(truth_path(n, n_queries)))
    engine = WORKERS[engine_name]()
    result: dict = {"engine": engine_name, **engine.load(corpus, texts), "filters": {}}
    for q in queries[:20]:
        engine.search(q, filters[0])  # warm-up
    for flt in filters:
        started = time.perf_counter()
        first = engine.search(queries[0], flt)  # builds whatever a filter builds on first use
        row: dict = {"first_ms": (time.perf_counter() - started) * 1e3, "count": engine.count(flt)}
        latencies, found = [], [first]
        with CpuMeter([os.getpid()]) as meter:
            spent = 0.0
            for q in queries[1:]:
                t0 = time.perf_counter()
                found.append(engine.search(q, flt))
                latencies.append(time.perf_counter() - t0)
                spent += latencies[-1]
                if spent > budget and len(latencies) >= 10:
                    break
        row["queries"] = len(latencies)
        row["qps"] = len(latencies) / sum(latencies)
        row["p50_ms"] = percentile(latencies, 50) * 1e3
        row["other_cpu"] = meter.other_cores
        expected = truth[flt["name"]]
        row["recall"] = float(np.mean([len(set(f) & set(t.tolist())) / max(1, len(t)) for f, t in zip(found, expected)]))
        result["filters"][flt["name"]] = row
        print(f"  {engine_name} {flt['name']}: {json.dumps(row)}", file=sys.stderr, flush=True)
    engine.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds of queries per filter and engine")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(run_worker(args.worker, args.n, args.queries, args.budget)), flush=True)
        return
    corpus, queries, texts, _ = minilm_embeddings(args.n, args.queries)
    filters = choose_filters(texts)
    shares = {}
    if not truth_path(args.n, args.queries).exists():
        truth = {}
        for flt in filters:
            mask = passes(flt, texts)
            truth[flt["name"]] = ground_truth(corpus, queries, mask)
        np.savez(truth_path(args.n, args.queries), **truth)
    for flt in filters:
        shares[flt["name"]] = int(passes(flt, texts).sum())

    def run(worker: str) -> dict | None:
        print(f"running {worker} ...", flush=True)
        out = subprocess.run([sys.executable, __file__, "--worker", worker, "--n", str(args.n), "--queries",
                              str(args.queries), "--budget", str(args.budget)], capture_output=True, text=True)
        line = next((row for row in out.stdout.splitlines() if row.startswith("RESULT ")), None)
        if line is None:
            print(out.stdout[-2000:], out.stderr[-3000:])
            return None
        return json.loads(line[7:])

    results = [r for r in (run(e) for e in args.engines.split(",") if e) if r]
    anchor = next((r for r in results if r["engine"] == "qdrant-edge"), None)
    print(f"\n### Filtered search: {args.n} MiniLM passages, {args.queries} queries, ef={EF}, one thread\n")
    print("QPS with the ratio to qdrant-edge-py in brackets; recall@10 against exact filtered search; "
          "`first ms`: the first query with that filter (builds caches).\n")
    header = "| filter | points passing |"
    rule = "|---|---|"
    for r in results:
        header += f" {r['engine']} QPS | r@10 | first ms |"
        rule += "---|---|---|"
    print(header)
    print(rule)
    for flt in filters:
        name = flt["name"]
        line = f"| {name} | {shares[name]} |"
        for r in results:
            row = r["filters"][name]
            qps = f"{row['qps']:.0f}" if row["qps"] >= 10 else f"{row['qps']:.1f}"
            if anchor and r is not anchor:
                qps += f" ({row['qps'] / anchor['filters'][name]['qps']:.3g}x)"
            if row["count"] != shares[name]:
                qps += f" [count {row['count']}]"
            line += f" {qps} | {row['recall']:.3f} | {row['first_ms']:.0f} |"
        print(line)
    other = max((row["other_cpu"] for r in results for row in r["filters"].values()), default=0.0)
    print("\nBuild: " + "; ".join(f"{r['engine']} upsert {r['upsert_s']:.1f} s + index {r['index_s']:.1f} s" for r in results)
          + f". Most CPU used by other processes during a measurement: {other:.2f} cores.")


if __name__ == "__main__":
    main()
