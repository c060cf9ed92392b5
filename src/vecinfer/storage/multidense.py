"""Multivectors of one name in a segment: the values of a dense vector created with
`multivector_config`. Each point holds a matrix (one or more rows of `size` floats); queries are
matrices too and score by MaxSim: the sum over query rows of the best internal similarity to
any of the point's rows, then post-processed like a dense score (Euclid √|Σ|, Manhattan |Σ|).

The rows of all points sit in one float32 matrix, and each offset has a (start, count) into
it. A mutable segment appends a point's rows (a replacement that does not fit where the old
rows were leaves them behind until the segment is sealed or compacted); a sealed segment keeps
them compacted in its folder, memory-mapped. Searches are exact: one matrix product of the
candidates' rows with the query, a max per point and query row, a sum. There is no graph.
"""

from __future__ import annotations

import numpy as np

from vecinfer.domain.collections import DenseVectorParams, Distance
from vecinfer.storage.dense import FlagArray, _top_k
from vecinfer.storage.growable import GrowableArray

# Rows scored in one block (bounds the temporary similarity and gather arrays).
_BLOCK_ROWS = 65_536
# Euclid and Manhattan build (rows × query rows × size) differences: this many floats at a time.
_DIFF_FLOATS = 1 << 22

_EMPTY = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))


def is_multivector(params: DenseVectorParams) -> bool:
    """A dense vector created with `multivector_config` (comparator max_sim)."""
    return "multivector_config" in params.extra


def row_similarities(distance: Distance, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Internal similarity of every row to every query row, (len(rows), len(query)) float32:
    dot products for Cosine (rows normalised) and Dot, −Σ(r−q)² for Euclid, −Σ|r−q| for Manhattan."""
    rows = np.asarray(rows, dtype=np.float32)
    if distance in (Distance.COSINE, Distance.DOT):
        return rows @ query.T
    out = np.empty((len(rows), len(query)), dtype=np.float32)
    step = max(1, _DIFF_FLOATS // max(1, query.size))
    for i in range(0, len(rows), step):
        diff = rows[i : i + step, None, :] - query[None, :, :]
        if distance is Distance.EUCLID:
            out[i : i + step] = -np.einsum("ijk,ijk->ij", diff, diff)
        else:
            out[i : i + step] = -np.abs(diff).sum(axis=2)
    return out


def postprocess(distance: Distance, sums: np.ndarray) -> np.ndarray:
    """MaxSim sums (internal similarity) -> returned scores."""
    if distance is Distance.EUCLID:
        return np.sqrt(np.abs(sums))
    if distance is Distance.MANHATTAN:
        return np.abs(sums)
    return sums


def _best_rows(sims: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per point, the max over its rows sims[starts[i] : starts[i] + counts[i]] of each column,
    (len(starts), sims.shape[1]). Points are taken in groups of one row count, each a reshape
    and a max (numpy's reduceat is several times slower on these shapes)."""
    if len(counts) and counts[0] == counts[-1] and np.all(counts == counts[0]):
        count = int(counts[0])
        if np.array_equal(starts, np.arange(len(starts)) * count):  # back to back, as sealed segments keep them
            return sims[: len(starts) * count].reshape(len(starts), count, -1).max(axis=1)
    out = np.empty((len(starts), sims.shape[1]), dtype=sims.dtype)
    order = np.argsort(counts, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(counts[order])) + 1):
        count = int(counts[group[0]])
        index = (starts[group][:, None] + np.arange(count)).ravel()
        out[group] = sims[index].reshape(len(group), count, -1).max(axis=1)
    return out


def maxsim(distance: Distance, rows: np.ndarray, starts: np.ndarray, counts: np.ndarray,
           query: np.ndarray) -> np.ndarray:
    """MaxSim sums (float64, internal similarity) of `query` against the points whose rows are
    rows[starts[i] : starts[i] + counts[i]] (every count ≥ 1)."""
    out = np.empty(len(starts), dtype=np.float64)
    if len(starts) == 0:
        return out
    query = np.ascontiguousarray(query, dtype=np.float32)
    ends = starts + counts
    cumulative = np.cumsum(counts)
    i = 0
    while i < len(starts):
        done = int(cumulative[i - 1]) if i else 0
        j = max(i + 1, int(np.searchsorted(cumulative, done + _BLOCK_ROWS, side="right")))
        s, c = starts[i:j], counts[i:j]
        needed = int(c.sum())
        lo, hi = int(s.min()), int(ends[i:j].max())
        if hi - lo <= 2 * needed:
            # The rows lie close together (no filter, or a loose one): score the span in place.
            sims = row_similarities(distance, rows[lo:hi], query)
            local = s - lo
        else:
            local = np.cumsum(c) - c
            sims = row_similarities(distance, rows[np.repeat(s - local, c) + np.arange(needed)], query)
        out[i:j] = _best_rows(sims, local, c).sum(axis=1, dtype=np.float64)
        i = j
    return out


