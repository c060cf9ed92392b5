"""Inference benchmark: documents/s embedded by MiniLM through gRPC upserts from several
concurrent clients, next to raw onnxruntime on the same graph and batch size in this process.

    .venv/bin/python scripts/bench/inference.py [--docs 3000] [--clients 8] [--per-request 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import CpuMeter, Server, text_corpus  # noqa: E402

from vecinfer.config import Settings  # noqa: E402  (no protos: safe beside qdrant_client)
from vecinfer.inference.onnx.catalogue import MINILM_NAME, builtin_minilm  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-request", type=int, default=8, help="documents per upsert request")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
