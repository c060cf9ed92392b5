"""Point operations: writes (inference resolved first, then one atomic write), reads, queries."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar

from vecinfer.domain import json_path
from vecinfer.domain import points as ops
from vecinfer.domain.errors import NotFound, ValidationFailed
from vecinfer.domain.filters import Filter
from vecinfer.domain.groups import DistanceMatrix, FacetHit, FacetRequest, GroupsRequest, MatrixRequest, PointGroup
from vecinfer.domain.points import PointId
from vecinfer.domain.query import (
    PayloadSelector,
    QueryRequest,
    Record,
    ScoredPoint,
    ScrollPage,
    ScrollRequest,
    VectorSelector,
)
from vecinfer.domain.results import Answer, UpdateResult
from vecinfer.inference.backend import Purpose
from vecinfer.inference.resolver import Resolver, Slot, slots_in_operations, slots_in_query
from vecinfer.query import facet, groups, matrix, planner, records
from vecinfer.service import strict_mode
from vecinfer.service.context import RequestContext
from vecinfer.service.limits import Limits
from vecinfer.service.running import NO_USAGE, OnLoop, answer, answer_now, no_check, within_deadline
from vecinfer.storage.catalog import Catalog
from vecinfer.storage.collection import Collection
from vecinfer.storage.text_match import check_text_index_params, normalize_text_index_params

T = TypeVar("T")
ALL_PAYLOAD = PayloadSelector(enable=True)
ALL_VECTORS = VectorSelector(enable=True)


def _timeout(ctx: RequestContext) -> int | None:
    """The request's own `timeout` in seconds (the REST parameter, the gRPC field), which strict
    mode's `max_timeout` bounds."""
    return ctx.timeout


# The metrics label of each single-operation write.
_WRITE_OPERATIONS: dict[type[ops.CollectionOperation], str] = {
    ops.Upsert: "upsert",
    ops.DeletePoints: "delete_points",
    ops.UpdateVectors: "update_vectors",
    ops.DeleteVectors: "delete_vectors",
    ops.SetPayload: "set_payload",
    ops.OverwritePayload: "overwrite_payload",
    ops.DeletePayload: "delete_payload",
    ops.ClearPayload: "clear_payload",
    ops.CreateFieldIndex: "create_field_index",
    ops.DeleteFieldIndex: "delete_field_index",
}


def _updated(seq: int, wait: bool, count: int) -> list[UpdateResult]:
    status = "completed" if wait else "acknowledged"
    return [UpdateResult(seq, status) for _ in range(count)]


