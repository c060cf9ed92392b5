"""The gRPC door in gateway mode: one generic handler for every method of every service.

A request that may carry inference objects (points, named vectors, queries, prefetches,
examples, batches) is decoded; if it does carry some, they are resolved and replaced by their
vectors in the message itself (protobuf keeps fields it does not know, so nothing a newer
client sent is lost), and usage is merged into the upstream's response. Every other request,
for every method (snapshots, shard keys, cluster operations...), goes upstream as the bytes the
client sent, with its metadata and deadline; the upstream's answer and status come back
unchanged."""

from __future__ import annotations

import concurrent.futures
import logging
from typing import Any

import grpc
import numpy as np
from google.protobuf.message import DecodeError, Message

from vecinfer.api.grpc.context import request_context
from vecinfer.api.grpc.convert.vectors import document_from, image_from, object_from
from vecinfer.api.grpc.errors import abort_with, call_ended
from vecinfer.api.grpc.worker import ServiceLoop
from vecinfer.domain.errors import VecinferError
from vecinfer.domain.inference import InferenceInput
from vecinfer.domain.points import SparseVector
from vecinfer.domain.results import cache_hits
from vecinfer.service.context import RequestContext
from vecinfer.service.gateway import GatewayService
from vecinfer_proto.qdrant import collections_service_pb2, points_service_pb2, qdrant_pb2
from vecinfer_proto.qdrant import points_pb2 as pb

log = logging.getLogger(__name__)

# Methods whose requests can hold inference objects: request type, response type, purpose.
_REWRITABLE: dict[str, tuple[type[Message], type[Message], str]] = {
    "/qdrant.Points/Upsert": (pb.UpsertPoints, pb.PointsOperationResponse, "document"),
    "/qdrant.Points/UpdateVectors": (pb.UpdatePointVectors, pb.PointsOperationResponse, "document"),
    "/qdrant.Points/UpdateBatch": (pb.UpdateBatchPoints, pb.UpdateBatchResponse, "document"),
    "/qdrant.Points/Query": (pb.QueryPoints, pb.QueryResponse, "query"),
    "/qdrant.Points/QueryBatch": (pb.QueryBatchPoints, pb.QueryBatchResponse, "query"),
    "/qdrant.Points/QueryGroups": (pb.QueryPointGroups, pb.QueryGroupsResponse, "query"),
    "/qdrant.Points/Recommend": (pb.RecommendPoints, pb.RecommendResponse, "query"),
    "/qdrant.Points/RecommendBatch": (pb.RecommendBatchPoints, pb.RecommendBatchResponse, "query"),
    "/qdrant.Points/RecommendGroups": (pb.RecommendPointGroups, pb.RecommendGroupsResponse, "query"),
    "/qdrant.Points/Discover": (pb.DiscoverPoints, pb.DiscoverResponse, "query"),
    "/qdrant.Points/DiscoverBatch": (pb.DiscoverBatchPoints, pb.DiscoverBatchResponse, "query"),
}
# Qdrant's methods (as our protos list them): the only handlers kept between calls.
_KNOWN_METHODS = frozenset(
    f"/{service.full_name}/{method.name}"
    for module in (points_service_pb2, collections_service_pb2, qdrant_pb2)
    for service in module.DESCRIPTOR.services_by_name.values() for method in service.methods
)
# Served by this process itself.
_LOCAL_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")
# Metadata that belongs to this hop; provider keys (`openai-api-key`...) never leave vecinfer.
_HOP_METADATA = frozenset({"user-agent", "content-type", "te", "grpc-accept-encoding", "grpc-encoding",
                           "grpc-timeout", "accept-encoding"})

def _inference_object(msg: Message, kind: str) -> InferenceInput:
    if kind == "document":
        return document_from(getattr(msg, kind))
    if kind == "image":
        return image_from(getattr(msg, kind))
    return object_from(getattr(msg, kind))


