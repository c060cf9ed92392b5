"""Inference benchmark: documents/s embedded by MiniLM through gRPC upserts from several
concurrent clients, next to raw onnxruntime on the same graph and batch size in this process;
then the embedding cache: a repeated-query mix (Zipf over a pool of texts) through gRPC with
the cache on and off, the same for texts that never repeat, one query's latency on a hit and
on a miss, and BM25's embedding time beside a cache lookup (why BM25 is not cached).

    .venv/bin/python scripts/bench/inference.py [--docs 3000] [--clients 8] [--per-request 8]
                                                [--mix-queries 3000] [--mix-pool 500] [--zipf 1.0]
                                                [--cache-only | --no-cache]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import CpuMeter, Server, percentile, text_corpus  # noqa: E402

from vecinfer.config import Settings  # noqa: E402  (no protos: safe beside qdrant_client)
from vecinfer.inference.onnx import quantize, text_encoder  # noqa: E402
from vecinfer.inference.onnx.catalogue import MINILM_NAME, builtin_minilm  # noqa: E402
from vecinfer.inference.onnx.quantize import DEFAULT_SETTINGS as DEFAULT_INT8  # noqa: E402
from vecinfer.inference.onnx.quantize import Int8Settings  # noqa: E402
from vecinfer.inference.onnx.session import open_session  # noqa: E402


def raw_onnxruntime(manifest, docs: list[str], batch: int, sort_by_length: bool = False) -> float:
    """Tokenise, run, mean-pool and normalise with plain onnxruntime: docs/s. Sorted by length,
    batches carry little padding (the best case for a batch that size)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(manifest.tokenizer))
    tokenizer.enable_truncation(manifest.max_tokens)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    session = open_session(manifest.onnx, threads=os.cpu_count() or 1)
    started = time.perf_counter()
    if sort_by_length:
        lengths = [len(e.ids) for e in tokenizer.encode_batch(docs)]
        docs = [docs[i] for i in np.argsort(lengths)]
    for i in range(0, len(docs), batch):
        encodings = tokenizer.encode_batch(docs[i:i + batch])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    return len(docs) / (time.perf_counter() - started)


def zipf_mix(pool: list[str], count: int, exponent: float, seed: int = 7) -> list[str]:
    """`count` queries drawn from `pool` with Zipf weights (rank r has weight 1/r^exponent), as
    query logs are: a few texts asked often, a long tail asked once."""
    weights = 1.0 / np.arange(1, len(pool) + 1) ** exponent
    picks = np.random.default_rng(seed).choice(len(pool), size=count, p=weights / weights.sum())
    return [pool[i] for i in picks]


