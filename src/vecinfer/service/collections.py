"""Collection operations: create, update, inspect, list, delete."""

from __future__ import annotations

import asyncio

from vecinfer.domain.collections import CollectionConfig, CollectionInfo, CollectionUpdate
from vecinfer.domain.results import Answer
from vecinfer.service.context import RequestContext
from vecinfer.service.limits import Limits
from vecinfer.service.running import NO_USAGE, answer
from vecinfer.storage.catalog import Catalog


class CollectionOperations:
    def __init__(self, catalog: Catalog, limits: Limits) -> None:
        self._catalog = catalog
        self._limits = limits

    async def create(self, ctx: RequestContext, name: str, config: CollectionConfig) -> Answer[bool]:
        async def work() -> tuple[bool, dict[str, int]]:
            await asyncio.to_thread(self._catalog.create, name, config)
            return True, NO_USAGE

        return await answer(ctx, "create_collection", work, bounded=False, check=lambda: self._limits.collection(config))

    async def update(self, ctx: RequestContext, name: str, update: CollectionUpdate) -> Answer[bool]:
        async def work() -> tuple[bool, dict[str, int]]:
            collection = self._catalog.get(name)
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