def layout_of(matrices: list[np.ndarray | None], size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, starts, counts) holding `matrices` back to back (None: no rows, count 0)."""
    counts = np.array([0 if m is None else len(m) for m in matrices], dtype=np.int64)
    starts = np.cumsum(counts) - counts
    present = [m for m in matrices if m is not None]
    rows = np.concatenate(present).astype(np.float32) if present else np.zeros((0, size), dtype=np.float32)
    return rows, starts, counts


class _Scoring:
    """MaxSim scoring and search over (rows, starts, counts, present) of a store."""

    params: DenseVectorParams
    present: GrowableArray | FlagArray

    def rows(self) -> np.ndarray:
        raise NotImplementedError

    def _layout(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def similarity(self, query: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """MaxSim sums (internal similarity, float64) of `query` against `offsets` (which hold a matrix)."""
        starts, counts = self._layout()
        starts, counts = starts[offsets], counts[offsets]
        empty = counts == 0  # no matrix (callers pass points that hold one): no similarity
        if empty.any():
            out = np.full(len(offsets), -np.inf)
            out[~empty] = maxsim(self.params.distance, self.rows(), starts[~empty], counts[~empty], query)
            return out
        return maxsim(self.params.distance, self.rows(), starts, counts, query)

    def score(self, query: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Returned scores of `query` against `offsets` (which hold a matrix)."""
        return postprocess(self.params.distance, self.similarity(query, offsets)).astype(np.float32)

    def search(self, query: np.ndarray, k: int, mask: np.ndarray, exact: bool = False, ef: int = 64,
               full_scan_points: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (offsets, scores) among points where `mask` is true, best first (always exact)."""
        mask = mask & self.present.view()
        candidates = np.flatnonzero(mask)
        if len(candidates) == 0 or k <= 0:
            return _EMPTY
        scores = self.score(query, candidates)
        return _top_k(candidates, scores, min(k, len(candidates)), self.params.distance.higher_is_better)

    def search_many(self, queries: np.ndarray, k: int, mask: np.ndarray, exact: bool = False, ef: int = 64,
                    full_scan_points: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
        """`search` for each query (a stack of query matrices; exact scoring gains nothing from a batch)."""
        return [self.search(query, k, mask) for query in queries]

    def get(self, offset: int) -> np.ndarray | None:
        if not self.present[offset]:
            return None
        starts, counts = self._layout()
        start = int(starts[offset])
        return np.array(self.rows()[start : start + int(counts[offset])], dtype=np.float32)

    def live_rows(self) -> int:
        """Rows of the points that hold a matrix."""
        _, counts = self._layout()
        return int(counts[self.present.view()].sum())


class MultiDenseStore(_Scoring):
    """The multivectors of a mutable segment."""

    present: GrowableArray

    def __init__(self, params: DenseVectorParams) -> None:
        self.params = params
        self.present = GrowableArray(np.bool_, False)
        self._starts = GrowableArray(np.int64, 0)
        self._counts = GrowableArray(np.int64, 0)
        self._rows = np.zeros((64, params.size), dtype=np.float32)
        self._used = 0

    def rows(self) -> np.ndarray:
        """Every stored row, live or left behind."""
        return self._rows[: self._used]

    def _layout(self) -> tuple[np.ndarray, np.ndarray]:
        return self._starts.view(), self._counts.view()

    def _add_rows(self, matrix: np.ndarray) -> int:
        need = self._used + len(matrix)
        if need > len(self._rows):
            grown = np.zeros((max(need, 2 * len(self._rows)), self.params.size), dtype=np.float32)
            grown[: self._used] = self._rows[: self._used]
            self._rows = grown
        start = self._used
        self._rows[start:need] = matrix
        self._used = need
        return start

    def append(self, matrix: np.ndarray | None) -> None:
        if matrix is None:
            self._starts.append(self._used)
            self._counts.append(0)
            self.present.append(False)
            return
        self._starts.append(self._add_rows(matrix))
        self._counts.append(len(matrix))
        self.present.append(True)

    def set(self, offset: int, matrix: np.ndarray | None) -> None:
        if matrix is None:
            self.present[offset] = False
            return
        start, count = int(self._starts[offset]), int(self._counts[offset])
        if len(matrix) <= count:  # fits where the old rows were
            self._rows[start : start + len(matrix)] = matrix
        else:
            self._starts[offset] = self._add_rows(matrix)
        self._counts[offset] = len(matrix)
        self.present[offset] = True

    def used_rows(self) -> int:
        return self._used

    def compacted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, starts, counts) of every offset with the left-behind rows dropped (offsets
        without a matrix get count 0)."""
        starts, counts = self._layout()
        counts = np.where(self.present.view(), counts, 0)
        new_starts = np.cumsum(counts) - counts
        total = int(counts.sum())
        index = np.repeat(starts - new_starts, counts) + np.arange(total)
        return np.array(self.rows()[index], dtype=np.float32).reshape(total, self.params.size), new_starts, counts


class SealedMultiDenseStore(_Scoring):
    """The multivectors of a sealed segment: rows memory-mapped from disk, never appended to."""

    def __init__(self, params: DenseVectorParams, rows: np.ndarray, starts: np.ndarray, counts: np.ndarray,
                 present: np.ndarray) -> None:
        self.params = params
        self._rows = rows
        self._starts = np.asarray(starts, dtype=np.int64)
        self._counts = np.asarray(counts, dtype=np.int64)
        self.present = FlagArray(present)

    def rows(self) -> np.ndarray:
        return self._rows

    def _layout(self) -> tuple[np.ndarray, np.ndarray]:
        return self._starts, self._counts

    def set(self, offset: int, matrix: np.ndarray | None) -> None:
        if matrix is not None:
            raise ValueError("sealed segments take no new vectors; the point moves to the mutable segment")
        self.present[offset] = False

    def used_rows(self) -> int:
        return len(self._rows)

    def layout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, starts, counts) as stored."""
        return self._rows, self._starts, self._counts