def cache_lookups(server) -> tuple[float, float]:
    """(hits, misses) the server's embedding cache has counted (GET /metrics)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}/metrics", timeout=10).read().decode()
    counts = {"hit": 0.0, "miss": 0.0}
    for line in text.splitlines():
        if line.startswith("vecinfer_embedding_cache_lookups_total{"):
            counts[line.split('outcome="', 1)[1].split('"', 1)[0]] = float(line.rsplit(" ", 1)[1])
    return counts["hit"], counts["miss"]


def query_rate(client, queries: list[str], clients: int) -> float:
    """Document queries/s (one text embedded, then searched, per query) from `clients` threads."""
    from qdrant_client import models

    def ask(text: str) -> None:
        client.query_points("mix", query=models.Document(text=text, model=MINILM_NAME), limit=10)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(ask, queries))
    return len(queries) / (time.perf_counter() - started)


def latencies_ms(client, queries: list[str]) -> list[float]:
    from qdrant_client import models

    out = []
    for text in queries:
        started = time.perf_counter()
        client.query_points("mix", query=models.Document(text=text, model=MINILM_NAME), limit=10)
        out.append((time.perf_counter() - started) * 1000)
    return out


def bm25_versus_lookup(pool: list[str]) -> tuple[float, float, float]:
    """In this process, median microseconds per text (medians: the machine may be shared): BM25
    query embedding through its backend (as the server runs it), a cache hit through
    EmbeddingCache.lookup (its thread, its file) for the same short texts, and BM25 for a
    256-word document."""
    from vecinfer.domain.inference import Document
    from vecinfer.inference.backend import InferenceContext
    from vecinfer.inference.bm25.model import MODEL_NAME, Bm25Backend
    from vecinfer.inference.cache import EmbeddingCache, encode, key_digest

    queries = [" ".join(text.split()[:6]) for text in pool[:300]]
    long_text = " ".join(" ".join(pool).split()[:256])
    vector = encode(np.ones(384, dtype=np.float32))
    assert vector is not None

    async def timed(work) -> float:
        started = time.perf_counter()
        await work
        return (time.perf_counter() - started) * 1e6

    async def measure() -> tuple[float, float, float]:
        backend = Bm25Backend(Settings.from_env())
        context = InferenceContext()
        docs = [Document(model=MODEL_NAME, text=q) for q in queries]
        await backend.embed(docs[:8], "query", context)
        bm25 = [await timed(backend.embed([doc], "query", context)) for doc in docs]
        long_doc = Document(model=MODEL_NAME, text=long_text)
        bm25_long = [await timed(backend.embed([long_doc], "document", context)) for _ in range(50)]
        backend.batcher.close()
        with tempfile.TemporaryDirectory(prefix="vecinfer-bench-cache-") as tmp:
            cache = EmbeddingCache(Path(tmp), 64 << 20)
            minilm = [Document(model=MINILM_NAME, text=q) for q in queries]
            cache.put_many([(key_digest("bench", "query", d), vector) for d in minilm])
            await cache.lookup([("bench", "query", d) for d in minilm[:8]])
            lookup = [await timed(cache.lookup([("bench", "query", d)])) for d in minilm]
            cache.close()
        return percentile(bm25, 50), percentile(bm25_long, 50), percentile(lookup, 50)

    return asyncio.run(measure())


def cache_mix(args, docs: list[str]) -> None:
    """The embedding cache on and off: a repeated-query mix, texts that never repeat, one
    query's latency on a hit and on a miss; printed with ratios."""
    from qdrant_client import models

    pool = docs[: args.mix_pool]
    mix = zipf_mix(pool, args.mix_queries, args.zipf)
    fresh = docs[args.mix_pool : args.mix_pool + min(1000, args.mix_queries)]
    once = docs[-200:]
    print(f"\nembedding cache: {len(mix)} Document queries drawn (Zipf {args.zipf}) from {len(pool)} texts "
          f"({len(set(mix))} distinct), {args.clients} clients; {len(fresh)} texts that never repeat; "
          f"latency over {len(once)} texts, asked once (miss) and again (hit)")
    results: dict[str, dict[str, float]] = {}
    for label, env in (("on", {"VECINFER_EMBEDDING_CACHE_BYTES": str(256 << 20)}), ("off", {"VECINFER_EMBEDDING_CACHE_BYTES": "0"})):
        server = Server(env=env)
        try:
            client = server.client(cloud_inference=True)
            client.create_collection("mix", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE))
            points = np.random.default_rng(1).standard_normal((1000, 384)).astype(np.float32)
            client.upsert("mix", points=[models.PointStruct(id=i, vector=v.tolist()) for i, v in enumerate(points)])
            latencies_ms(client, [f"warm up {i}" for i in range(8)])
            row: dict[str, float] = {}
            with CpuMeter([os.getpid(), server.proc.pid]) as cpu:
                row["mix"] = query_rate(client, mix, args.clients)
            row["mix_other_cpu"] = cpu.other_cores
            hits, misses = cache_lookups(server)
            row["hit_share"] = hits / max(hits + misses, 1)
            row["fresh"] = query_rate(client, fresh, args.clients)
            row["miss_ms"] = percentile(latencies_ms(client, once), 50)
            row["again_ms"] = percentile(latencies_ms(client, once), 50)
            results[label] = row
            client.close()
        finally:
            server.stop()
    bm25, bm25_long, lookup = bm25_versus_lookup(pool)
    on, off = results["on"], results["off"]
    print(f"{'measure':<58}{'cache on':>12}{'cache off':>12}{'on / off':>10}")
    print(f"{'repeated-query mix, docs/s (one text per query)':<58}{on['mix']:>12.1f}{off['mix']:>12.1f}{on['mix'] / off['mix']:>10.2f}"
          f"   hits {on['hit_share']:.0%}; other CPU {on['mix_other_cpu']:.2f} / {off['mix_other_cpu']:.2f} cores")
    print(f"{'texts that never repeat, docs/s':<58}{on['fresh']:>12.1f}{off['fresh']:>12.1f}"
          f"{on['fresh'] / off['fresh']:>10.2f}")
    print(f"{'one query, first time (miss), p50 ms':<58}{on['miss_ms']:>12.2f}{off['miss_ms']:>12.2f}"
          f"{on['miss_ms'] / off['miss_ms']:>10.2f}")
    print(f"{'one query, asked again, p50 ms':<58}{on['again_ms']:>12.2f}{off['again_ms']:>12.2f}"
          f"{on['again_ms'] / off['again_ms']:>10.2f}")
    print(f"{'hit vs miss latency (cache on), p50':<58}{on['again_ms'] / on['miss_ms']:>12.2f}")
    print(f"in this process, median per text: BM25 query (6 words) {bm25:.0f} us, BM25 256-word document "
          f"{bm25_long:.0f} us, cache hit lookup {lookup:.0f} us (BM25 is not cached)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-request", type=int, default=8, help="documents per upsert request")
    parser.add_argument("--mix-queries", type=int, default=3000, help="queries in the repeated-query mix")
    parser.add_argument("--mix-pool", type=int, default=500, help="distinct texts the mix draws from")
    parser.add_argument("--zipf", type=float, default=1.0, help="Zipf exponent of the mix")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--cache-only", action="store_true", help="only the embedding cache measurements")
    which.add_argument("--no-cache", action="store_true", help="skip the embedding cache measurements")
    args = parser.parse_args()
    if args.cache_only:
        cache_mix(args, text_corpus(max(args.docs, args.mix_pool + 1200)))
        return
    from qdrant_client import models

    settings = Settings.from_env()
    manifest = builtin_minilm(settings.cache_dir)
    docs = text_corpus(args.docs)
    from tokenizers import Tokenizer

    lengths = [len(e.ids) for e in Tokenizer.from_file(str(manifest.tokenizer)).encode_batch(docs)]
    print(f"{len(docs)} passages (8-40 words, {np.mean(lengths):.0f} word pieces on average) from the Python "
          "standard library's comments; "
          f"{args.clients} clients x {args.per_request} documents per upsert; server batches up to "
          f"{settings.inference_max_batch}, {settings.inference_workers} workers")

    server = Server()
    try:
        client = server.client(cloud_inference=True)
        client.create_collection("bench", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE))
        requests = [docs[i:i + args.per_request] for i in range(0, len(docs), args.per_request)]
        warm = [models.PointStruct(id=10**9 + i, vector=models.Document(text=f"warm up {i}", model=MINILM_NAME)) for i in range(8)]
        client.upsert("bench", points=warm)

        def send(index: int) -> None:
            chunk = requests[index]
            client.upsert("bench", points=[
                models.PointStruct(id=index * args.per_request + j, vector=models.Document(text=t, model=MINILM_NAME))
                for j, t in enumerate(chunk)])

        with CpuMeter([os.getpid(), server.proc.pid]) as served_cpu:
            started = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(send, range(len(requests))))
            served = len(docs) / (time.perf_counter() - started)
        assert client.count("bench").count == len(docs) + len(warm)
    finally:
        server.stop()

    with CpuMeter([os.getpid()]) as raw_cpu:
        raw = raw_onnxruntime(manifest, docs, settings.inference_max_batch)
    with CpuMeter([os.getpid()]) as sorted_cpu:
        raw_sorted = raw_onnxruntime(manifest, docs, settings.inference_max_batch, sort_by_length=True)
    batch = settings.inference_max_batch
    print(f"{'measure':<48}{'docs/s':>10}{'vecinfer / it':>16}")
    print(f"{'vecinfer gRPC upsert (embed + store)':<48}{served:>10.1f}{'':>16}   other CPU {served_cpu.other_cores:.2f} cores")
    print(f"{f'raw onnxruntime, batches of {batch} in order':<48}{raw:>10.1f}{served / raw:>16.2f}   other CPU {raw_cpu.other_cores:.2f} cores")
    print(f"{f'raw onnxruntime, batches of {batch} sorted by length':<48}{raw_sorted:>10.1f}{served / raw_sorted:>16.2f}"
          f"   other CPU {sorted_cpu.other_cores:.2f} cores")
    if not args.no_cache:
        cache_mix(args, text_corpus(max(args.docs, args.mix_pool + 1200)))