def _slots(msg: Message, out: list[tuple[InferenceInput, Any]]) -> None:
    """Every inference object in `msg` (at any depth), with a setter that puts its vector there."""
    name = msg.DESCRIPTOR.name
    if name in ("Vector", "VectorInput"):
        kind = msg.WhichOneof("vector" if name == "Vector" else "variant")
        if kind in ("document", "image", "object"):
            out.append((_inference_object(msg, kind), _setter(msg)))
            return
    for field, value in msg.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].type == field.TYPE_MESSAGE:
                for item in value.values():
                    _slots(item, out)
        elif field.is_repeated:
            for item in value:
                _slots(item, out)
        else:
            _slots(value, out)


def _setter(target: Message) -> Any:
    def put(vector: Any) -> None:
        if isinstance(vector, SparseVector):
            target.sparse.indices.extend(int(i) for i in vector.indices)
            target.sparse.values.extend(float(v) for v in vector.values)
            return
        array = np.asarray(vector, dtype=np.float32)
        if array.ndim == 2:
            for row in array:
                target.multi_dense.vectors.add().data.extend(row.tolist())
        else:
            target.dense.data.extend(array.tolist())

    return put


def forwarded_metadata(metadata: Any, upstream_key: str) -> tuple[tuple[str, str], ...]:
    out = []
    for key, value in metadata or ():
        lowered = key.lower()
        if lowered.startswith(":") or lowered in _HOP_METADATA or lowered.endswith("-api-key"):
            continue
        if upstream_key and lowered in ("api-key", "authorization"):
            continue
        out.append((key, value))
    if upstream_key:
        out.append(("api-key", upstream_key))
    return tuple(out)


def _merge_usage(response: bytes, response_type: type[Message], usage: dict[str, int]) -> bytes:
    message = response_type.FromString(response)
    if "usage" not in message.DESCRIPTOR.fields_by_name:
        return response
    hits = cache_hits(usage)
    for model, tokens in usage.items():
        message.usage.inference.models[model].tokens += tokens
        message.usage.inference.models[model].cache_hits += hits.get(model, 0)
    return message.SerializeToString()


class GatewayHandler(grpc.GenericRpcHandler):
    def __init__(self, gateway: GatewayService, loop: ServiceLoop) -> None:
        self.gateway = gateway
        self.loop = loop
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method: str = handler_call_details.method
        if method.startswith(_LOCAL_PREFIXES):
            return None
        handler = self._handlers.get(method)
        if handler is None:
            def forward(request: bytes, context: grpc.ServicerContext) -> bytes:
                return self._forward(method, request, context)

            # No (de)serializers: the bytes go through as they came.
            handler = grpc.unary_unary_rpc_method_handler(forward)
            if method in _KNOWN_METHODS:
                self._handlers[method] = handler  # bounded: names a client made up are never cached
        return handler

    def _forward(self, method: str, body: bytes, context: grpc.ServicerContext) -> bytes:
        ctx = request_context(context)
        metadata = forwarded_metadata(context.invocation_metadata(), self.gateway.settings.upstream_api_key)
        try:
            return self.loop.run(context, self._rewrite_and_forward(ctx, method, body, metadata))
        except VecinferError as exc:
            abort_with(context, exc)
        except concurrent.futures.CancelledError:
            call_ended(context)

    async def _rewrite_and_forward(self, ctx: RequestContext, method: str, body: bytes,
                                   metadata: tuple[tuple[str, str], ...]) -> bytes:
        usage: dict[str, int] = {}
        rewrite = _REWRITABLE.get(method)
        if rewrite is not None:
            request_type, response_type, purpose = rewrite
            try:
                message = request_type.FromString(body)
            except DecodeError:
                message = None  # the upstream answers what it makes of these bytes
            slots: list[tuple[InferenceInput, Any]] = []
            if message is not None:
                _slots(message, slots)
            if message is not None and slots:
                answer = await self.gateway.resolve(ctx, method.rsplit("/", 1)[1].lower(), slots,
                                                    "document" if purpose == "document" else "query")
                usage = answer.usage
                body = message.SerializeToString()
        response = await self.gateway.forward_grpc(ctx, method, body, metadata)
        if usage and rewrite is not None:
            response = _merge_usage(response, rewrite[1], usage)
        return response
