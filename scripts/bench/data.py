"""Benchmark data: real all-MiniLM-L6-v2 embeddings of short passages (cached under .cache/)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import ROOT, text_corpus  # noqa: E402

CACHE = ROOT / ".cache" / "bench"


def short_passages(n: int) -> list[str]:
    """n passages of 6-12 words (comments of the Python standard library, deterministic)."""
    words = " ".join(text_corpus(max(1000, n // 3))).split()
    out, i, size = [], 0, 6
    while len(out) < n:
        if i + size > len(words):
            i = (i * 7 + 13) % max(1, len(words) - 20)  # wrap with a shift: new word combinations
        out.append(" ".join(words[i : i + size]))
        i += size
        size = 6 + (len(out) * 5) % 7
    return out


def minilm_embeddings(n: int, queries: int = 200) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """(corpus vectors [n, 384], query vectors, corpus texts, query texts), L2-normalised."""
    texts = short_passages(n + queries)
    corpus_texts, query_texts = texts[:n], texts[n:]
    path = CACHE / f"minilm-{n}-{queries}.npz"
    if path.exists():
        data = np.load(path)
        return data["corpus"], data["queries"], corpus_texts, query_texts
    from vecinfer.config import Settings
    from vecinfer.inference.onnx.catalogue import builtin_minilm
    from vecinfer.inference.onnx.text_encoder import TextEncoder

    encoder = TextEncoder(builtin_minilm(Settings.from_env().cache_dir), threads=2)
    started = time.perf_counter()
    vectors = []
    for i in range(0, len(texts), 512):
        vectors.append(encoder.encode(texts[i : i + 512])[0])
        if i % 20480 == 0:
            print(f"  embedded {i}/{len(texts)} passages ({time.perf_counter() - started:.0f} s)", flush=True)
    all_vectors = np.concatenate(vectors)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, corpus=all_vectors[:n], queries=all_vectors[n:])
    return all_vectors[:n], all_vectors[n:], corpus_texts, query_texts


REAL_MAX = 100_000


def search_vectors(n: int, queries: int = 200) -> tuple[np.ndarray, np.ndarray, str]:
    """Corpus and query vectors for the search benchmark, with a line saying what they are.

    Up to 100k: real MiniLM embeddings. Beyond that (embedding 1M passages takes hours on two
    cores), a documented synthetic set: each real vector plus jittered copies
    (x + N(0, 0.05^2) per component, re-normalised), which keeps the clusters of real text
    embeddings; queries stay real."""
    if n <= REAL_MAX:
        corpus, query_vectors, _, _ = minilm_embeddings(n, queries)
        return corpus, query_vectors, f"{n} real all-MiniLM-L6-v2 embeddings of short passages"
    path = CACHE / f"jittered-{n}-{queries}.npz"
    real, query_vectors, _, _ = minilm_embeddings(REAL_MAX, queries)
    if path.exists():
        return np.load(path)["corpus"], query_vectors, _describe_jitter(n)
    rng = np.random.default_rng(7)
    corpus = np.empty((n, real.shape[1]), dtype=np.float32)
    for start in range(0, n, REAL_MAX):
        block = real[: min(REAL_MAX, n - start)]
        if start:
            block = block + rng.normal(0, 0.05, size=block.shape).astype(np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
        corpus[start : start + len(block)] = block
    np.savez(path, corpus=corpus)
    return corpus, query_vectors, _describe_jitter(n)


def _describe_jitter(n: int) -> str:
    return (f"{n} vectors: 100k real all-MiniLM-L6-v2 embeddings plus jittered copies "
            "(+N(0, 0.05^2) per component, re-normalised); real queries")


if __name__ == "__main__":
    corpus, queries, _, _ = minilm_embeddings(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
    print(corpus.shape, queries.shape)