# ---------------------------------------------------------------- MiniLM int8 against fp32

def _int8_sweep_settings() -> list[tuple[str, Int8Settings]]:
    return [
        ("plain graph, per-tensor weights (quantize_dynamic defaults)",
         Int8Settings(per_channel=False, fused=False, per_token=False, outlier_sites=())),
        ("plain graph, per-channel weights", Int8Settings(fused=False, per_token=False, outlier_sites=())),
        ("plain graph, per-channel, reduce_range", Int8Settings(reduce_range=True, fused=False, per_token=False, outlier_sites=())),
        ("fused graph, per-channel", Int8Settings(per_token=False, outlier_sites=())),
        ("fused, per-channel, per-token activations", Int8Settings(outlier_sites=())),
        ("fused, per-channel, per-token, fp32 outliers at qkv", Int8Settings(outlier_sites=("qkv",))),
        ("fused, per-channel, per-token, fp32 outliers at qkv+ffn1", Int8Settings(outlier_sites=("qkv", "ffn1"))),
        ("served: fused, per-channel, per-token, fp32 outliers everywhere", DEFAULT_INT8),
    ]


def _embed_all(manifest, texts: list[str]) -> np.ndarray:
    from vecinfer.inference.onnx.text_encoder import TextEncoder

    encoder = TextEncoder(manifest, threads=os.cpu_count() or 1)
    return np.concatenate([encoder.encode(texts[i:i + 512])[0] for i in range(0, len(texts), 512)])


