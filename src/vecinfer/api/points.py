"""qdrant.Points: writes, reads and queries on the points of a collection."""

from __future__ import annotations

import asyncio
import time

from vecinfer.api.convert import writes
from vecinfer.api.convert.collections import field_index_type
from vecinfer.api.convert.filters import optional_filter
from vecinfer.api.convert.queries import payload_selector, query_request_from, vector_selector
from vecinfer.api.convert.values import fill_map, point_id_from, point_id_to
from vecinfer.api.convert.vectors import vectors_to
from vecinfer.api.errors import grpc_errors
from vecinfer.domain import points as ops
from vecinfer.domain.errors import InvalidArgument
from vecinfer.inference.backend import InferenceContext
from vecinfer.inference.resolver import Resolver, slots_in_operations, slots_in_query
from vecinfer.query import planner, records
from vecinfer.storage.catalog import Catalog
from vecinfer_proto.qdrant import points_pb2 as pb
from vecinfer_proto.qdrant import points_service_pb2_grpc as pb_grpc


def inference_context(context) -> InferenceContext:
    """Provider keys sent as gRPC metadata (`openai-api-key: ...`) and the client's deadline."""
    credentials = {key.lower(): value for key, value in (context.invocation_metadata() or ())
                   if key.lower().endswith("-api-key") and isinstance(value, str)}
    remaining = context.time_remaining()
    deadline = time.monotonic() + remaining if remaining is not None else None
    return InferenceContext(credentials, deadline)


def _fill_usage(usage: dict[str, int], response) -> None:
    if usage:
        for model, tokens in usage.items():
            response.usage.inference.models[model].tokens = tokens


def _fill_record(record, unnamed: bool, out) -> None:
    point_id_to(record.id, out.id)
    if record.payload:
        fill_map(record.payload, out.payload)
    if record.vectors is not None:
        vectors_to(record.vectors, unnamed, out.vectors)


