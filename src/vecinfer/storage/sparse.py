"""Sparse vectors of one name in a segment, with an inverted index (postings per token)."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from vecinfer.domain.points import SparseVector


class SparseStore:
    def __init__(self):
        self.vectors: list[SparseVector | None] = []
        # token -> {offset: value}; only live points are in here, so len() is the document
        # frequency and stays right through updates and deletes.
        self.postings: dict[int, dict[int, float]] = defaultdict(dict)
        self.count = 0  # live points that have this vector

    def append(self, vector: SparseVector | None) -> None:
        self.vectors.append(None)
        if vector is not None:
            self.set(len(self.vectors) - 1, vector)

    def set(self, offset: int, vector: SparseVector | None) -> None:
        old = self.vectors[offset]
        if old is not None:
            for token in old.indices.tolist():
                posting = self.postings[token]
                posting.pop(offset, None)
                if not posting:
                    del self.postings[token]
            self.count -= 1
        self.vectors[offset] = vector
        if vector is not None:
            for token, value in zip(vector.indices.tolist(), vector.values.tolist()):
                self.postings[token][offset] = value
            self.count += 1

    def get(self, offset: int) -> SparseVector | None:
        return self.vectors[offset]

    def has(self, offset: int) -> bool:
        return self.vectors[offset] is not None

    def idf_weights(self, query: SparseVector, corpus: np.ndarray | None) -> np.ndarray:
        """ln((N - df + 0.5) / (df + 0.5) + 1) per query token; over `corpus` rows if given."""
        if corpus is None:
            n = self.count
            dfs = [len(self.postings.get(t, ())) for t in query.indices.tolist()]
        else:
            n = sum(1 for off, v in enumerate(self.vectors) if v is not None and corpus[off])
            dfs = [sum(1 for off in self.postings.get(t, ()) if corpus[off]) for t in query.indices.tolist()]
        return np.array([math.log((n - df + 0.5) / (df + 0.5) + 1.0) for df in dfs], dtype=np.float32)

    def score_all(self, query: SparseVector, mask: np.ndarray, weights: np.ndarray) -> dict[int, float]:
        """Dot products with every masked point that shares at least one token with `query`."""
        scores: dict[int, float] = defaultdict(float)
        for token, qv, w in zip(query.indices.tolist(), query.values.tolist(), weights.tolist()):
            posting = self.postings.get(token)
            if not posting:
                continue
            qw = qv * w
            for offset, value in posting.items():
                if mask[offset]:
                    scores[offset] += qw * value
        return scores

    def score(self, query: SparseVector, offsets: np.ndarray, weights: np.ndarray) -> np.ndarray:
        lookup = dict(zip(query.indices.tolist(), (query.values * weights).tolist()))
        out = np.zeros(len(offsets), dtype=np.float32)
        for i, offset in enumerate(offsets.tolist()):
            vector = self.vectors[offset]
            if vector is not None:
                out[i] = sum(lookup.get(t, 0.0) * v for t, v in zip(vector.indices.tolist(), vector.values.tolist()))
        return out

    def search(self, query: SparseVector, k: int, mask: np.ndarray, weights: np.ndarray):
        scores = self.score_all(query, mask, weights)
        if not scores:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        offsets = np.fromiter(scores.keys(), dtype=np.int64, count=len(scores))
        values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores)).astype(np.float32)
        order = np.lexsort((offsets, -values))[:k]
        return offsets[order], values[order]