def int8_quality(manifest, docs: list[str], docs_fp32: np.ndarray, corpus: int) -> tuple[float, float, float]:
    """(cosine to fp32 mean, min, top-10 agreement) over `docs` and the benchmark set (data.py:
    `corpus` short passages and 200 queries; exact top-10 by dot product, both sides embedded by
    the same model)."""
    from data import minilm_embeddings

    corpus_fp32, queries_fp32, corpus_texts, query_texts = minilm_embeddings(corpus)
    vectors = _embed_all(manifest, docs + corpus_texts + query_texts)
    cosines = (vectors * np.concatenate([docs_fp32, corpus_fp32, queries_fp32])).sum(axis=1)
    corpus_int8, queries_int8 = vectors[len(docs):len(docs) + corpus], vectors[len(docs) + corpus:]
    want = np.argsort(-(queries_fp32 @ corpus_fp32.T), axis=1)[:, :10]
    got = np.argsort(-(queries_int8 @ corpus_int8.T), axis=1)[:, :10]
    agreement = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want, got)]))
    return float(cosines.mean()), float(cosines.min()), agreement


def int8_speed(fp32, int8, docs: list[str], batch: int, rounds: int) -> tuple[float, float, float, float]:
    """(fp32 docs/s, int8 docs/s, median per-round ratio, other processes' CPU) with raw
    onnxruntime, rounds alternating so that both see the same neighbours."""
    fp32_rates, int8_rates = [], []
    with CpuMeter([os.getpid()]) as cpu:
        for _ in range(rounds):
            fp32_rates.append(raw_onnxruntime(fp32, docs, batch, sort_by_length=True))
            int8_rates.append(raw_onnxruntime(int8, docs, batch, sort_by_length=True))
    ratio = float(np.median(np.array(int8_rates) / np.array(fp32_rates)))
    return float(np.median(fp32_rates)), float(np.median(int8_rates)), ratio, cpu.other_cores


