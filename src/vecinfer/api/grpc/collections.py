"""qdrant.Collections: create, update, inspect, list and delete collections."""

from __future__ import annotations

from typing import TypeAlias

import grpc

from vecinfer.api.grpc.context import request_context
from vecinfer.api.grpc.convert.collections import alias_actions_from, config_from, info_to, update_from
from vecinfer.api.grpc.errors import grpc_errors
from vecinfer.api.grpc.worker import ServiceLoop
from vecinfer.domain.results import Answer
from vecinfer.service.collections import AliasPairs, CollectionOperations
from vecinfer_proto.qdrant import collections_pb2 as pb
from vecinfer_proto.qdrant import collections_service_pb2_grpc as pb_grpc

Context: TypeAlias = grpc.ServicerContext


class CollectionsServicer(pb_grpc.CollectionsServicer):
    def __init__(self, collections: CollectionOperations, loop: ServiceLoop) -> None:
        self.collections = collections
        self.loop = loop

    @grpc_errors
    def Create(self, request: pb.CreateCollection, context: Context) -> pb.CollectionOperationResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.collections.create(ctx, request.collection_name, config_from(request)))
        return pb.CollectionOperationResponse(result=answer.result, time=answer.seconds)

    @grpc_errors
    def Update(self, request: pb.UpdateCollection, context: Context) -> pb.CollectionOperationResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.collections.update(ctx, request.collection_name, update_from(request)))
        return pb.CollectionOperationResponse(result=answer.result, time=answer.seconds)

    @grpc_errors
    def Delete(self, request: pb.DeleteCollection, context: Context) -> pb.CollectionOperationResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.collections.delete(ctx, request.collection_name))
        return pb.CollectionOperationResponse(result=answer.result, time=answer.seconds)

    @grpc_errors
    def Get(self, request: pb.GetCollectionInfoRequest, context: Context) -> pb.GetCollectionInfoResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.collections.get(ctx, request.collection_name))
        response = pb.GetCollectionInfoResponse(time=answer.seconds)
        info_to(answer.result, response.result)
        return response

    @grpc_errors
    def List(self, request: pb.ListCollectionsRequest, context: Context) -> pb.ListCollectionsResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.collections.list(ctx))
        response = pb.ListCollectionsResponse(time=answer.seconds)
        for name in answer.result:
            response.collections.add(name=name)
        return response

    @grpc_errors
    def UpdateAliases(self, request: pb.ChangeAliases, context: Context) -> pb.CollectionOperationResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.collections.update_aliases(ctx, alias_actions_from(request)))
        return pb.CollectionOperationResponse(result=answer.result, time=answer.seconds)

    @grpc_errors
    def ListAliases(self, request: pb.ListAliasesRequest, context: Context) -> pb.ListAliasesResponse:
        ctx = request_context(context, request)
        return _aliases_response(self.loop.run(context, self.collections.aliases(ctx)))

    @grpc_errors
    def ListCollectionAliases(self, request: pb.ListCollectionAliasesRequest,
                                    context: Context) -> pb.ListAliasesResponse:
        ctx = request_context(context, request)
        return _aliases_response(self.loop.run(context, self.collections.aliases(ctx, request.collection_name)))

    @grpc_errors
    def CollectionExists(self, request: pb.CollectionExistsRequest,
                               context: Context) -> pb.CollectionExistsResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.collections.exists(ctx, request.collection_name))
        response = pb.CollectionExistsResponse(time=answer.seconds)
        response.result.exists = answer.result
        return response


def _aliases_response(answer: Answer[AliasPairs]) -> pb.ListAliasesResponse:
    response = pb.ListAliasesResponse(time=answer.seconds)
    for alias, collection in answer.result:
        response.aliases.add(alias_name=alias, collection_name=collection)
    return response