class PointsService(pb_grpc.PointsServicer):
    def __init__(self, catalog: Catalog, resolver: Resolver):
        self.catalog = catalog
        self.resolver = resolver

    # ------------------------------------------------------------------ writes

    async def _write(self, context, collection_name: str, operations: list, wait: bool, response_type):
        started = time.perf_counter()
        collection = self.catalog.get(collection_name)
        usage = await self.resolver.resolve(slots_in_operations(operations), "document", inference_context(context))
        seq = await asyncio.to_thread(collection.write, operations)
        response = response_type()
        status = pb.Completed if wait else pb.Acknowledged
        if response_type is pb.UpdateBatchResponse:
            for _ in operations:
                response.result.add(operation_id=seq, status=status)
        else:
            response.result.operation_id = seq
            response.result.status = status
        _fill_usage(usage, response)
        response.time = time.perf_counter() - started
        return response

    def _wait(self, request) -> bool:
        return request.wait if request.HasField("wait") else False

    @grpc_errors
    async def Upsert(self, request, context):
        return await self._write(context, request.collection_name, [writes.upsert_request(request)], self._wait(request), pb.PointsOperationResponse)

    @grpc_errors
    async def Delete(self, request, context):
        return await self._write(context, request.collection_name, [writes.delete_request(request)], self._wait(request), pb.PointsOperationResponse)

    @grpc_errors
    async def UpdateVectors(self, request, context):
        return await self._write(context, request.collection_name, [writes.update_vectors_request(request)], self._wait(request), pb.PointsOperationResponse)

    @grpc_errors
    async def DeleteVectors(self, request, context):
        return await self._write(context, request.collection_name, [writes.delete_vectors_request(request)], self._wait(request), pb.PointsOperationResponse)

    @grpc_errors
    async def SetPayload(self, request, context):
        return await self._write(context, request.collection_name, [writes.set_payload_request(request)], self._wait(request), pb.PointsOperationResponse)

    @grpc_errors
    async def OverwritePayload(self, request, context):
        return await self._write(context, request.collection_name, [writes.overwrite_payload_request(request)], self._wait(request), pb.PointsOperationResponse)

    @grpc_errors
    async def DeletePayload(self, request, context):
        return await self._write(context, request.collection_name, [writes.delete_payload_request(request)], self._wait(request), pb.PointsOperationResponse)

    @grpc_errors
    async def ClearPayload(self, request, context):
        return await self._write(context, request.collection_name, [writes.clear_payload_request(request)], self._wait(request), pb.PointsOperationResponse)

    @grpc_errors
    async def CreateFieldIndex(self, request, context):
        operation = ops.CreateFieldIndex(request.field_name, field_index_type(request))
        return await self._write(context, request.collection_name, [operation], self._wait(request), pb.PointsOperationResponse)

    @grpc_errors
    async def DeleteFieldIndex(self, request, context):
        operation = ops.DeleteFieldIndex(request.field_name)
        return await self._write(context, request.collection_name, [operation], self._wait(request), pb.PointsOperationResponse)

    @grpc_errors
    async def UpdateBatch(self, request, context):
        operations = [writes.batch_operation(op, i) for i, op in enumerate(request.operations)]
        return await self._write(context, request.collection_name, operations, self._wait(request), pb.UpdateBatchResponse)

    # ------------------------------------------------------------------ reads

    @grpc_errors
    async def Get(self, request, context):
        started = time.perf_counter()
        collection = self.catalog.get(request.collection_name)
        ids = [point_id_from(p, "ids") for p in request.ids]
        with_payload = payload_selector(request, "with_payload", default=False)
        with_vectors = vector_selector(request)

        def read():
            with collection.lock.reading():
                return records.retrieve(collection, ids, with_payload, with_vectors)

        response = pb.GetResponse()
        for record in await asyncio.to_thread(read):
            _fill_record(record, collection.config.unnamed, response.result.add())
        response.time = time.perf_counter() - started
        return response

    @grpc_errors
    async def Scroll(self, request, context):
        started = time.perf_counter()
        collection = self.catalog.get(request.collection_name)
        if request.HasField("order_by"):
            raise InvalidArgument("Scroll.order_by is not supported by vecinfer yet: scroll in id order")
        flt = optional_filter(request)
        start = point_id_from(request.offset, "offset") if request.HasField("offset") else None
        limit = request.limit if request.HasField("limit") else 10
        with_payload = payload_selector(request, "with_payload", default=True)
        with_vectors = vector_selector(request)

        def read():
            with collection.lock.reading():
                return records.scroll(collection, flt, start, limit, with_payload, with_vectors)

        found, next_offset = await asyncio.to_thread(read)
        response = pb.ScrollResponse()
        for record in found:
            _fill_record(record, collection.config.unnamed, response.result.add())
        if next_offset is not None:
            point_id_to(next_offset, response.next_page_offset)
        response.time = time.perf_counter() - started
        return response

    @grpc_errors
    async def Count(self, request, context):
        started = time.perf_counter()
        collection = self.catalog.get(request.collection_name)
        flt = optional_filter(request)

        def read():
            with collection.lock.reading():
                return records.count(collection, flt)

        response = pb.CountResponse()
        response.result.count = await asyncio.to_thread(read)
        response.time = time.perf_counter() - started
        return response

    async def _query(self, context, collection, requests: list) -> tuple[list, dict[str, int]]:
        for request in requests:
            planner.validate(request.root)
        slots = [slot for request in requests for slot in slots_in_query(request.root)]
        usage = await self.resolver.resolve(slots, "query", inference_context(context))

        def run():
            with collection.lock.reading():
                return [planner.execute(collection, request) for request in requests]

        return await asyncio.to_thread(run), usage

    def _fill_scored(self, collection, scored, out) -> None:
        for point in scored:
            item = out.add()
            point_id_to(point.id, item.id)
            item.score = point.score
            if point.payload:
                fill_map(point.payload, item.payload)
            if point.vectors is not None:
                vectors_to(point.vectors, collection.config.unnamed, item.vectors)

    @grpc_errors
    async def Query(self, request, context):
        started = time.perf_counter()
        collection = self.catalog.get(request.collection_name)
        (scored,), usage = await self._query(context, collection, [query_request_from(request)])
        response = pb.QueryResponse()
        self._fill_scored(collection, scored, response.result)
        _fill_usage(usage, response)
        response.time = time.perf_counter() - started
        return response

    @grpc_errors
    async def QueryBatch(self, request, context):
        started = time.perf_counter()
        collection = self.catalog.get(request.collection_name)
        for i, query in enumerate(request.query_points):
            if query.collection_name and query.collection_name != request.collection_name:
                raise InvalidArgument(
                    f"query_points[{i}].collection_name is `{query.collection_name}`, "
                    f"but the batch is for `{request.collection_name}`"
                )
        results, usage = await self._query(context, collection, [query_request_from(q) for q in request.query_points])
        response = pb.QueryBatchResponse()
        for scored in results:
            self._fill_scored(collection, scored, response.result.add().result)
        _fill_usage(usage, response)
        response.time = time.perf_counter() - started
        return response
