"""qdrant.Collections: create, inspect, list and delete collections."""

from __future__ import annotations

import asyncio
import time

from vecinfer.api.convert.collections import config_from, info_to
from vecinfer.api.errors import grpc_errors
from vecinfer.storage.catalog import Catalog
from vecinfer_proto.qdrant import collections_pb2 as pb
from vecinfer_proto.qdrant import collections_service_pb2_grpc as pb_grpc


class CollectionsService(pb_grpc.CollectionsServicer):
    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    @grpc_errors
    async def Create(self, request, context):
        started = time.perf_counter()
        config = config_from(request)
        await asyncio.to_thread(self.catalog.create, request.collection_name, config)
        return pb.CollectionOperationResponse(result=True, time=time.perf_counter() - started)

    @grpc_errors
    async def Delete(self, request, context):
        started = time.perf_counter()
        deleted = await asyncio.to_thread(self.catalog.delete, request.collection_name)
        return pb.CollectionOperationResponse(result=deleted, time=time.perf_counter() - started)

    @grpc_errors
    async def Get(self, request, context):
        started = time.perf_counter()
        collection = self.catalog.get(request.collection_name)
        response = pb.GetCollectionInfoResponse()

        def fill():
            with collection.lock.reading():
                info_to(collection, response.result)

        await asyncio.to_thread(fill)
        response.time = time.perf_counter() - started
        return response

    @grpc_errors
    async def List(self, request, context):
        started = time.perf_counter()
        response = pb.ListCollectionsResponse()
        for name in self.catalog.names():
            response.collections.add(name=name)
        response.time = time.perf_counter() - started
        return response

    @grpc_errors
    async def CollectionExists(self, request, context):
        started = time.perf_counter()
        response = pb.CollectionExistsResponse()
        response.result.exists = self.catalog.exists(request.collection_name)
        response.time = time.perf_counter() - started
        return response
