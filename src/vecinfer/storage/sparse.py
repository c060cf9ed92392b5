"""Sparse vectors of one name in a segment, with an inverted index (postings per token).

A query touches only the postings of its own tokens. Postings are kept as dicts for cheap
updates, and frozen into numpy arrays on first read after a change.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from vecinfer.domain.points import SparseVector
from vecinfer.storage.growable import GrowableArray

_EMPTY = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))


class SparseStore:
    def __init__(self) -> None:
        self.vectors: list[SparseVector | None] = []
        self.present = GrowableArray(np.bool_, False)
        # token -> {offset: value}; only live points are in here, so its size is the document
        # frequency, right through updates and deletes.
        self.postings: dict[int, dict[int, float]] = defaultdict(dict)
        self._frozen: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.count = 0  # live points that have this vector

    def append(self, vector: SparseVector | None) -> None:
        self.vectors.append(None)
        self.present.append(False)
        if vector is not None:
            self.set(len(self.vectors) - 1, vector)

    def set(self, offset: int, vector: SparseVector | None) -> None:
        old = self.vectors[offset]
        if old is not None:
            for token in old.indices.tolist():
                posting = self.postings[token]
                posting.pop(offset, None)
                self._frozen.pop(token, None)
                if not posting:
                    del self.postings[token]
            self.count -= 1
        self.vectors[offset] = vector
        self.present[offset] = vector is not None
        if vector is not None:
            for token, value in zip(vector.indices.tolist(), vector.values.tolist()):
                self.postings[token][offset] = value
                self._frozen.pop(token, None)
            self.count += 1

    def get(self, offset: int) -> SparseVector | None:
        return self.vectors[offset]

    def has(self, offset: int) -> bool:
        return self.vectors[offset] is not None

    def posting(self, token: int) -> tuple[np.ndarray, np.ndarray]:
        frozen = self._frozen.get(token)
        if frozen is None:
            entries = self.postings.get(token)
            if not entries:
                return _EMPTY
            offsets = np.fromiter(entries.keys(), dtype=np.int64, count=len(entries))
            values = np.fromiter(entries.values(), dtype=np.float32, count=len(entries))
            frozen = self._frozen[token] = (offsets, values)
        return frozen

    def statistics(self, query: SparseVector, corpus: np.ndarray | None) -> tuple[int, np.ndarray]:
        """(N, df per query token) for IDF: points with this vector, and those holding each
        token; only over `corpus` rows when given."""
        tokens = query.indices.tolist()
        if corpus is None:
            return self.count, np.array([len(self.postings.get(t, ())) for t in tokens], dtype=np.int64)
        n = int((self.present.view() & corpus[: self.present.size]).sum())
        return n, np.array([int(corpus[self.posting(t)[0]].sum()) for t in tokens], dtype=np.int64)

    def _accumulate(self, query: SparseVector, weights: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        scores = np.zeros(size, dtype=np.float32)
        hit = np.zeros(size, dtype=np.bool_)
        # Ascending token order, f32 accumulation: the order Qdrant's exact scorer adds in.
        for token, qv, w in zip(query.indices.tolist(), query.values.tolist(), weights.tolist()):
            offsets, values = self.posting(token)
            if len(offsets):
                scores[offsets] += np.float32(qv) * np.float32(w) * values
                hit[offsets] = True
        return scores, hit

    def score(self, query: SparseVector, offsets: np.ndarray, weights: np.ndarray) -> np.ndarray:
        scores, _ = self._accumulate(query, weights, len(self.vectors))
        return scores[offsets]

    def search(self, query: SparseVector, k: int, mask: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (offsets, scores) among masked points sharing at least one token with `query`."""
        scores, hit = self._accumulate(query, weights, len(self.vectors))
        candidates = np.flatnonzero(hit & mask[: len(hit)])
        if len(candidates) == 0 or k <= 0:
            return _EMPTY
        cand_scores = scores[candidates]
        if len(candidates) > k:
            top = np.argpartition(-cand_scores, k - 1)[:k]
            candidates, cand_scores = candidates[top], cand_scores[top]
        order = np.lexsort((candidates, -cand_scores))
        return candidates[order], cand_scores[order]
