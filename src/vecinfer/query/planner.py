"""Executes a query tree (root + nested prefetches) against one collection.

Leaves search the whole collection (filtered); inner nodes re-score the union of their
children's candidates, or fuse / formula-rescore their ranked lists. Filters of every ancestor
apply inside each prefetch. Storage is read only through Collection's typed read API.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vecinfer.domain.errors import InvalidArgument, NotFound
from vecinfer.domain.filters import Filter, HasId, combine
from vecinfer.domain.formula import FormulaQuery
from vecinfer.domain.points import DEFAULT_VECTOR, SparseVector, id_sort_key
from vecinfer.domain.query import (
    RECOMMEND_STRATEGIES,
    Context,
    Discover,
    Example,
    Fusion,
    Nearest,
    NearestMmr,
    OrderBy,
    Prefetch,
    QueryRequest,
    Recommend,
    Record,
    RelevanceFeedback,
    Sample,
    ScoredPoint,
    ScrollRequest,
    SearchParams,
    examples_of,
)
from vecinfer.query import formula, fusion, mmr, ordering, scoring
from vecinfer.query.records import record_of

if TYPE_CHECKING:
    from vecinfer.storage.collection import Collection

MAX_PREFETCH_DEPTH = 64
MMR_MAX_CANDIDATES = 16_384

Ranked = list[tuple[int, float]]
Vector = np.ndarray | SparseVector


def validate(node: Prefetch, depth: int = 0) -> None:
    """Structural checks that need no data; run before inference or search."""
    if depth > MAX_PREFETCH_DEPTH:
        raise InvalidArgument(f"Bad request: prefetch nesting is deeper than {MAX_PREFETCH_DEPTH}")
    query = node.query
    if node.prefetch and query is None:
        raise InvalidArgument(
            "Bad request: A query is needed to merge the prefetches. Can't have prefetches without defining a query."
        )
    if node.score_threshold is not None and query is None:
        raise InvalidArgument("Bad request: A query is needed to use the score_threshold. "
                              "Can't have score_threshold without defining a query.")
    if isinstance(query, OrderBy) and node.score_threshold is not None:
        raise InvalidArgument("Bad request: Can't use score_threshold with an order_by query.")
    if isinstance(query, (Fusion, FormulaQuery)):
        what = "Fusion" if isinstance(query, Fusion) else "Formula"
        if node.using is not None and isinstance(query, Fusion):
            raise InvalidArgument("Bad request: Fusion queries cannot be combined with the 'using' field.")
        if not node.prefetch:
            raise InvalidArgument(f"Wrong input: Validation failed: cannot apply {what} without prefetches: "
                                  "add `prefetch`")
    if isinstance(query, Fusion) and query.weights and len(query.weights) != len(node.prefetch):
        raise InvalidArgument(
            "Bad request: Number of weights in RRF should match number of pre-fetches: "
            f"got {len(query.weights)}, expected {len(node.prefetch)}"
        )
    if isinstance(query, Recommend):
        if query.strategy not in RECOMMEND_STRATEGIES:
            raise InvalidArgument(f"Bad request: unknown recommend strategy {query.strategy!r}: use one of "
                                  + ", ".join(RECOMMEND_STRATEGIES))
        if query.strategy == "average_vector" and not query.positive:
            raise InvalidArgument("Bad request: Positive vectors should not be empty with `average` strategy")
        if not query.positive and not query.negative:
            raise InvalidArgument("Bad request: recommend needs at least one positive or negative example")
    if isinstance(query, NearestMmr):
        if not 0.0 <= query.diversity <= 1.0:
            raise InvalidArgument(f"Bad request: mmr.diversity must be between 0 and 1, got {query.diversity}")
        if query.candidates_limit is not None and not 0 <= query.candidates_limit <= MMR_MAX_CANDIDATES:
            raise InvalidArgument(f"Bad request: mmr.candidates_limit value {query.candidates_limit} is invalid: "
                                  f"it must be between 0 and {MMR_MAX_CANDIDATES}")
    if isinstance(query, RelevanceFeedback) and query.b < 0:
        raise InvalidArgument(f"Bad request: relevance feedback strategy `b` must be 0 or more, got {query.b}")
    for child in node.prefetch:
        validate(child, depth + 1)


def lookup_collections(node: Prefetch) -> set[str]:
    """Names of the other collections `lookup_from` reads in this tree."""
    names = {node.lookup_from.collection} if node.lookup_from is not None else set()
    for child in node.prefetch:
        names |= lookup_collections(child)
    return names


def _to_similarity(distance_scores: np.ndarray, distance: str | None) -> np.ndarray:
    """Returned scores -> internal similarity (larger is more similar)."""
    scores = distance_scores.astype(np.float64)
    if distance == "Euclid":
        return -(scores * scores)
    if distance == "Manhattan":
        return -scores
    return scores


def _pairwise(rows: np.ndarray, distance: str) -> np.ndarray:
    """Internal similarity between every two rows (as `_to_similarity` gives for one)."""
    if distance == "Euclid":
        return -((rows[:, None, :] - rows[None, :, :]) ** 2).sum(axis=2)
    if distance == "Manhattan":
        return -np.abs(rows[:, None, :] - rows[None, :, :]).sum(axis=2)
    return rows @ rows.T


class _Execution:
    def __init__(self, collection: Collection, lookup: dict[str, Collection],
                 searched: dict[int, tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        self.c = collection
        self.lookup = lookup
        # Index searches already done for some root nodes (by id), by `execute_batch`.
        self.searched = searched or {}

    # -------------------------------------------------------------- vectors

    def _vector_name(self, node: Prefetch) -> str:
        name = node.using if node.using is not None else DEFAULT_VECTOR
        self.c.check_vector_name(name)
        return name

    def _example_vector(self, example: Example, name: str, node: Prefetch) -> Vector:
        if example.point_id is None:
            return self.c.prepare_vector(name, example.vector, " (in query)")
        source, source_name = self.c, name
        if node.lookup_from is not None:
            source = self.lookup[node.lookup_from.collection]
            source_name = node.lookup_from.vector or name
            source.check_vector_name(source_name)
        offset = source.offset_of(example.point_id)
        if offset is None:
            raise NotFound(f"Not found: No point with id {example.point_id} found")
        vector = source.vector_at(offset, source_name)
        if vector is None:
            raise InvalidArgument(f"Bad request: Vector with name {source_name} for point {example.point_id} not found")
        return self.c.prepare_vector(name, vector, " (looked up)") if source is not self.c else vector

    @staticmethod
    def _as_sent(example: Example, prepared: Vector) -> Vector:
        """A dense vector given in the request before normalisation (already checked by preparing it)."""
        if example.point_id is None and isinstance(prepared, np.ndarray):
            return np.asarray(example.vector, dtype=np.float32)
        return prepared

    def _weights(self, name: str, vector: Vector, node: Prefetch) -> np.ndarray | None:
        if isinstance(vector, SparseVector):
            return self.c.query_weights(name, vector, node.params.idf_corpus)
        return None

    def _similarities(self, name: str, vector: Vector, offsets: np.ndarray, node: Prefetch) -> np.ndarray:
        """Internal similarity of `vector` to each offset (a sparse vector sharing no index: 0)."""
        if len(offsets) == 0:
            return np.zeros(0)
        scores = self.c.score(name, vector, offsets, self._weights(name, vector, node))
        params = self.c.config.dense.get(name)
        return _to_similarity(scores, params.distance.value if params is not None else None)

    def _average(self, name: str, positive: list[Vector], negative: list[Vector]) -> Vector:
        """avg(pos), or 2·avg(pos) − avg(neg): the average_vector strategy's query (for a
        multivector, the positives' rows and the negatives' rows negated, concatenated)."""
        if isinstance(positive[0], SparseVector):
            def mean(vectors: list[Vector]) -> dict[int, float]:
                total: dict[int, float] = {}
                for v in vectors:
                    assert isinstance(v, SparseVector)
                    for i, x in zip(v.indices.tolist(), v.values.tolist()):
                        total[i] = total.get(i, 0.0) + x
                return {i: x / len(vectors) for i, x in total.items()}

            combined = mean(positive)
            if negative:
                neg = mean(negative)
                combined = {i: 2 * combined.get(i, 0.0) - neg.get(i, 0.0) for i in sorted({*combined, *neg})}
            indices = sorted(combined)
            return self.c.prepare_vector(name, SparseVector(np.array(indices, dtype=np.uint32),
                                                            np.array([combined[i] for i in indices], np.float32)))
        if self.c.is_multivector(name):
            # Multivectors: every row of every positive, then every negative row negated.
            rows = [np.asarray(v, dtype=np.float32) for v in positive] + [-np.asarray(v, dtype=np.float32)
                                                                          for v in negative]
            return self.c.prepare_vector(name, np.concatenate(rows))
        average = np.mean(np.stack([np.asarray(v, dtype=np.float64) for v in positive]), axis=0)
        if negative:
            average = 2 * average - np.mean(np.stack([np.asarray(v, dtype=np.float64) for v in negative]), axis=0)
        return self.c.prepare_vector(name, average.astype(np.float32))

    # -------------------------------------------------------------- candidates

    def _threshold_keeps(self, name: str | None, node: Prefetch) -> Callable[[float], bool]:
        """The distance's direction decides, even for scores that are larger-is-better."""
        t = node.score_threshold
        if t is None:
            return lambda s: True
        if name is None or self.c.higher_is_better(name):
            return lambda s: s > t
        return lambda s: s < t

    def _finish(self, ranked: Ranked, name: str, node: Prefetch, limit: int) -> Ranked:
        keeps = self._threshold_keeps(name, node)
        out: Ranked = []
        for offset, score in ranked:  # a take-while, as Qdrant applies it
            if not keeps(score):
                break
            out.append((offset, score))
        return out[:limit]

    def _with_vector(self, offsets: np.ndarray, name: str) -> np.ndarray:
        return offsets[self.c.vector_mask(name)[offsets]] if len(offsets) else offsets.astype(np.int64)

    def _pool(self, flt: Filter | None, candidates: set[int] | None) -> np.ndarray:
        """Offsets a scoring query considers: the prefetch union (filtered) or every match."""
        mask = self.c.matching(flt)
        if candidates is None:
            return np.flatnonzero(mask)
        return np.array(sorted(o for o in candidates if mask[o]), dtype=np.int64)

    # -------------------------------------------------------------- nearest

    def _nearest(self, node: Prefetch, name: str, vector: Vector, flt: Filter | None, limit: int,
                 candidates: set[int] | None) -> Ranked:
        """Best `limit` by the vector's distance: an index search at a leaf, exact scoring of the
        prefetch union inside the tree."""
        if candidates is None:
            found = self.searched.get(id(node))
            if found is None:
                mask = self.c.matching(flt)
                found = self.c.search(name, vector, limit, mask, node.params, self._weights(name, vector, node))
            offsets, scores = found
            ranked = list(zip(offsets.tolist(), scores.tolist()))
        else:
            offsets = self._with_vector(self._pool(flt, candidates), name)
            if len(offsets) == 0:
                return []
            scores = self.c.score(name, vector, offsets, self._weights(name, vector, node))
            better = self.c.higher_is_better(name)
            order = np.argsort(-scores if better else scores, kind="stable")
            ranked = [(int(offsets[i]), float(scores[i])) for i in order]
        return self._finish(ranked, name, node, limit)

    def _scored(self, node: Prefetch, name: str, flt: Filter | None, limit: int, candidates: set[int] | None,
                score: Callable[[np.ndarray], np.ndarray]) -> Ranked:
        """Every candidate holding the vector, scored by `score` (larger first)."""
        offsets = self._with_vector(self._pool(flt, candidates), name)
        if len(offsets) == 0:
            return []
        values = score(offsets).astype(np.float32)
        if len(values) > limit:
            # Only the best `limit` can be returned: select them, then sort those (ties keep offset order).
            best = np.argpartition(-values, limit - 1)[:limit]
            cut = values[best].min()
            best = np.flatnonzero(values >= cut)  # every point tied with the last one stays in play
        else:
            best = np.arange(len(values))
        order = best[np.argsort(-values[best], kind="stable")]
        ranked = [(int(offsets[i]), float(values[i])) for i in order]
        return self._finish(ranked, name, node, limit)

    def _mmr(self, node: Prefetch, query: NearestMmr, name: str, flt: Filter | None, limit: int,
             candidates: set[int] | None) -> Ranked:
        vector = self._example_vector(query.nearest, name, node)
        fetched = self._nearest(node, name, vector, flt, query.candidates_limit or limit, candidates)
        if len(fetched) < 2:
            return fetched
        offsets = np.array([o for o, _ in fetched], dtype=np.int64)
        relevance = self._similarities(name, vector, offsets, node)
        vectors = [self.c.vector_at(int(o), name) for o in offsets]
        params = self.c.config.dense.get(name)
        if params is not None and all(isinstance(v, np.ndarray) and v.ndim == 1 for v in vectors):
            similarity = _pairwise(np.stack([np.asarray(v, dtype=np.float64) for v in vectors]), params.distance.value)
        else:
            similarity = np.stack([self._similarities(name, v, offsets, node) for v in vectors if v is not None])
        picked = mmr.select(relevance, similarity, query.diversity, limit)
        return [fetched[i] for i in picked]

    # -------------------------------------------------------------- one node

    def _score_node(self, node: Prefetch, flt: Filter | None, limit: int, candidates: set[int] | None) -> Ranked:
        query = node.query
        if query is None:
            return self._by_id(flt, limit, candidates)
        if isinstance(query, Sample):
            offsets = self._pool(flt, candidates).tolist()
            return [(o, 1.0) for o in random.sample(offsets, min(limit, len(offsets)))]
        if isinstance(query, OrderBy):
            return [(o, 1.0) for o, _ in self.ordered(query, flt, limit, candidates)]
        name = self._vector_name(node)
        if isinstance(query, Nearest):
            vector = self._example_vector(Example(query.vector, query.point_id), name, node)
            return self._nearest(node, name, vector, flt, limit, candidates)
        if isinstance(query, NearestMmr):
            return self._mmr(node, query, name, flt, limit, candidates)
        if isinstance(query, Recommend):
            positive = [self._example_vector(e, name, node) for e in query.positive]
            negative = [self._example_vector(e, name, node) for e in query.negative]
            if query.strategy == "average_vector":
                # Given vectors are averaged as sent (stored ones as stored), as Qdrant does; the
                # average is then prepared (normalised for Cosine) like any query vector.
                raw_positive = [self._as_sent(e, v) for e, v in zip(query.positive, positive)]
                raw_negative = [self._as_sent(e, v) for e, v in zip(query.negative, negative)]
                average = self._average(name, raw_positive, raw_negative)
                return self._nearest(node, name, average, flt, limit, candidates)
            combine_scores = scoring.best_score if query.strategy == "best_score" else scoring.sum_scores
            return self._scored(node, name, flt, limit, candidates, lambda offsets: combine_scores(
                [self._similarities(name, v, offsets, node) for v in positive],
                [self._similarities(name, v, offsets, node) for v in negative], len(offsets)))
        if isinstance(query, (Discover, Context)):
            pairs = [(self._example_vector(p.positive, name, node), self._example_vector(p.negative, name, node))
                     for p in query.pairs]

            def pair_sims(offsets: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
                return [(self._similarities(name, p, offsets, node), self._similarities(name, n, offsets, node))
                        for p, n in pairs]

            if isinstance(query, Discover):
                target = self._example_vector(query.target, name, node)
                return self._scored(node, name, flt, limit, candidates, lambda offsets: scoring.discover(
                    self._similarities(name, target, offsets, node), pair_sims(offsets)))
            return self._scored(node, name, flt, limit, candidates,
                                lambda offsets: scoring.context(pair_sims(offsets), len(offsets)))
        if isinstance(query, RelevanceFeedback):
            target = self._example_vector(query.target, name, node)
            items = [(self._example_vector(item.example, name, node), item.score) for item in query.feedback]
            return self._scored(node, name, flt, limit, candidates, lambda offsets: scoring.relevance_feedback(
                self._similarities(name, target, offsets, node),
                [(self._similarities(name, v, offsets, node), s) for v, s in items], query.a, query.b, query.c))
        raise InvalidArgument(f"Bad request: {type(query).__name__} queries need prefetches")

    def _by_id(self, flt: Filter | None, limit: int, candidates: set[int] | None) -> Ranked:
        offsets = self._pool(flt, candidates).tolist()
        offsets.sort(key=lambda o: id_sort_key(self.c.id_at(o)))
        return [(o, 1.0) for o in offsets[:limit]]  # score-less results score 1.0, as in Qdrant

    def ordered(self, query: OrderBy, flt: Filter | None, limit: int,
                 candidates: set[int] | None) -> list[tuple[int, int | float]]:
        index = self.c.payload_schema.get(query.key)
        if index is None or index.type not in ordering.RANGE_INDEXES or (
                index.type == "integer" and (index.params or {}).get("range") is False):
            raise InvalidArgument(
                f"Bad request: No range index for `order_by` key: `{query.key}`. Please create one to use "
                "`order_by`. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see "
                "which payload schemas support Range conditions")
        start = ordering.start_value(query.start_from)
        column = self.c.number_column(query.key) if index.type in ("integer", "float") else None
        if column is not None:
            # Plain numbers under a top-level key: order the column, not the payloads one by one.
            numbers, ints, is_int = column
            pool = self._pool(flt, candidates)
            values = numbers[pool]
            keep = ~np.isnan(values)
            if start is not None:
                with np.errstate(invalid="ignore"):
                    keep &= values <= start if query.descending else values >= start
            pool, values = pool[keep], values[keep]
            order = np.argsort(-values if query.descending else values, kind="stable")[:limit]
            return [(int(pool[i]), int(ints[pool[i]]) if is_int[pool[i]] else float(values[i])) for i in order]
        entries = []
        for offset in self._pool(flt, candidates).tolist():
            for value in ordering.order_values(self.c.payload_at(offset), query.key):
                if start is None or (value <= start if query.descending else value >= start):
                    entries.append((offset, value))
        entries.sort(key=lambda entry: entry[1], reverse=query.descending)  # stable: ties keep stored order
        return entries[:limit]

    # -------------------------------------------------------------- tree

    def run(self, node: Prefetch, outer: Filter | None, limit: int) -> Ranked:
        flt = combine(outer, node.filter)
        if node.lookup_from is None:
            # Points this query names by id are no results, here or in its prefetches (Qdrant adds
            # `must_not has_id` to the query's filter, which is pushed down like any other).
            mentioned = {e.point_id for e in examples_of(node.query) if e.point_id is not None}
            if isinstance(node.query, Nearest) and node.query.point_id is not None:
                mentioned.add(node.query.point_id)
            if mentioned:
                flt = combine(flt, Filter(must_not=(HasId(frozenset(mentioned)),)))
        if not node.prefetch:
            return self._score_node(node, flt, limit, None)
        children = [self.run(child, flt, child.limit) for child in node.prefetch]
        query = node.query
        if isinstance(query, Fusion):
            fused = fusion.dbsf(children) if query.method == "dbsf" else fusion.rrf(children, query.k, query.weights)
            if node.score_threshold is not None:
                fused = [(o, s) for o, s in fused if s >= node.score_threshold]
            return fused[:limit]
        if isinstance(query, FormulaQuery):
            return formula.rescore(query, children, self.c.payload_at, limit, node.score_threshold,
                                   view_of=self.c.point_view)
        candidates = {offset for ranked in children for offset, _ in ranked}
        return self._score_node(node, flt, limit, candidates)

    def root_order_values(self, node: Prefetch, limit: int) -> list[tuple[int, int | float]]:
        """An order_by root: each entry with the value it was ordered by."""
        assert isinstance(node.query, OrderBy)
        flt = node.filter
        candidates = None
        if node.prefetch:
            children = [self.run(child, flt, child.limit) for child in node.prefetch]
            candidates = {offset for ranked in children for offset, _ in ranked}
        return self.ordered(node.query, flt, limit, candidates)


def execute_batch(collection: Collection, requests: list[QueryRequest],
                  lookup: dict[str, Collection] | None = None) -> list[list[ScoredPoint]]:
    """`execute` for each request (same answers), with the plain nearest searches among them
    (a vector, no prefetch, the same vector name, filter, limit and search parameters) sent to
    the index together: one graph search call per segment for all of them."""
    searched: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for shared in _shared_searches(collection, requests) if len(requests) > 1 else []:
        vectors = np.stack([vector for _, vector in shared.roots])
        found = collection.search_many(shared.name, vectors, shared.limit, collection.matching(shared.filter),
                                       shared.params)
        searched.update((id(root), result) for (root, _), result in zip(shared.roots, found))
    return [execute(collection, request, lookup, searched) for request in requests]


@dataclass
class _SharedSearch:
    """One index search that several roots make with their own vectors."""

    name: str
    filter: Filter | None
    limit: int
    params: SearchParams
    roots: list[tuple[Prefetch, np.ndarray]]

    def takes(self, name: str, flt: Filter | None, limit: int, params: SearchParams) -> bool:
        return ((self.name, self.filter, self.limit, self.params.exact, self.params.hnsw_ef)
                == (name, flt, limit, params.exact, params.hnsw_ef))


def _shared_searches(collection: Collection, requests: list[QueryRequest]) -> list[_SharedSearch]:
    """Roots that are one plain dense nearest search each, grouped by what their index search
    shares; a search nobody shares is left to `execute`."""
    preparing = _Execution(collection, {})
    shared: list[_SharedSearch] = []
    for request in requests:
        root, query = request.root, request.root.query
        if (root.prefetch or root.lookup_from is not None or not isinstance(query, Nearest)
                or query.point_id is not None or not isinstance(query.vector, np.ndarray)):
            continue
        name = preparing._vector_name(root)
        if name not in collection.config.dense:
            continue
        vector = preparing._example_vector(Example(query.vector, None), name, root)
        if not isinstance(vector, np.ndarray) or vector.ndim != 1:
            continue  # a multivector query: scored exactly, nothing to share
        limit = root.limit + request.offset
        search = next((s for s in shared if s.takes(name, root.filter, limit, root.params)), None)
        if search is None:
            shared.append(_SharedSearch(name, root.filter, limit, root.params, [(root, vector)]))
        else:
            search.roots.append((root, vector))
    return [search for search in shared if len(search.roots) > 1]


def execute(collection: Collection, request: QueryRequest, lookup: dict[str, Collection] | None = None,
            searched: dict[int, tuple[np.ndarray, np.ndarray]] | None = None) -> list[ScoredPoint]:
    """Run one query that `validate` accepted; the caller holds the read locks of `collection`
    and of every collection in `lookup` (by name). `searched`: index searches `execute_batch`
    already made for root nodes."""
    execution = _Execution(collection, lookup or {}, searched)
    total = request.root.limit + request.offset
    if isinstance(request.root.query, OrderBy):
        hits: list[tuple[int, float, int | float | None]] = [
            (o, 1.0, v) for o, v in execution.root_order_values(request.root, total)]
    else:
        hits = [(o, s, None) for o, s in execution.run(request.root, None, total)]
    out = []
    for offset, score, order_value in hits[request.offset:]:
        record = record_of(collection, offset, request.with_payload, request.with_vectors)
        out.append(ScoredPoint(record.id, float(score), record.payload, record.vectors, order_value))
    return out


def ordered_scroll(collection: Collection, request: ScrollRequest) -> list[Record]:
    """A scroll with `order_by`: one record per value entry, in value order."""
    assert request.order_by is not None
    if request.offset is not None:
        raise InvalidArgument("Bad request: Cannot use an `offset` when using `order_by`. "
                              "Use `order_by.start_from` to continue from a value instead")
    execution = _Execution(collection, {})
    out = []
    for offset, value in execution.ordered(request.order_by, request.filter, request.limit, None):
        record = record_of(collection, offset, request.with_payload, request.with_vectors)
        record.order_value = value
        out.append(record)
    return out
