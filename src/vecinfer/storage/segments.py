"""All segments of a collection behind one address space.

Global offset = segment base + local offset; segments sit side by side, the mutable one last.
Queries see one mask over all points; searches fan out over segments and merge.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from vecinfer import metrics
from vecinfer.domain.points import PointId, SparseVector
from vecinfer.storage.segment import Segment
from vecinfer.storage.sparse import SparseStore
from vecinfer.storage.text_match import TextMatcher


class SegmentSet:
    def __init__(self, sealed: list[Segment], mutable: Segment) -> None:
        self.sealed = sealed
        self.mutable = mutable
        # Full-text matchers of the collection's text indexes, by payload key.
        self.text_matchers: dict[str, TextMatcher] = {}
        self._live: tuple[list[tuple[Segment, int]], np.ndarray] | None = None
        self._reindex()

    @property
    def all(self) -> list[Segment]:
        return [*self.sealed, self.mutable]

    def _reindex(self) -> None:
        self.bases: list[int] = []
        self.offset_of: dict[PointId, int] = {}
        base = 0
        for segment in self.all:
            self.bases.append(base)
            for point_id, local in segment.offset_of.items():
                self.offset_of[point_id] = base + local
            base += segment.size
        # Dense names, multivectors included (their stores score by MaxSim).
        self.dense = {name: DenseView(self, name) for name in (*self.mutable.dense, *self.mutable.multi)}
        self.sparse = {name: SparseView(self, name) for name in self.mutable.sparse}

    def replace(self, sealed: list[Segment], mutable: Segment) -> None:
        self.sealed, self.mutable = sealed, mutable
        self._reindex()

    def seal_mutable(self, sealed: Segment, mutable: Segment) -> None:
        """The mutable segment became `sealed` (same offsets); `mutable` starts empty after it."""
        self.sealed = [*self.sealed, sealed]
        self.bases.append(self.bases[-1] + sealed.size)
        self.mutable = mutable

    def replace_mutable(self, mutable: Segment) -> None:
        """Swap in a compacted mutable segment: only its points get new offsets."""
        base = self.bases[-1]
        for point_id in self.mutable.offset_of:
            self.offset_of.pop(point_id, None)
        self.mutable = mutable
        for point_id, local in mutable.offset_of.items():
            self.offset_of[point_id] = base + local

    # ------------------------------------------------------------------ addressing

    @property
    def total(self) -> int:
        return self.bases[-1] + self.mutable.size

    def locate(self, offset: int) -> tuple[Segment, int]:
        i = bisect.bisect_right(self.bases, offset) - 1
        # Not self.all[i]: that builds a list per call, and every result's id comes through here.
        return (self.sealed[i] if i < len(self.sealed) else self.mutable), offset - self.bases[i]

    def segment_of(self, point_id: PointId) -> Segment | None:
        offset = self.offset_of.get(point_id)
        return None if offset is None else self.locate(offset)[0]

    def _holder(self, point_id: PointId) -> Segment:
        """The segment of a point that exists (KeyError for one that does not)."""
        return self.locate(self.offset_of[point_id])[0]

    def id_at(self, offset: int) -> PointId:
        segment, local = self.locate(offset)
        return segment.ids[local]

    # ------------------------------------------------------------------ reads

    def __len__(self) -> int:
        return len(self.offset_of)

    def live_mask(self) -> np.ndarray:
        """Live points over all offsets. Read-only: every unfiltered query asks for it, so it is
        kept until a segment changes (a copy per query cost 24 µs at 100k points)."""
        state = [(segment, segment.version) for segment in self.all]
        cached = self._live
        if cached is not None and len(cached[0]) == len(state) and all(
                a is b and u == v for (a, u), (b, v) in zip(cached[0], state)):
            return cached[1]
        mask = np.concatenate([segment.live_mask() for segment in self.all]) if self.total else np.zeros(0, bool)
        mask.flags.writeable = False
        self._live = (state, mask)  # readers may race to fill it: each fills in the same value
        return mask

    def iter_live(self) -> Iterator[tuple[int, PointId]]:
        for point_id, offset in self.offset_of.items():
            yield offset, point_id

    def payload(self, offset: int) -> dict[str, Any]:
        segment, local = self.locate(offset)
        return segment.payload(local)

    def vector(self, offset: int, name: str) -> np.ndarray | SparseVector | None:
        segment, local = self.locate(offset)
        return segment.vector(local, name)

    def vector_mask(self, name: str) -> np.ndarray:
        parts = [segment.vector_mask(name) for segment in self.all]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.bool_)

    def has_vector(self, offset: int, name: str) -> bool:
        segment, local = self.locate(offset)
        return segment.has_vector(local, name)

    def vectors(self, offset: int) -> dict[str, np.ndarray | SparseVector]:
        segment, local = self.locate(offset)
        return segment.vectors(local)

    # ------------------------------------------------------------------ writes

    def upsert(self, point_id: PointId, vectors: dict, payload: dict[str, Any] | None) -> None:
        old = self.segment_of(point_id)
        if old is not None and old is not self.mutable:
            old.delete(point_id)
        local = self.mutable.upsert(point_id, vectors, payload)
        self.offset_of[point_id] = self.bases[-1] + local

    def upsert_many(self, points: list[tuple[PointId, dict, dict[str, Any] | None]]) -> None:
        """`upsert` of each point in turn; the ids must be distinct."""
        for point_id, _, _ in points:
            old = self.segment_of(point_id)
            if old is not None and old is not self.mutable:
                old.delete(point_id)
        base = self.bases[-1]
        for (point_id, _, _), local in zip(points, self.mutable.upsert_many(points)):
            self.offset_of[point_id] = base + local

    def delete(self, point_id: PointId) -> None:
        segment = self.segment_of(point_id)
        if segment is not None:
            segment.delete(point_id)
            del self.offset_of[point_id]

    def set_vector(self, point_id: PointId, name: str, vector: np.ndarray | SparseVector | None) -> None:
        segment = self._holder(point_id)
        if segment.sealed and vector is not None:
            # A sealed segment's rows are fixed: the point moves to the mutable segment.
            local = segment.offset_of[point_id]
            vectors = segment.vectors(local)
            vectors[name] = vector
            self.upsert(point_id, vectors, segment.payloads[local])
        else:
            segment.set_vector(point_id, name, vector)

    def set_payload(self, point_id: PointId, payload: dict[str, Any]) -> None:
        self._holder(point_id).set_payload(point_id, payload)

    def memory_bytes(self) -> dict[str, int]:
        """Resident vector bytes: flat (in RAM) and memory-mapped (on disk, paged in on use)."""
        ram = sum(store.rows().nbytes for store in (*self.mutable.dense.values(), *self.mutable.multi.values()))
        mapped = sum(store.rows().nbytes for s in self.sealed for store in (*s.dense.values(), *s.multi.values()))
        return {"ram_vector_bytes": ram, "mmap_vector_bytes": mapped}


def _merge_top(parts: list[tuple[np.ndarray, np.ndarray]], k: int, higher_is_better: bool) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int64)
    scores = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.float32)
    order = np.lexsort((offsets, -scores if higher_is_better else scores))[:k]
    return offsets[order], scores[order]


# Shared by every collection; None searches segments one after another.
_search_pool: ThreadPoolExecutor | None = None
# Below this many rows in all, a thread hand-off costs more than the searches it overlaps.
PARALLEL_MIN_ROWS = 20_000


class _Running:
    """How many dense searches are running, in every collection. One search alone fans its
    segments out over the pool; beside others it searches them in turn, as the other searches
    already keep the cores busy (BENCHMARKS.md "Many segments": side by side was 1.28x at p50
    alone, 0.68x in throughput with two callers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def enter(self) -> bool:
        """Count one more search; True when it is the only one."""
        with self._lock:
            self.count += 1
            return self.count == 1

    def leave(self) -> None:
        with self._lock:
            self.count -= 1


running_searches = _Running()


def set_search_threads(threads: int) -> None:
    """How many segments one dense query may search at once (set at startup)."""
    global _search_pool
    if _search_pool is not None:
        _search_pool.shutdown(wait=False)
    _search_pool = ThreadPoolExecutor(threads, thread_name_prefix="segment-search") if threads > 1 else None


class DenseView:
    """One dense vector name across all segments (a multivector name too: its stores take
    matrix queries and score by MaxSim)."""

    def __init__(self, segments: SegmentSet, name: str) -> None:
        self.segments = segments
        self.name = name
        self.params = segments.mutable.vector_store(name).params

    def search(self, query: np.ndarray, k: int, mask: np.ndarray, exact: bool = False, ef: int = 64,
               full_scan_points: int = 0) -> tuple[np.ndarray, np.ndarray]:
        work = [(segment, base, mask[base : base + segment.size])
                for segment, base in zip(self.segments.all, self.segments.bases)]
        work = [(segment, base, local) for segment, base, local in work if local.any()]

        def one(item: tuple[Segment, int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
            segment, base, local = item
            offsets, scores = segment.vector_store(self.name).search(query, k, local, exact=exact, ef=ef,
                                                                     full_scan_points=full_scan_points)
            return offsets + base, scores

        pool = _search_pool
        alone = running_searches.enter()
        try:
            if (pool is not None and alone and len(work) > 1
                    and sum(len(local) for _, _, local in work) >= PARALLEL_MIN_ROWS):
                metrics.SEARCHES_SIDE_BY_SIDE.inc()
                parts = list(pool.map(one, work))
            else:
                parts = [one(item) for item in work]
        finally:
            running_searches.leave()
        # The merge orders by score, then offset: the same answer however the parts arrived.
        return _merge_top(parts, k, self.params.distance.higher_is_better)

    def search_many(self, queries: np.ndarray, k: int, mask: np.ndarray, exact: bool = False, ef: int = 64,
                    full_scan_points: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
        """`search` for each row of `queries` (plain dense vectors), one index call per segment."""
        per_segment = []
        for segment, base in zip(self.segments.all, self.segments.bases):
            local = mask[base : base + segment.size]
            if local.any():
                found = segment.vector_store(self.name).search_many(queries, k, local, exact=exact, ef=ef,
                                                                    full_scan_points=full_scan_points)
                per_segment.append([(offsets + base, scores) for offsets, scores in found])
        better = self.params.distance.higher_is_better
        return [_merge_top([found[i] for found in per_segment], k, better) for i in range(len(queries))]

    def score(self, query: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        out = np.zeros(len(offsets), dtype=np.float32)
        for segment, base in zip(self.segments.all, self.segments.bases):
            inside = (offsets >= base) & (offsets < base + segment.size)
            if inside.any():
                out[inside] = segment.vector_store(self.name).score(query, offsets[inside] - base)
        return out


class SparseView:
    """One sparse vector name across all segments; IDF statistics are collection-wide."""

    def __init__(self, segments: SegmentSet, name: str) -> None:
        self.segments = segments
        self.name = name

    def _stores(self) -> list[tuple[SparseStore, int, int]]:
        return [(s.sparse[self.name], base, s.size) for s, base in zip(self.segments.all, self.segments.bases)]

    def idf_weights(self, query: SparseVector, corpus: np.ndarray | None) -> np.ndarray:
        n = 0
        dfs = np.zeros(len(query.indices), dtype=np.int64)
        for store, base, size in self._stores():
            local = None if corpus is None else corpus[base : base + size]
            count, local_dfs = store.statistics(query, local)
            n += count
            dfs += local_dfs
        n32, df32, half = np.float32(n), dfs.astype(np.float32), np.float32(0.5)
        return np.log((n32 - df32 + half) / (df32 + half) + np.float32(1.0)).astype(np.float32)

    def search(self, query: SparseVector, k: int, mask: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parts = []
        for store, base, size in self._stores():
            offsets, scores = store.search(query, k, mask[base : base + size], weights)
            parts.append((offsets + base, scores))
        return _merge_top(parts, k, True)

    def score(self, query: SparseVector, offsets: np.ndarray, weights: np.ndarray) -> np.ndarray:
        out = np.zeros(len(offsets), dtype=np.float32)
        for store, base, size in self._stores():
            inside = (offsets >= base) & (offsets < base + size)
            if inside.any():
                out[inside] = store.score(query, offsets[inside] - base, weights)
        return out