def int8_encoder_speed(fp32, int8, docs: list[str], batch: int, rounds: int) -> tuple[float, float, float]:
    """(fp32 docs/s, int8 docs/s, median per-round ratio) through vecinfer's TextEncoder on one
    thread (what a server worker runs): batches of `batch` in arrival order, each run in
    padded runs of similar length (text_encoder.length_groups)."""
    from vecinfer.inference.onnx.text_encoder import TextEncoder

    encoders = (TextEncoder(fp32, threads=1), TextEncoder(int8, threads=1))
    rates: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for encoder, out in zip(encoders, rates):
            started = time.perf_counter()
            for i in range(0, len(docs), batch):
                encoder.encode(docs[i:i + batch])
            out.append(len(docs) / (time.perf_counter() - started))
    ratio = float(np.median(np.array(rates[1]) / np.array(rates[0])))
    return float(np.median(rates[0])), float(np.median(rates[1])), ratio


def int8_served(docs: list[str], clients: int = 8, per_request: int = 8) -> tuple[float, float]:
    """Documents/s through gRPC upserts into one server, fp32 model then int8 model."""
    from qdrant_client import models

    from vecinfer.inference.onnx.catalogue import MINILM_INT8_NAME

    server = Server()
    rates = []
    try:
        client = server.client(cloud_inference=True)
        for name in (MINILM_NAME, MINILM_INT8_NAME):
            collection = name.rsplit("/", 1)[-1]
            client.create_collection(collection, vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE))
            requests = [docs[i:i + per_request] for i in range(0, len(docs), per_request)]

            def send(index: int, name: str = name, collection: str = collection, requests: list = requests) -> None:
                client.upsert(collection, points=[
                    models.PointStruct(id=index * per_request + j, vector=models.Document(text=t, model=name))
                    for j, t in enumerate(requests[index])])

            send(0)  # warm
            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(send, range(len(requests))))
            rates.append(len(docs) / (time.perf_counter() - started))
    finally:
        server.stop()
    return rates[0], rates[1]


def int8_versus_fp32(docs: list[str], corpus: int = 10_000, rounds: int = 3, sweep: bool = False) -> None:
    """sentence-transformers/all-minilm-l6-v2-int8 against fp32 in this process: raw onnxruntime
    docs/s (same tokenising, pooling and batches), the same through the server, cosine to fp32,
    top-10 agreement on the benchmark set; with `sweep`, the same for other quantization settings."""
    from vecinfer.inference.onnx.catalogue import builtin_minilm_int8

    settings = Settings.from_env()
    batch = settings.inference_max_batch
    fp32 = builtin_minilm(settings.cache_dir)
    int8 = builtin_minilm_int8(settings.cache_dir)
    docs_fp32 = _embed_all(fp32, docs)
    print(f"\nMiniLM int8 ({DEFAULT_INT8.describe()}) against fp32: raw onnxruntime, {os.cpu_count()} threads, "
          f"batches of {batch} sorted by length, {len(docs)} passages, {rounds} alternating rounds; top-10 agreement "
          f"on the benchmark set ({corpus} short passages, 200 queries, exact search)")
    fp32_rate, int8_rate, ratio, other = int8_speed(fp32, int8, docs, batch, rounds)
    with CpuMeter([os.getpid()]) as encoder_cpu:
        encoder_fp32, encoder_int8, encoder_ratio = int8_encoder_speed(fp32, int8, docs, batch, rounds)
    mean, worst, agreement = int8_quality(int8, docs, docs_fp32, corpus)
    served_fp32, served_int8 = int8_served(docs)
    print(f"{'measure':<56}{'fp32':>10}{'int8':>10}{'int8 / fp32':>14}")
    print(f"{f'raw onnxruntime docs/s ({os.cpu_count()} threads, batches sorted)':<56}{fp32_rate:>10.1f}{int8_rate:>10.1f}"
          f"{ratio:>14.2f}   other CPU {other:.2f} cores")
    print(f"{'vecinfer encoder docs/s (1 thread, length-grouped runs)':<56}{encoder_fp32:>10.1f}{encoder_int8:>10.1f}"
          f"{encoder_ratio:>14.2f}   other CPU {encoder_cpu.other_cores:.2f} cores")
    print(f"{'vecinfer gRPC upsert docs/s':<56}{served_fp32:>10.1f}{served_int8:>10.1f}{served_int8 / served_fp32:>14.2f}")
    print(f"cosine to fp32: mean {mean:.4f}, min {worst:.4f}; top-10 agreement {agreement:.3f}")
    if not sweep:
        return
    print(f"\n{'int8 settings':<66}{'x fp32':>8}{'cos mean':>10}{'cos min':>9}{'top-10':>8}")
    with tempfile.TemporaryDirectory(prefix="vecinfer-int8-") as tmp:
        for label, choice in _int8_sweep_settings():
            path = Path(tmp) / f"{choice.key()}.onnx"
            quantize.build(Path(fp32.tokenizer).parent, path, choice)
            variant = dataclasses.replace(int8, onnx=path)
            _, _, ratio, other = int8_speed(fp32, variant, docs, batch, 1)
            mean, worst, agreement = int8_quality(variant, docs, docs_fp32, corpus)
            print(f"{label:<66}{ratio:>8.2f}{mean:>10.4f}{worst:>9.4f}{agreement:>8.3f}   other CPU {other:.2f} cores")


