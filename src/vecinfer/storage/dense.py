"""Dense vectors of one name in a segment: a FAISS flat index (exact search) while the segment
takes writes, memory-mapped rows plus an HNSW graph once it is sealed."""

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
    def __init__(self, params: DenseVectorParams) -> None:
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
        self.extend([vector])

    def extend(self, vectors: list[np.ndarray | None]) -> None:
        """New rows, one per vector (zeros where a point has none), in one FAISS add: an add
        per row cost more than the rest of the row's write."""
        rows = np.zeros((len(vectors), self.params.size), dtype=np.float32)
        for i, vector in enumerate(vectors):
            if vector is not None:
                rows[i] = vector
        self.index.add(rows)
        self.present.extend(np.array([vector is not None for vector in vectors], dtype=np.bool_))

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
        return _score(self.params.distance, self.rows()[offsets], query)

    def search(self, query: np.ndarray, k: int, mask: np.ndarray, exact: bool = False, ef: int = 64,
               full_scan_points: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (offsets, scores) among rows where `mask` is true, best first."""
        mask = mask & self.present.view()
        count = int(np.count_nonzero(mask))
        if count == 0 or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if len(mask) <= _DIRECT_SCORING_MAX or count <= _DIRECT_SCORING_MAX:
            if count * 2 >= len(mask):
                # Most rows qualify: score them all in place (no gather copy), drop the rest.
                candidates = np.arange(len(mask))
                scores = _score(self.params.distance, self.rows(), query)
                scores = np.where(mask, scores, -np.inf if self.params.distance.higher_is_better else np.inf)
            else:
                candidates = np.flatnonzero(mask)
                scores = self.score(query, candidates)
            return _top_k(candidates, scores.astype(np.float32), min(k, count), self.params.distance.higher_is_better)
        params = faiss.SearchParameters()
        return _faiss_search(self.index, params, query, min(k, count), mask, self.params.distance)

    def search_many(self, queries: np.ndarray, k: int, mask: np.ndarray, exact: bool = False, ef: int = 64,
                    full_scan_points: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
        """`search` for each row of `queries`. One by one: batched BLAS products and FAISS's
        batched flat scan sum in another order, and scores must not depend on the batch."""
        return [self.search(query, k, mask, exact, ef, full_scan_points) for query in queries]


class SealedDenseStore:
    """Dense vectors of a sealed segment: rows memory-mapped from disk, never appended to,
    searched through an HNSW graph once the background indexer has built one."""

    def __init__(self, params: DenseVectorParams, rows: np.ndarray, present: np.ndarray) -> None:
        self.params = params
        self._rows = rows
        self.present = FlagArray(present)
        self.index: faiss.Index | None = None

    def rows(self) -> np.ndarray:
        return self._rows

    def set(self, offset: int, vector: np.ndarray | None) -> None:
        if vector is not None:
            raise ValueError("sealed segments take no new vectors; the point moves to the mutable segment")
        self.present[offset] = False

    def get(self, offset: int) -> np.ndarray | None:
        if not self.present[offset]:
            return None
        return np.array(self._rows[offset])

    def score(self, query: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        if len(offsets) * 4 >= len(self._rows) and self.params.distance in (Distance.COSINE, Distance.DOT):
            # Most rows: one product over the mapped rows, then pick; gathering them first would
            # copy the whole matrix for every query vector.
            return np.asarray(self._rows @ query)[offsets]
        return _score(self.params.distance, np.asarray(self._rows[offsets]), query)

    def build_index(self, m: int, ef_construct: int) -> faiss.Index | None:
        """An HNSW graph over every row (rows of deleted points are skipped at search time)."""
        if self.params.distance is Distance.MANHATTAN:
            return None  # FAISS's HNSW has no L1 metric: such vectors stay on exact search
        index = faiss.IndexHNSWFlat(self.params.size, m, _METRICS[self.params.distance])
        index.hnsw.efConstruction = ef_construct
        for start in range(0, len(self._rows), 8192):
            index.add(np.ascontiguousarray(self._rows[start : start + 8192], dtype=np.float32))
        return index

    def search(self, query: np.ndarray, k: int, mask: np.ndarray, exact: bool = False, ef: int = 64,
               full_scan_points: int = 0) -> tuple[np.ndarray, np.ndarray]:
        mask = mask & self.present.view()
        count = int(np.count_nonzero(mask))
        if count == 0 or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if self._scores_exactly(count, k, exact, full_scan_points):
            candidates = np.flatnonzero(mask)
            scores = self.score(query, candidates).astype(np.float32)
            return _top_k(candidates, scores, min(k, count), self.params.distance.higher_is_better)
        return self._graph_search(query.reshape(1, -1), k, mask, count, ef)[0]

    def search_many(self, queries: np.ndarray, k: int, mask: np.ndarray, exact: bool = False, ef: int = 64,
                    full_scan_points: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
        """`search` for each row of `queries`, the graph searches in one FAISS call (each query
        walks the graph exactly as it would alone)."""
        live = mask & self.present.view()
        count = int(np.count_nonzero(live))
        if count == 0 or k <= 0 or self._scores_exactly(count, k, exact, full_scan_points):
            return [self.search(query, k, mask, exact, ef, full_scan_points) for query in queries]
        return self._graph_search(queries, k, live, count, ef)

    def _scores_exactly(self, count: int, k: int, exact: bool, full_scan_points: int) -> bool:
        """Score the candidates one by one instead of walking the graph: when asked, with no
        graph, or for selective filters (as Qdrant does below its full-scan threshold)."""
        return exact or self.index is None or count <= max(full_scan_points, k)

    def _graph_search(self, queries: np.ndarray, k: int, mask: np.ndarray, count: int,
                      ef: int) -> list[tuple[np.ndarray, np.ndarray]]:
        assert self.index is not None
        # faiss's bundled stubs omit SearchParametersHNSW, which its SWIG module defines.
        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
        # A filter that keeps a fraction of the points needs a wider beam to find k of them.
        selectivity = count / len(mask)
        params.efSearch = int(max(ef, k) * min(8.0, max(1.0, 1.0 / max(selectivity, 1e-9) ** 0.5)))
        return _faiss_search_many(self.index, params, queries, min(k, count), mask if count < len(mask) else None,
                                  self.params.distance)


class FlagArray:
    """A fixed-size bool array with the GrowableArray interface."""

    def __init__(self, data: np.ndarray) -> None:
        self._data = np.array(data, dtype=np.bool_)

    def __getitem__(self, index: int) -> np.generic:
        return self._data[index]

    def __setitem__(self, index: int, value: bool) -> None:
        self._data[index] = value

    def view(self) -> np.ndarray:
        return self._data

    @property
    def size(self) -> int:
        return len(self._data)


def _faiss_search(index: faiss.Index, params: faiss.SearchParameters, query: np.ndarray, k: int,
                  mask: np.ndarray | None, distance: Distance) -> tuple[np.ndarray, np.ndarray]:
    """Search a FAISS index, restricted to `mask` rows when given; Qdrant-style scores."""
    return _faiss_search_many(index, params, query.reshape(1, -1), k, mask, distance)[0]


def _faiss_search_many(index: faiss.Index, params: faiss.SearchParameters, queries: np.ndarray, k: int,
                       mask: np.ndarray | None, distance: Distance) -> list[tuple[np.ndarray, np.ndarray]]:
    """`_faiss_search` for each row of `queries`, in one call."""
    if mask is not None:
        packed = np.packbits(mask, bitorder="little")  # must outlive the search call
        params.sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(packed))
    distances, labels = index.search(np.ascontiguousarray(queries, dtype=np.float32), k, params=params)
    if distance is Distance.EUCLID:
        distances = np.sqrt(np.maximum(distances, 0))
    out = []
    for row_labels, row_distances in zip(labels, distances):
        keep = row_labels >= 0
        out.append((row_labels[keep], row_distances[keep]))
    return out


def _top_k(candidates: np.ndarray, scores: np.ndarray, k: int, higher_is_better: bool) -> tuple[np.ndarray, np.ndarray]:
    keys = -scores if higher_is_better else scores
    if len(keys) > k:
        part = np.argpartition(keys, k - 1)[:k]
        candidates, keys, scores = candidates[part], keys[part], scores[part]
    order = np.lexsort((candidates, keys))
    return candidates[order], scores[order]


def _score(distance: Distance, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    if distance in (Distance.COSINE, Distance.DOT):
        return rows @ query
    if distance is Distance.EUCLID:
        return np.sqrt(((rows - query) ** 2).sum(axis=1))
    return np.abs(rows - query).sum(axis=1)
