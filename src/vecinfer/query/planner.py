"""Executes a query tree (root + nested prefetches) against one collection.

Leaves search the whole collection; inner nodes re-score or fuse the union of their
children's candidates. Filters of every ancestor apply inside each prefetch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vecinfer.domain.collections import Modifier
from vecinfer.domain.errors import InvalidArgument, NotFound
from vecinfer.domain.filters import Filter, combine
from vecinfer.domain.points import DEFAULT_VECTOR, SparseVector
from vecinfer.domain.query import Fusion, Nearest, Prefetch, QueryRequest, ScoredPoint
from vecinfer.query import fusion
from vecinfer.query.records import record_of
from vecinfer.storage.filters import filter_mask

if TYPE_CHECKING:
    from vecinfer.storage.collection import Collection

MAX_PREFETCH_DEPTH = 64

Ranked = list[tuple[int, float]]


def validate(node: Prefetch, depth: int = 0) -> None:
    """Structural checks that need no data; run before inference or search."""
    if depth > MAX_PREFETCH_DEPTH:
        raise InvalidArgument(f"Bad request: prefetch nesting is deeper than {MAX_PREFETCH_DEPTH}")
    if node.prefetch and node.query is None:
        raise InvalidArgument(
            "Bad request: A query is needed to merge the prefetches. Can't have prefetches without defining a query."
        )
    if node.score_threshold is not None and node.query is None:
        raise InvalidArgument("Bad request: A query is needed to use the score_threshold: set `query`")
    if isinstance(node.query, Fusion):
        if node.using is not None:
            raise InvalidArgument("Bad request: Fusion queries cannot be combined with the 'using' field.")
        if not node.prefetch:
            raise InvalidArgument("Wrong input: Validation failed: cannot apply Fusion without prefetches: add `prefetch`")
        if node.query.weights and len(node.query.weights) != len(node.prefetch):
            raise InvalidArgument(
                "Bad request: Number of weights in RRF should match number of pre-fetches: "
                f"got {len(node.query.weights)}, expected {len(node.prefetch)}"
            )
    for child in node.prefetch:
        validate(child, depth + 1)


class _Execution:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self.segments = collection.segments
        self.excluded: set[int] = set()  # points a query-by-id refers to

    # -------------------------------------------------------------- nearest

    def _vector_name(self, node: Prefetch) -> str:
        name = node.using if node.using is not None else DEFAULT_VECTOR
        self.collection.check_vector_name(name)
        return name

    def _query_vector(self, node: Prefetch, name: str) -> np.ndarray | SparseVector:
        query = node.query
        assert isinstance(query, Nearest), "validate() leaves only Nearest queries to search with"
        if query.point_id is not None:
            offset = self.segments.offset_of.get(query.point_id)
            if offset is None:
                raise NotFound(f"Not found: No point with id {query.point_id} found")
            self.excluded.add(offset)
            vector = self.segments.vector(offset, name)
            if vector is None:
                raise InvalidArgument(f"Point {query.point_id} has no vector `{name}` to search with")
            return vector
        return self.collection.prepare_vector(name, query.vector, " (in query)")

    def _sparse_weights(self, name: str, vector: SparseVector, node: Prefetch, flt: Filter | None) -> np.ndarray:
        if self.collection.config.sparse[name].modifier is not Modifier.IDF:
            return np.ones(len(vector.indices), dtype=np.float32)
        corpus = None
        if node.params.idf_corpus is not None:
            corpus = filter_mask(self.segments, node.params.idf_corpus)
        return self.segments.sparse[name].idf_weights(vector, corpus)

    def _better(self, name: str) -> bool:
        params = self.collection.config.dense.get(name)
        return params is None or params.distance.higher_is_better

    def _finish(self, ranked: Ranked, node: Prefetch, higher_is_better: bool, limit: int) -> Ranked:
        ranked = [(o, s) for o, s in ranked if o not in self.excluded]
        if node.score_threshold is not None:
            t = node.score_threshold
            ranked = [(o, s) for o, s in ranked if (s > t if higher_is_better else s < t)]
        return ranked[:limit]

    def nearest_leaf(self, node: Prefetch, flt: Filter | None, limit: int) -> Ranked:
        name = self._vector_name(node)
        vector = self._query_vector(node, name)
        mask = filter_mask(self.segments, flt)
        for offset in self.excluded:
            mask[offset] = False
        k = limit
        # A sparse vector name gives SparseVectors, a dense one arrays (prepare_vector and storage see to it).
        if name in self.segments.sparse:
            assert isinstance(vector, SparseVector)
            weights = self._sparse_weights(name, vector, node, flt)
            offsets, scores = self.segments.sparse[name].search(vector, k, mask, weights)
        else:
            assert isinstance(vector, np.ndarray)
            offsets, scores = self.segments.dense[name].search(vector, k, mask, **self.collection.search_options(name, node.params))
        ranked = list(zip(offsets.tolist(), scores.tolist()))
        return self._finish(ranked, node, self._better(name), limit)

    def rescore(self, node: Prefetch, candidates: set[int], flt: Filter | None, limit: int) -> Ranked:
        name = self._vector_name(node)
        vector = self._query_vector(node, name)
        offsets = np.array(sorted(o for o in candidates if self.segments.has_vector(o, name)), dtype=np.int64)
        if len(offsets) == 0:
            return []
        if name in self.segments.sparse:
            assert isinstance(vector, SparseVector)
            weights = self._sparse_weights(name, vector, node, flt)
            scores = self.segments.sparse[name].score(vector, offsets, weights)
        else:
            assert isinstance(vector, np.ndarray)
            scores = self.segments.dense[name].score(vector, offsets)
        better = self._better(name)
        order = np.argsort(-scores if better else scores, kind="stable")
        ranked = [(int(offsets[i]), float(scores[i])) for i in order]
        return self._finish(ranked, node, better, limit)

    # -------------------------------------------------------------- tree

    def run(self, node: Prefetch, outer: Filter | None, limit: int) -> Ranked:
        flt = combine(outer, node.filter)
        if not node.prefetch:
            if node.query is None:
                return self.scroll_order(flt, limit)
            return self.nearest_leaf(node, flt, limit)
        children = [self.run(child, flt, child.limit) for child in node.prefetch]
        if isinstance(node.query, Fusion):
            if node.query.method == "dbsf":
                fused = fusion.dbsf(children)
            else:
                fused = fusion.rrf(children, node.query.k, node.query.weights)
            if node.score_threshold is not None:
                fused = [(o, s) for o, s in fused if s >= node.score_threshold]
            return fused[:limit]
        candidates = {offset for ranked in children for offset, _ in ranked}
        return self.rescore(node, candidates, flt, limit)

    def scroll_order(self, flt: Filter | None, limit: int) -> Ranked:
        from vecinfer.domain.points import id_sort_key

        mask = filter_mask(self.segments, flt)
        offsets = np.flatnonzero(mask).tolist()
        offsets.sort(key=lambda o: id_sort_key(self.segments.id_at(o)))
        return [(o, 1.0) for o in offsets[:limit]]  # score-less results score 1.0, as in Qdrant


def lookup_collections(node: Prefetch) -> set[str]:
    """Names of the other collections `lookup_from` reads in this tree."""
    names = {node.lookup_from.collection} if node.lookup_from is not None else set()
    for child in node.prefetch:
        names |= lookup_collections(child)
    return names


def execute(collection: Collection, request: QueryRequest, lookup: dict[str, Collection] | None = None) -> list[ScoredPoint]:
    """Run one query that `validate` accepted; the caller holds the collection's lock."""
    execution = _Execution(collection)
    ranked = execution.run(request.root, None, request.root.limit + request.offset)
    ranked = ranked[request.offset:]
    out = []
    for offset, score in ranked:
        record = record_of(collection, offset, request.with_payload, request.with_vectors)
        out.append(ScoredPoint(record.id, float(score), record.payload, record.vectors))
    return out
