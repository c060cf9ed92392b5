"""The qdrant/bm25 backend: document vectors with BM25 term weights, query vectors of ones."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from fractions import Fraction
from functools import lru_cache

import mmh3
import numpy as np

from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.inference import Document, InferenceInput
from vecinfer.domain.points import SparseVector
from vecinfer.inference.backend import Embeddings, InferenceContext, ModelInfo, Purpose
from vecinfer.inference.bm25 import config as bm25_config
from vecinfer.inference.bm25.tokenizer import Tokenizer

MODEL_NAME = "qdrant/bm25"
ALIASES = ("bm25",)


def token_id(token: str) -> int:
    """MurmurHash3 x86 32-bit, seed 0, over UTF-8, read as i32, absolute value."""
    return abs(mmh3.hash(token.encode("utf-8"), 0, signed=True))


def _fma(a: float, b: float, c: float) -> float:
    """a*b + c with one rounding, as Rust's f64::mul_add (exact rational arithmetic)."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


@lru_cache(maxsize=1 << 16)
def term_weight(tf: int, doc_len: int, k: float, b: float, avg_len: float) -> float:
    """tf*(k+1) / (k*(1-b+b*doc_len/avg_len) + tf) in f64, the sum fused as in Qdrant.

    Cached: a corpus has few distinct (tf, doc_len) pairs, and the exact FMA is slow in Python.
    """
    length_norm = 1.0 - b + b * float(doc_len) / avg_len
    return float(tf) * (k + 1.0) / _fma(k, length_norm, float(tf))


def document_vector(tokens: list[str], k: float, b: float, avg_len: float) -> SparseVector:
    counts = Counter(tokens)
    weights: dict[int, float] = {}
    for token, n in counts.items():
        weights[token_id(token)] = term_weight(n, len(tokens), k, b, avg_len)
    indices = sorted(weights)
    return SparseVector(np.array(indices, dtype=np.uint32), np.array([weights[i] for i in indices], dtype=np.float32))


def query_vector(tokens: list[str]) -> SparseVector:
    indices = sorted({token_id(t) for t in tokens})
    return SparseVector(np.array(indices, dtype=np.uint32), np.ones(len(indices), dtype=np.float32))


@lru_cache(maxsize=256)
def _tokenizer(options_json: str) -> Tokenizer:
    return Tokenizer(bm25_config.parse(json.loads(options_json)))


def tokenizer_for(options: dict) -> Tokenizer:
    return _tokenizer(json.dumps(options, sort_keys=True))


class Bm25Backend:
    info = ModelInfo(name=MODEL_NAME, kind="sparse", dimension=None, inputs=("text",), source="built-in")

    def _check(self, item: InferenceInput) -> Document:
        if not isinstance(item, Document):
            raise InvalidArgument(f"Only text input is supported for {item.model}: send a Document, not an {type(item).__name__}")
        return item

    def embed_sync(self, inputs: list[InferenceInput], purpose: Purpose) -> Embeddings:
        vectors, used = [], 0
        for item in inputs:
            document = self._check(item)
            tokenizer = tokenizer_for(document.options)
            if purpose == "document":
                tokens = tokenizer.document_tokens(document.text)
                cfg = tokenizer.config
                vectors.append(document_vector(tokens, cfg.k, cfg.b, cfg.avg_len))
            else:
                tokens = tokenizer.query_tokens(document.text)
                vectors.append(query_vector(tokens))
            used += len(tokens)
        return Embeddings(vectors, used)

    async def embed(self, inputs: list[InferenceInput], purpose: Purpose, context: InferenceContext) -> Embeddings:
        for item in inputs:  # cheap checks first, on the loop, so errors come back at once
            tokenizer_for(self._check(item).options)
        if len(inputs) <= 8:
            return self.embed_sync(inputs, purpose)
        return await asyncio.to_thread(self.embed_sync, inputs, purpose)