def int8_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="inference.py int8", description=int8_versus_fp32.__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000, help="passages for docs/s and cosine")
    parser.add_argument("--corpus", type=int, default=10_000, help="benchmark-set size for top-10 agreement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sweep", action="store_true", help="also build and measure other quantization settings")
    args = parser.parse_args(argv)
    int8_versus_fp32(text_corpus(args.docs), args.corpus, args.rounds, args.sweep)


# ---------------------------------------------------------------- length-grouped runs

def length_groups_versus_fixed(docs: list[str], batch: int = 64, rounds: int = 2) -> None:
    """MiniLM fp32 through vecinfer's TextEncoder on one thread, batches of `batch` in arrival
    order, each batch split into padded runs three ways: text_encoder.length_groups (served),
    sorted groups of 32 (what it replaced), and one run padded to the batch's longest."""
    encoder = text_encoder.TextEncoder(builtin_minilm(Settings.from_env().cache_dir), threads=1)
    served = text_encoder.length_groups

    def fixed32(widths: list[int]) -> list[list[int]]:
        order = np.argsort(widths, kind="stable")
        return [order[s:s + 32].tolist() for s in range(0, len(widths), 32)]

    def one_run(widths: list[int]) -> list[list[int]]:
        return [list(range(len(widths)))]

    print(f"\nLength-grouped runs: {len(docs)} passages, batches of {batch} in arrival order, 1 thread, {rounds} rounds")
    try:
        for _ in range(rounds):
            for label, grouping in (("length_groups (served)", served), ("sorted groups of 32", fixed32),
                                    ("one run per batch", one_run)):
                text_encoder.length_groups = grouping  # type: ignore[assignment]
                started = time.perf_counter()
                for i in range(0, len(docs), batch):
                    encoder.encode(docs[i:i + batch])
                print(f"  {label:<26}{len(docs) / (time.perf_counter() - started):8.1f} docs/s", flush=True)
    finally:
        text_encoder.length_groups = served


if __name__ == "__main__":
    if sys.argv[1:2] == ["int8"]:  # only the int8 measurement: inference.py int8 [--sweep] ...
        int8_main(sys.argv[2:])
    elif sys.argv[1:2] == ["groups"]:  # only the length-grouping A/B: inference.py groups
        length_groups_versus_fixed(text_corpus(640))
    else:
        main()
