"""qdrant.Points: writes, reads and queries on the points of a collection."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from vecinfer.api.grpc import worker
from vecinfer.api.grpc.context import request_context
from vecinfer.api.grpc.convert import writes
from vecinfer.api.grpc.convert.collections import field_index_from
from vecinfer.api.grpc.convert.filters import optional_filter
from vecinfer.api.grpc.convert.queries import order_by_from, payload_selector, query_request_from, vector_selector
from vecinfer.api.grpc.convert.values import point_id_from, point_id_to
from vecinfer.api.grpc.errors import grpc_errors
from vecinfer.api.grpc.groups import GroupingMethods
from vecinfer.api.grpc.legacy import LegacyMethods
from vecinfer.api.grpc.output import fill_record, fill_scored, fill_usage
from vecinfer.api.grpc.worker import ServiceLoop
from vecinfer.domain import points as ops
from vecinfer.domain.errors import InvalidArgument, Unimplemented, clip
from vecinfer.domain.query import ScrollRequest
from vecinfer.domain.results import Answer, UpdateResult
from vecinfer.service.points import PointOperations
from vecinfer_proto.qdrant import points_pb2 as pb
from vecinfer_proto.qdrant import points_service_pb2_grpc as pb_grpc

Context: TypeAlias = grpc.ServicerContext
_STATUS = {"acknowledged": pb.Acknowledged, "completed": pb.Completed}


def _fill_update(result: UpdateResult, out: pb.UpdateResult) -> None:
    out.operation_id = result.operation_id
    out.status = _STATUS[result.status]


def _operation_response(answer: Answer[UpdateResult]) -> pb.PointsOperationResponse:
    response = pb.PointsOperationResponse(time=answer.seconds)
    _fill_update(answer.result, response.result)
    fill_usage(answer.usage, response)
    return response


def _wait(request: Any) -> bool:
    return bool(request.wait) if request.HasField("wait") else False


class PointsServicer(GroupingMethods, LegacyMethods, pb_grpc.PointsServicer):
    def __init__(self, points: PointOperations, loop: ServiceLoop) -> None:
        self.points = points
        self.loop = loop

    def _write(self, context: Context, request: Any, operation: ops.CollectionOperation) -> pb.PointsOperationResponse:
        return _operation_response(worker.write(self.points, self.loop, context, request, operation, _wait(request)))

    # ------------------------------------------------------------------ writes

    @grpc_errors
    def Upsert(self, request: pb.UpsertPoints, context: Context) -> pb.PointsOperationResponse:
        return self._write(context, request, writes.upsert_request(request))

    @grpc_errors
    def Delete(self, request: pb.DeletePoints, context: Context) -> pb.PointsOperationResponse:
        return self._write(context, request, writes.delete_request(request))

    @grpc_errors
    def UpdateVectors(self, request: pb.UpdatePointVectors, context: Context) -> pb.PointsOperationResponse:
        return self._write(context, request, writes.update_vectors_request(request))

    @grpc_errors
    def DeleteVectors(self, request: pb.DeletePointVectors, context: Context) -> pb.PointsOperationResponse:
        return self._write(context, request, writes.delete_vectors_request(request))

    @grpc_errors
    def SetPayload(self, request: pb.SetPayloadPoints, context: Context) -> pb.PointsOperationResponse:
        return self._write(context, request, writes.set_payload_request(request))

    @grpc_errors
    def OverwritePayload(self, request: pb.SetPayloadPoints, context: Context) -> pb.PointsOperationResponse:
        return self._write(context, request, writes.overwrite_payload_request(request))

    @grpc_errors
    def DeletePayload(self, request: pb.DeletePayloadPoints, context: Context) -> pb.PointsOperationResponse:
        return self._write(context, request, writes.delete_payload_request(request))

    @grpc_errors
    def ClearPayload(self, request: pb.ClearPayloadPoints, context: Context) -> pb.PointsOperationResponse:
        return self._write(context, request, writes.clear_payload_request(request))

    @grpc_errors
    def CreateFieldIndex(self, request: pb.CreateFieldIndexCollection,
                               context: Context) -> pb.PointsOperationResponse:
        return self._write(context, request, ops.CreateFieldIndex(request.field_name, *field_index_from(request)))

    @grpc_errors
    def DeleteFieldIndex(self, request: pb.DeleteFieldIndexCollection,
                               context: Context) -> pb.PointsOperationResponse:
        return self._write(context, request, ops.DeleteFieldIndex(request.field_name))

    @grpc_errors
    def UpdateBatch(self, request: pb.UpdateBatchPoints, context: Context) -> pb.UpdateBatchResponse:
        operations = [writes.batch_operation(op, i) for i, op in enumerate(request.operations)]
        answer = worker.write_batch(self.points, self.loop, context, request, operations, _wait(request))
        response = pb.UpdateBatchResponse(time=answer.seconds)
        for result in answer.result:
            _fill_update(result, response.result.add())
        fill_usage(answer.usage, response)
        return response

    # ------------------------------------------------------------------ reads

    @grpc_errors
    def Get(self, request: pb.GetPoints, context: Context) -> pb.GetResponse:
        ids = [point_id_from(p, "ids") for p in request.ids]
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.points.retrieve(ctx, request.collection_name, ids,
                                                             payload_selector(request, "with_payload", default=False),
                                                             vector_selector(request)))
        response = pb.GetResponse(time=answer.seconds)
        for record in answer.result:
            fill_record(record, response.result.add())
        return response

    @grpc_errors
    def CreateVectorName(self, request: pb.CreateVectorNameRequest,
                               context: Context) -> pb.PointsOperationResponse:
        raise Unimplemented("adding a vector name to an existing collection (CreateVectorName); "
                            "create the collection with every vector it needs")

    @grpc_errors
    def DeleteVectorName(self, request: pb.DeleteVectorNameRequest,
                               context: Context) -> pb.PointsOperationResponse:
        raise Unimplemented("removing a vector name from an existing collection (DeleteVectorName)")

    @grpc_errors
    def Scroll(self, request: pb.ScrollPoints, context: Context) -> pb.ScrollResponse:
        scroll = ScrollRequest(
            filter=optional_filter(request),
            offset=point_id_from(request.offset, "offset") if request.HasField("offset") else None,
            limit=request.limit if request.HasField("limit") else 10,
            with_payload=payload_selector(request, "with_payload", default=True),
            with_vectors=vector_selector(request),
            order_by=order_by_from(request.order_by) if request.HasField("order_by") else None,
        )
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.points.scroll(ctx, request.collection_name, scroll))
        response = pb.ScrollResponse(time=answer.seconds)
        for record in answer.result.points:
            fill_record(record, response.result.add())
        if answer.result.next_page_offset is not None:
            point_id_to(answer.result.next_page_offset, response.next_page_offset)
        return response

    @grpc_errors
    def Count(self, request: pb.CountPoints, context: Context) -> pb.CountResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.points.count(ctx, request.collection_name,
                                                          optional_filter(request), exact=request.exact if request.HasField("exact") else True))
        response = pb.CountResponse(time=answer.seconds)
        response.result.count = answer.result
        return response

    @grpc_errors
    def Query(self, request: pb.QueryPoints, context: Context) -> pb.QueryResponse:
        answer = worker.query(self.points, self.loop, context, request, query_request_from(request))
        response = pb.QueryResponse(time=answer.seconds)
        fill_scored(answer.result, response.result)
        fill_usage(answer.usage, response)
        return response

    @grpc_errors
    def QueryBatch(self, request: pb.QueryBatchPoints, context: Context) -> pb.QueryBatchResponse:
        for i, query in enumerate(request.query_points):
            if query.collection_name and query.collection_name != request.collection_name:
                raise InvalidArgument(
                    f"query_points[{i}].collection_name is `{clip(query.collection_name)}`, "
                    f"but the batch is for `{clip(request.collection_name)}`"
                )
        answer = worker.query_batch(self.points, self.loop, context, request,
                                    [query_request_from(q) for q in request.query_points])
        response = pb.QueryBatchResponse(time=answer.seconds)
        for scored in answer.result:
            fill_scored(scored, response.result.add().result)
        fill_usage(answer.usage, response)
        return response