class PointOperations:
    def __init__(self, catalog: Catalog, resolver: Resolver, limits: Limits) -> None:
        self._catalog = catalog
        self._resolver = resolver
        self._limits = limits
        self._rates = strict_mode.RateLimits()
        self._payload_sizes = strict_mode.PayloadSizes()

    # ------------------------------------------------------------------ strict mode

    def _strict_read(self, name: str, verify: Callable[[strict_mode.Checker], None], cost: Callable[[], int]) -> None:
        """The collection's strict mode for a read: its checks, then the read rate limit."""
        collection = self._catalog.get(name)
        checker = strict_mode.Checker.of(collection.config, collection.payload_schema)
        if checker is None:
            return
        verify(checker)
        self._rates.read(collection, checker.strict, cost())

    async def _strict_write(self, ctx: RequestContext, collection: Collection,
                            operations: list[ops.CollectionOperation]) -> None:
        """The collection's strict mode for a write: each operation's checks (stored sizes
        measured off the event loop, under the read lock), then the write rate limit."""
        if strict_mode.Checker.of(collection.config, collection.payload_schema) is not None:
            await asyncio.to_thread(self._strict_write_now, ctx, collection, operations)

    def _strict_write_now(self, ctx: RequestContext, collection: Collection,
                          operations: list[ops.CollectionOperation]) -> None:
        checker = strict_mode.Checker.of(collection.config, collection.payload_schema)
        if checker is None:
            return
        with collection.lock.reading():
            checker.writes(operations, lambda: self._stored_size(collection), _timeout(ctx))
            costs: list[int] = []
            if checker.strict.write_rate_limit is not None:
                counted = [strict_mode.write_cost(op, lambda flt: records.count(collection, flt)) for op in operations]
                costs = [cost for cost in counted if cost is not None]
        self._rates.write(collection, checker.strict, costs)

    def _stored_size(self, collection: Collection) -> strict_mode.StoredSize:
        payload = self._payload_sizes.get(collection, collection.seq, collection.payload_storage_bytes)
        return strict_mode.StoredSize(collection.points_count(), collection.vector_storage_bytes(), payload)

    # ------------------------------------------------------------------ writes

    def _check_write(self, operations: list[ops.CollectionOperation]) -> None:
        self._limits.operations(operations)
        for op in operations:
            if isinstance(op, ops.CreateFieldIndex) and not op.field:
                raise ValidationFailed("field_name", "must not be empty: name the payload key to index")
            if isinstance(op, ops.CreateFieldIndex):
                json_path.parse(op.field)  # a key every later read can walk, or refused now
            if isinstance(op, ops.CreateFieldIndex) and op.type == "text" and op.params is not None:
                check_text_index_params(op.params)
                op.params = normalize_text_index_params(op.params)  # kept as Qdrant returns them

    async def _write(self, ctx: RequestContext, operation: str, name: str,
                     operations: list[ops.CollectionOperation], wait: bool) -> Answer[list[UpdateResult]]:
        async def work() -> tuple[list[UpdateResult], dict[str, int]]:
            collection = self._catalog.get(name)
            await self._strict_write(ctx, collection, operations)
            usage = await self._resolve(ctx, operation, slots_in_operations(operations), "document")
            seq = await asyncio.to_thread(collection.write, operations)
            return _updated(seq, wait, len(operations)), usage

        return await answer(ctx, operation, work, bounded=False, check=lambda: self._check_write(operations))

    def write_now(self, ctx: RequestContext, operation: str, name: str, operations: list[ops.CollectionOperation],
                  wait: bool, on_loop: OnLoop) -> Answer[list[UpdateResult]]:
        """`_write` in the calling thread (the gRPC door's workers): only the embedding of
        inference objects, if any, runs on the event loop, through `on_loop`."""
        def work() -> tuple[list[UpdateResult], dict[str, int]]:
            collection = self._catalog.get(name)
            self._strict_write_now(ctx, collection, operations)
            slots = slots_in_operations(operations)
            usage = self._resolve_now(ctx, operation, slots, "document", on_loop)
            return _updated(collection.write(operations), wait, len(operations)), usage

        return answer_now(ctx, operation, work, bounded=False, check=lambda: self._check_write(operations))

    async def _resolve(self, ctx: RequestContext, operation: str, slots: list[Slot], purpose: Purpose) -> dict[str, int]:
        """Embed every inference object of the request, within the client's deadline."""
        if not slots:
            return NO_USAGE
        return await within_deadline(ctx, f"inference for {operation}",
                                     self._resolver.resolve(slots, purpose, ctx.inference()))

    def _resolve_now(self, ctx: RequestContext, operation: str, slots: list[Slot], purpose: Purpose,
                     on_loop: OnLoop) -> dict[str, int]:
        """`_resolve` from a worker thread: answered here when the embedding cache holds every
        input, else on the event loop."""
        if not slots:
            return NO_USAGE
        cached = self._resolver.resolve_cached_now(slots, purpose, ctx.inference())
        return cached if cached is not None else on_loop(self._resolve(ctx, operation, slots, purpose))

    async def write_one(self, ctx: RequestContext, name: str, op: ops.CollectionOperation,
                         wait: bool) -> Answer[UpdateResult]:
        batch = await self._write(ctx, _WRITE_OPERATIONS[type(op)], name, [op], wait)
        return Answer(batch.result[0], batch.seconds, batch.usage)

    def write_one_now(self, ctx: RequestContext, name: str, op: ops.CollectionOperation, wait: bool,
                      on_loop: OnLoop) -> Answer[UpdateResult]:
        """One write in the calling thread (`write_now`)."""
        batch = self.write_now(ctx, _WRITE_OPERATIONS[type(op)], name, [op], wait, on_loop)
        return Answer(batch.result[0], batch.seconds, batch.usage)

    async def upsert(self, ctx: RequestContext, name: str, op: ops.Upsert, wait: bool) -> Answer[UpdateResult]:
        return await self.write_one(ctx, name, op, wait)

    async def delete(self, ctx: RequestContext, name: str, op: ops.DeletePoints, wait: bool) -> Answer[UpdateResult]:
        return await self.write_one(ctx, name, op, wait)

    async def update_vectors(self, ctx: RequestContext, name: str, op: ops.UpdateVectors,
                             wait: bool) -> Answer[UpdateResult]:
        return await self.write_one(ctx, name, op, wait)

    async def delete_vectors(self, ctx: RequestContext, name: str, op: ops.DeleteVectors,
                             wait: bool) -> Answer[UpdateResult]:
        return await self.write_one(ctx, name, op, wait)

    async def set_payload(self, ctx: RequestContext, name: str, op: ops.SetPayload, wait: bool) -> Answer[UpdateResult]:
        return await self.write_one(ctx, name, op, wait)

    async def overwrite_payload(self, ctx: RequestContext, name: str, op: ops.OverwritePayload,
                                wait: bool) -> Answer[UpdateResult]:
        return await self.write_one(ctx, name, op, wait)

    async def delete_payload(self, ctx: RequestContext, name: str, op: ops.DeletePayload,
                             wait: bool) -> Answer[UpdateResult]:
        return await self.write_one(ctx, name, op, wait)

    async def clear_payload(self, ctx: RequestContext, name: str, op: ops.ClearPayload,
                            wait: bool) -> Answer[UpdateResult]:
        return await self.write_one(ctx, name, op, wait)

    async def create_field_index(self, ctx: RequestContext, name: str, op: ops.CreateFieldIndex,
                                 wait: bool) -> Answer[UpdateResult]:
        return await self.write_one(ctx, name, op, wait)

    async def delete_field_index(self, ctx: RequestContext, name: str, op: ops.DeleteFieldIndex,
                                 wait: bool) -> Answer[UpdateResult]:
        return await self.write_one(ctx, name, op, wait)

    async def update_batch(self, ctx: RequestContext, name: str, operations: list[ops.CollectionOperation],
                           wait: bool) -> Answer[list[UpdateResult]]:
        return await self._write(ctx, "update_batch", name, operations, wait)

    def update_batch_now(self, ctx: RequestContext, name: str, operations: list[ops.CollectionOperation],
                         wait: bool, on_loop: OnLoop) -> Answer[list[UpdateResult]]:
        """`update_batch` in the calling thread (`write_now`)."""
        return self.write_now(ctx, "update_batch", name, operations, wait, on_loop)

    # ------------------------------------------------------------------ reads

    async def _read(self, ctx: RequestContext, operation: str, name: str,
                    read: Callable[[Collection], T], check: Callable[[], None] = no_check) -> Answer[T]:
        async def work() -> tuple[T, dict[str, int]]:
            collection = self._catalog.get(name)

            def locked() -> T:
                with collection.lock.reading():
                    return read(collection)

            return await asyncio.to_thread(locked), NO_USAGE

        return await answer(ctx, operation, work, check=check)

    async def retrieve(self, ctx: RequestContext, name: str, ids: list[PointId], with_payload: PayloadSelector,
                       with_vectors: VectorSelector) -> Answer[list[Record]]:
        return await self._read(ctx, "retrieve", name,
                                lambda c: records.retrieve(c, ids, with_payload, with_vectors),
                                check=lambda: self._strict_read(name, lambda s: s.retrieve(_timeout(ctx)),
                                                                lambda: len(ids)))

    async def get_point(self, ctx: RequestContext, name: str, point_id: PointId) -> Answer[Record]:
        """One point with its whole payload and every vector; NotFound when it is missing."""

        def read(collection: Collection) -> Record:
            found = records.retrieve(collection, [point_id], ALL_PAYLOAD, ALL_VECTORS)
            if not found:
                raise NotFound(f"Not found: Point with id {point_id} does not exists!")
            return found[0]

        return await self._read(ctx, "get_point", name, read,
                                check=lambda: self._strict_read(name, lambda s: s.retrieve(_timeout(ctx)), lambda: 1))

    async def scroll(self, ctx: RequestContext, name: str, request: ScrollRequest) -> Answer[ScrollPage]:
        def read(collection: Collection) -> ScrollPage:
            if request.order_by is not None:
                return ScrollPage(planner.ordered_scroll(collection, request), None)
            found, next_offset = records.scroll(collection, request.filter, request.offset, request.limit,
                                                request.with_payload, request.with_vectors)
            return ScrollPage(found, next_offset)

        def check() -> None:
            self._limits.scroll(request)
            self._strict_read(name, lambda s: s.scroll(request, _timeout(ctx)),
                              lambda: strict_mode.filtered_read_cost(request.filter))

        return await self._read(ctx, "scroll", name, read, check=check)

    async def count(self, ctx: RequestContext, name: str, flt: Filter | None, exact: bool = True) -> Answer[int]:
        """`exact` is the client's (Qdrant's default: true); counts here are always exact, but
        strict mode's `search_allow_exact: false` refuses a request for one."""

        def check() -> None:
            self._limits.filter(flt, "filter")
            self._strict_read(name, lambda s: s.count(flt, exact, _timeout(ctx)),
                              lambda: strict_mode.filtered_read_cost(flt))

        return await self._read(ctx, "count", name, lambda c: records.count(c, flt), check=check)

    # ------------------------------------------------------------------ queries

    def _check_queries(self, ctx: RequestContext, name: str, requests: list[QueryRequest], batch: bool) -> None:
        self._limits.queries(requests)
        for request in requests:
            planner.validate(request.root)
        self._strict_read(name, lambda s: s.queries(requests, _timeout(ctx), batch),
                          lambda: strict_mode.query_cost(requests))

    def _query_runner(self, name: str, requests: list[QueryRequest]) -> Callable[[], list[list[ScoredPoint]]]:
        """The queries' run over the collection (and those `lookup_from` names, read under their
        own locks, taken in name order); the collections are looked up now."""
        collection = self._catalog.get(name)
        others = {n: self._catalog.get(n) for r in requests for n in planner.lookup_collections(r.root)}
        others = {n: c for n, c in others.items() if c is not collection}

        def run() -> list[list[ScoredPoint]]:
            with contextlib.ExitStack() as locks:
                for _, locked in sorted([(collection.name, collection), *others.items()], key=lambda x: x[0]):
                    locks.enter_context(locked.lock.reading())
                lookup = {**others, name: collection, collection.name: collection}
                return planner.execute_batch(collection, requests, lookup)

        return run

    async def _queries(self, ctx: RequestContext, operation: str, name: str,
                       requests: list[QueryRequest], batch: bool) -> Answer[list[list[ScoredPoint]]]:
        async def work() -> tuple[list[list[ScoredPoint]], dict[str, int]]:
            run = self._query_runner(name, requests)
            slots = [slot for request in requests for slot in slots_in_query(request.root)]
            usage = await self._resolve(ctx, operation, slots, "query")
            return await asyncio.to_thread(run), usage

        return await answer(ctx, operation, work, check=lambda: self._check_queries(ctx, name, requests, batch))

    def queries_now(self, ctx: RequestContext, operation: str, name: str, requests: list[QueryRequest],
                    batch: bool, on_loop: OnLoop) -> Answer[list[list[ScoredPoint]]]:
        """`_queries` in the calling thread (the gRPC door's workers): only the embedding of
        inference objects, if any, runs on the event loop, through `on_loop`."""
        def work() -> tuple[list[list[ScoredPoint]], dict[str, int]]:
            run = self._query_runner(name, requests)
            slots = [slot for request in requests for slot in slots_in_query(request.root)]
            usage = self._resolve_now(ctx, operation, slots, "query", on_loop)
            return run(), usage

        return answer_now(ctx, operation, work, check=lambda: self._check_queries(ctx, name, requests, batch))

    async def query(self, ctx: RequestContext, name: str, request: QueryRequest) -> Answer[list[ScoredPoint]]:
        batch = await self._queries(ctx, "query", name, [request], batch=False)
        return Answer(batch.result[0], batch.seconds, batch.usage)

    async def query_batch(self, ctx: RequestContext, name: str,
                          requests: list[QueryRequest]) -> Answer[list[list[ScoredPoint]]]:
        return await self._queries(ctx, "query_batch", name, requests, batch=True)

    def query_now(self, ctx: RequestContext, name: str, request: QueryRequest,
                  on_loop: OnLoop) -> Answer[list[ScoredPoint]]:
        """`query` in the calling thread (`queries_now`)."""
        batch = self.queries_now(ctx, "query", name, [request], False, on_loop)
        return Answer(batch.result[0], batch.seconds, batch.usage)

    def query_batch_now(self, ctx: RequestContext, name: str, requests: list[QueryRequest],
                        on_loop: OnLoop) -> Answer[list[list[ScoredPoint]]]:
        """`query_batch` in the calling thread (`queries_now`)."""
        return self.queries_now(ctx, "query_batch", name, requests, True, on_loop)

    # ------------------------------------------------------------------ groups, facets, distance matrices

    def _at_least(self, field: str, value: int, minimum: int) -> None:
        if value < minimum:
            raise ValidationFailed(field, f"value {value} invalid, must be {minimum} or more")
        bound = self._limits.s.max_limit
        if value > bound:
            raise ValidationFailed(field, f"value {value} is over the limit of {bound} (VECINFER_MAX_LIMIT)")

    async def _groups(self, ctx: RequestContext, operation: str, name: str, request: GroupsRequest,
                      legacy: bool) -> Answer[list[PointGroup]]:
        def check() -> None:
            self._limits.query(request.query)
            self._at_least("group_size", request.group_size, 1)
            json_path.parse(request.group_by)
            planner.validate(request.query.root)
            self._strict_read(name, lambda s: strict_mode.check_groups(s, request, _timeout(ctx), legacy),
                              lambda: strict_mode.query_cost([request.query]))

        async def work() -> tuple[list[PointGroup], dict[str, int]]:
            collection = self._catalog.get(name)
            # `lookup_from` collections and the `with_lookup` one: read under their own locks too.
            wanted = planner.lookup_collections(request.query.root)
            target_name = request.with_lookup.collection if request.with_lookup is not None else None
            if target_name is not None:
                wanted = wanted | {target_name}
            others = {n: self._catalog.get(n) for n in sorted(wanted)}
            usage = await self._resolve(ctx, operation, slots_in_query(request.query.root), "query")

            def run() -> list[PointGroup]:
                distinct = {id(c): c for c in (collection, *others.values())}
                with contextlib.ExitStack() as locks:
                    for locked in sorted(distinct.values(), key=lambda c: c.name):
                        locks.enter_context(locked.lock.reading())
                    lookup = {**others, name: collection, collection.name: collection}
                    target = others[target_name] if target_name is not None else None
                    return groups.execute(collection, request, lookup, target)

            return await asyncio.to_thread(run), usage

        return await answer(ctx, operation, work, check=check)

    async def query_groups(self, ctx: RequestContext, name: str, request: GroupsRequest) -> Answer[list[PointGroup]]:
        return await self._groups(ctx, "query_groups", name, request, legacy=False)

    async def search_groups(self, ctx: RequestContext, name: str, request: GroupsRequest) -> Answer[list[PointGroup]]:
        """The legacy search/groups: a nearest query (built by the door) grouped."""
        return await self._groups(ctx, "search_groups", name, request, legacy=True)

    async def recommend_groups(self, ctx: RequestContext, name: str,
                               request: GroupsRequest) -> Answer[list[PointGroup]]:
        """The legacy recommend/groups: a recommend query (built by the door) grouped."""
        return await self._groups(ctx, "recommend_groups", name, request, legacy=True)

    async def facet(self, ctx: RequestContext, name: str, request: FacetRequest) -> Answer[list[FacetHit]]:
        def check() -> None:
            self._at_least("limit", request.limit, 1)
            self._limits.filter(request.filter, "filter")
            json_path.parse(request.key)
            self._strict_read(name, lambda s: strict_mode.check_facet(s, request, _timeout(ctx)),
                              lambda: strict_mode.filtered_read_cost(request.filter))

        return await self._read(ctx, "facet", name, lambda c: facet.count(c, request), check=check)

    async def _matrix(self, ctx: RequestContext, operation: str, name: str,
                      request: MatrixRequest) -> Answer[DistanceMatrix]:
        def check() -> None:
            self._at_least("sample", request.sample, 2)
            self._at_least("limit", request.limit, 1)
            self._limits.filter(request.filter, "filter")
            self._strict_read(name, lambda s: strict_mode.check_matrix(s, request, _timeout(ctx)),
                              lambda: strict_mode.filtered_read_cost(request.filter))

        return await self._read(ctx, operation, name, lambda c: matrix.search_matrix(c, request), check=check)

    async def search_matrix_pairs(self, ctx: RequestContext, name: str,
                                  request: MatrixRequest) -> Answer[DistanceMatrix]:
        return await self._matrix(ctx, "search_matrix_pairs", name, request)

    async def search_matrix_offsets(self, ctx: RequestContext, name: str,
                                    request: MatrixRequest) -> Answer[DistanceMatrix]:
        return await self._matrix(ctx, "search_matrix_offsets", name, request)
