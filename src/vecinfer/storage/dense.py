"""Dense vectors of one name in a segment, stored in a FAISS flat index (exact search)."""

from __future__ import annotations

import faiss
import numpy as np

from vecinfer.domain.collections import DenseVectorParams, Distance
from vecinfer.storage.growable import GrowableArray

_METRICS = {
    Distance.COSINE: faiss.METRIC_INNER_PRODUCT,  # vectors are normalised on the way in
    Distance.DOT: faiss.METRIC_INNER_PRODUCT,
    Distance.EUCLID: faiss.METRIC_L2,
    Distance.MANHATTAN: faiss.METRIC_L1,
}

# Below this many candidates, scoring them directly beats a masked scan of the whole index.
_DIRECT_SCORING_MAX = 4096


class DenseStore:
    def __init__(self, params: DenseVectorParams):
        self.params = params
        self.index = faiss.IndexFlat(params.size, _METRICS[params.distance])
        self.present = GrowableArray(np.bool_, False)

    def rows(self) -> np.ndarray:
        """A writable view of every stored row (FAISS owns the memory)."""
        n = self.index.ntotal
        if n == 0:
            return np.empty((0, self.params.size), dtype=np.float32)
        return faiss.rev_swig_ptr(self.index.get_xb(), n * self.params.size).reshape(n, -1)

    def append(self, vector: np.ndarray | None) -> None:
        row = np.zeros((1, self.params.size), dtype=np.float32)
        if vector is not None:
            row[0] = vector
        self.index.add(row)
        self.present.append(vector is not None)

    def set(self, offset: int, vector: np.ndarray | None) -> None:
        if vector is not None:
            self.rows()[offset] = vector
        self.present[offset] = vector is not None

    def get(self, offset: int) -> np.ndarray | None:
        if not self.present[offset]:
            return None
        return self.rows()[offset].copy()

    def score(self, query: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Scores of `query` against the given rows (Qdrant's score for the distance)."""
        rows = self.rows()[offsets]
        distance = self.params.distance
        if distance in (Distance.COSINE, Distance.DOT):
            return rows @ query
        if distance is Distance.EUCLID:
            return np.sqrt(((rows - query) ** 2).sum(axis=1))
        return np.abs(rows - query).sum(axis=1)

    def search(self, query: np.ndarray, k: int, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (offsets, scores) among rows where `mask` is true, best first."""
        mask = mask & self.present.view()
        candidates = np.flatnonzero(mask)
        if len(candidates) == 0 or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if len(candidates) <= _DIRECT_SCORING_MAX:
            scores = self.score(query, candidates)
            order = np.argsort(-scores if self.params.distance.higher_is_better else scores, kind="stable")
            order = order[:k]
            return candidates[order], scores[order].astype(np.float32)
        packed = np.packbits(mask, bitorder="little")
        params = faiss.SearchParameters()
        params.sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(packed))
        distances, labels = self.index.search(query.reshape(1, -1), min(k, len(candidates)), params=params)
        keep = labels[0] >= 0
        labels, distances = labels[0][keep], distances[0][keep]
        if self.params.distance is Distance.EUCLID:
            distances = np.sqrt(np.maximum(distances, 0))
        return labels, distances
