"""The qdrant/bm25 backend: document vectors with BM25 term weights, query vectors of ones.

Tokenising is pure Python, so it never runs on the event loop: every request goes through a
micro-batcher (no wait to fill a batch; batches bounded by characters, so a small query waits
behind at most one short batch of a big request, and a cancelled request's texts are dropped).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from fractions import Fraction
from functools import lru_cache

import mmh3
import numpy as np

from vecinfer.config import Settings
from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.inference import Document, InferenceInput
from vecinfer.domain.points import SparseVector
from vecinfer.inference.backend import Embeddings, InferenceContext, ModelInfo, Purpose
from vecinfer.inference.batcher import MicroBatcher
from vecinfer.inference.bm25 import config as bm25_config
from vecinfer.inference.bm25.tokenizer import Tokenizer
from vecinfer.inference.resolver import check_text_length

MODEL_NAME = "qdrant/bm25"
ALIASES = ("bm25",)
# Long texts are split into pieces about this long, cut before an ASCII space (a boundary for
# every BM25 tokenizer), so one regex scan never holds the GIL for long.
_PIECE_CHARS = 1 << 16
# Characters of text in one batch: at most about 50 ms of tokenising (words all distinct), so
# a small query waits little behind a big request; a longer text runs in a batch of its own.
_BATCH_CHARS = 1 << 16


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


def _pieces(text: str) -> Iterator[str]:
    """`text` in consecutive pieces whose tokens, in order, are the text's tokens."""
    start, end = 0, len(text)
    while end - start > _PIECE_CHARS:
        cut = text.rfind(" ", start + 1, start + _PIECE_CHARS)
        if cut == -1:
            cut = text.find(" ", start + _PIECE_CHARS)
            if cut == -1:
                break
        yield text[start:cut]
        start = cut
    yield text[start:] if start else text


def text_tokens(tokenizer: Tokenizer, text: str, purpose: Purpose) -> list[str]:
    split = tokenizer.document_tokens if purpose == "document" else tokenizer.query_tokens
    if len(text) <= _PIECE_CHARS:
        return split(text)
    tokens: list[str] = []
    for piece in _pieces(text):
        tokens.extend(split(piece))
    return tokens


def embed_one(document: Document, purpose: Purpose) -> tuple[SparseVector, int]:
    """(vector, tokens used) for one text."""
    tokenizer = tokenizer_for(document.options)
    tokens = text_tokens(tokenizer, document.text, purpose)
    if purpose == "document":
        cfg = tokenizer.config
        return document_vector(tokens, cfg.k, cfg.b, cfg.avg_len), len(tokens)
    return query_vector(tokens), len(tokens)


def _run(batch: list[tuple[Document, Purpose]]) -> list[tuple[SparseVector, int]]:
    return [embed_one(document, purpose) for document, purpose in batch]


def _chars(item: tuple[Document, Purpose]) -> int:
    return len(item[0].text) + 1


class Bm25Backend:
    info = ModelInfo(name=MODEL_NAME, kind="sparse", dimension=None, inputs=("text",), source="built-in")

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings if settings is not None else Settings.from_env()
        self.batcher = MicroBatcher(_run, self.settings.inference_max_batch, 0.0, self.settings.inference_workers,
                                    "bm25", cost=_chars, max_cost=_BATCH_CHARS)

    def _check(self, item: InferenceInput) -> Document:
        if not isinstance(item, Document):
            raise InvalidArgument(f"Only text input is supported for {item.model}: send a Document, not an {type(item).__name__}")
        check_text_length(item.text, self.settings.max_text_chars)
        return item

    def embed_sync(self, inputs: list[InferenceInput], purpose: Purpose) -> Embeddings:
        """In the calling thread (benchmarks and tools; the server uses `embed`)."""
        results = [embed_one(self._check(item), purpose) for item in inputs]
        return Embeddings([v for v, _ in results], sum(n for _, n in results))

    async def embed(self, inputs: list[InferenceInput], purpose: Purpose, context: InferenceContext) -> Embeddings:
        items: list[tuple[Document, Purpose]] = []
        for item in inputs:  # cheap checks first, on the loop, so errors come back at once
            document = self._check(item)
            tokenizer_for(document.options)
            items.append((document, purpose))
        results = await self.batcher.submit(items)
        return Embeddings([v for v, _ in results], sum(n for _, n in results))
