"""Collection operations: create, update, inspect, list, delete."""

from __future__ import annotations

import asyncio
from typing import Any

from vecinfer.domain.collections import AliasAction, CollectionConfig, CollectionInfo, CollectionUpdate
from vecinfer.domain.errors import InvalidArgument, Unimplemented, ValidationFailed
from vecinfer.domain.results import Answer
from vecinfer.service.context import RequestContext
from vecinfer.service.limits import Limits
from vecinfer.service.running import NO_USAGE, answer
from vecinfer.storage.catalog import Catalog


def _check_hnsw(hnsw: dict[str, Any], field: str) -> None:
    m = hnsw.get("m")
    if m == 0:
        raise Unimplemented(f"`{field}.m` = 0 (collections without an HNSW graph)")
    if m is not None and m < 2:
        raise ValidationFailed(f"{field}.m", "must be at least 2")
    ef_construct = hnsw.get("ef_construct")
    if ef_construct is not None and ef_construct < 4:
        raise ValidationFailed(f"{field}.ef_construct", "must be at least 4")


def _check_vector(name: str, extra: dict[str, Any]) -> None:
    label = f"vectors.{name}." if name else "vectors."
    multivector = extra.get("multivector_config")
    if multivector is not None and multivector.get("comparator", "max_sim") != "max_sim":
        raise ValidationFailed(f"{label}multivector_config.comparator", "must be `max_sim`, the only comparator")
    datatype = extra.get("datatype")
    if datatype not in (None, "float32"):
        raise Unimplemented(f"the vector datatype {datatype!r} (vecinfer stores float32)")
    _check_hnsw(extra.get("hnsw_config", {}), f"{label}hnsw_config")


def check_supported(config: CollectionConfig) -> None:
    """Settings vecinfer would have to act on to answer as Qdrant does, and cannot: refused
    rather than kept and silently ignored."""
    _check_hnsw({"m": config.hnsw.m, "ef_construct": config.hnsw.ef_construct}, "hnsw_config")
    for name, dense in config.dense.items():
        _check_vector(name, dense.extra)
    for sparse in config.sparse.values():
        datatype = sparse.extra.get("index", {}).get("datatype")
        if datatype not in (None, "float32"):
            raise Unimplemented(f"the sparse vector datatype {datatype!r} (vecinfer stores float32)")
    if config.params.get("sharding_method") == "custom":
        raise Unimplemented("custom sharding (`sharding_method`)")


def check_update(config: CollectionConfig, update: CollectionUpdate) -> None:
    if update.hnsw:
        _check_hnsw(update.hnsw, "hnsw_config")
    for name, change in (update.vectors or {}).items():
        if name not in config.dense and name not in config.sparse:
            raise InvalidArgument(f"Wrong input: Not existing vector name error: {name}")
        if name in config.dense and (change.sparse_index is not None or change.modifier is not None):
            raise InvalidArgument(f"Wrong input: `{name}` is a dense vector: sparse settings do not apply")
        if name in config.sparse and (change.hnsw or change.quantization is not None):
            raise InvalidArgument(f"Wrong input: `{name}` is a sparse vector: dense settings do not apply")
        if change.hnsw:
            _check_hnsw(change.hnsw, f"vectors.{name}.hnsw_config")


# (alias, collection) pairs; named here because the class's `list` method hides the builtin.
AliasPairs = list[tuple[str, str]]
AliasActions = list[AliasAction]


class CollectionOperations:
    def __init__(self, catalog: Catalog, limits: Limits) -> None:
        self._catalog = catalog
        self._limits = limits

    async def create(self, ctx: RequestContext, name: str, config: CollectionConfig) -> Answer[bool]:
        async def work() -> tuple[bool, dict[str, int]]:
            await asyncio.to_thread(self._catalog.create, name, config)
            return True, NO_USAGE

        def check() -> None:
            self._limits.collection(config)
            check_supported(config)

        return await answer(ctx, "create_collection", work, bounded=False, check=check)

    async def update(self, ctx: RequestContext, name: str, update: CollectionUpdate) -> Answer[bool]:
        async def work() -> tuple[bool, dict[str, int]]:
            collection = self._catalog.get(name)
            check_update(collection.config, update)
            await asyncio.to_thread(collection.update_config, update)
            return True, NO_USAGE

        return await answer(ctx, "update_collection", work, bounded=False, check=lambda: self._limits.update(update))

    async def delete(self, ctx: RequestContext, name: str) -> Answer[bool]:
        async def work() -> tuple[bool, dict[str, int]]:
            return await asyncio.to_thread(self._catalog.delete, name), NO_USAGE

        return await answer(ctx, "delete_collection", work, bounded=False)

    async def get(self, ctx: RequestContext, name: str) -> Answer[CollectionInfo]:
        async def work() -> tuple[CollectionInfo, dict[str, int]]:
            collection = self._catalog.get(name)

            def read() -> CollectionInfo:
                with collection.lock.reading():
                    return collection.info()

            return await asyncio.to_thread(read), NO_USAGE

        return await answer(ctx, "get_collection", work)

    async def list(self, ctx: RequestContext) -> Answer[list[str]]:
        async def work() -> tuple[list[str], dict[str, int]]:
            return self._catalog.names(), NO_USAGE

        return await answer(ctx, "list_collections", work)

    async def exists(self, ctx: RequestContext, name: str) -> Answer[bool]:
        async def work() -> tuple[bool, dict[str, int]]:
            return self._catalog.exists(name), NO_USAGE

        return await answer(ctx, "collection_exists", work)

    async def update_aliases(self, ctx: RequestContext, actions: AliasActions) -> Answer[bool]:
        async def work() -> tuple[bool, dict[str, int]]:
            await asyncio.to_thread(self._catalog.update_aliases, actions)
            return True, NO_USAGE

        def check() -> None:
            if len(actions) > self._limits.s.max_points_per_request:
                raise ValidationFailed("actions", f"{len(actions)} actions are more than one request may carry "
                                                  f"({self._limits.s.max_points_per_request})")

        return await answer(ctx, "update_aliases", work, bounded=False, check=check)

    async def aliases(self, ctx: RequestContext, collection: str | None = None) -> Answer[AliasPairs]:
        """(alias, collection) pairs: all of them, or those of one collection."""
        async def work() -> tuple[AliasPairs, dict[str, int]]:
            if collection is None:
                return self._catalog.aliases(), NO_USAGE
            return self._catalog.aliases(self._catalog.get(collection).name), NO_USAGE

        return await answer(ctx, "list_aliases" if collection is None else "list_collection_aliases", work)
