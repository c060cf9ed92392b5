"""qdrant.Points methods that group, count or pair points: QueryGroups, SearchGroups,
RecommendGroups, Facet, SearchMatrixPairs, SearchMatrixOffsets (a mixin of PointsServicer)."""

from __future__ import annotations

from typing import TypeAlias

import grpc

from vecinfer.api.grpc.context import request_context
from vecinfer.api.grpc.convert import groups as convert
from vecinfer.api.grpc.errors import grpc_errors
from vecinfer.api.grpc.output import fill_usage
from vecinfer.api.grpc.worker import ServiceLoop
from vecinfer.service.points import PointOperations
from vecinfer_proto.qdrant import points_pb2 as pb

Context: TypeAlias = grpc.ServicerContext


class GroupingMethods:
    points: PointOperations
    loop: ServiceLoop

    @grpc_errors
    def QueryGroups(self, request: pb.QueryPointGroups, context: Context) -> pb.QueryGroupsResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.points.query_groups(ctx, request.collection_name,
                                                                 convert.query_groups_from(request)))
        response = pb.QueryGroupsResponse(time=answer.seconds)
        convert.fill_groups(answer.result, response.result)
        fill_usage(answer.usage, response)
        return response

    @grpc_errors
    def SearchGroups(self, request: pb.SearchPointGroups, context: Context) -> pb.SearchGroupsResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.points.search_groups(ctx, request.collection_name,
                                                                  convert.search_groups_from(request)))
        response = pb.SearchGroupsResponse(time=answer.seconds)
        convert.fill_groups(answer.result, response.result)
        fill_usage(answer.usage, response)
        return response

    @grpc_errors
    def RecommendGroups(self, request: pb.RecommendPointGroups, context: Context) -> pb.RecommendGroupsResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.points.recommend_groups(ctx, request.collection_name,
                                                                     convert.recommend_groups_from(request)))
        response = pb.RecommendGroupsResponse(time=answer.seconds)
        convert.fill_groups(answer.result, response.result)
        fill_usage(answer.usage, response)
        return response

    @grpc_errors
    def Facet(self, request: pb.FacetCounts, context: Context) -> pb.FacetResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.points.facet(ctx, request.collection_name, convert.facet_from(request)))
        response = pb.FacetResponse(time=answer.seconds)
        convert.fill_facet(answer.result, response)
        return response

    @grpc_errors
    def SearchMatrixPairs(self, request: pb.SearchMatrixPoints,
                                context: Context) -> pb.SearchMatrixPairsResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.points.search_matrix_pairs(ctx, request.collection_name,
                                                                        convert.matrix_from(request)))
        response = pb.SearchMatrixPairsResponse(time=answer.seconds)
        convert.fill_pairs(answer.result, response.result)
        return response

    @grpc_errors
    def SearchMatrixOffsets(self, request: pb.SearchMatrixPoints,
                                  context: Context) -> pb.SearchMatrixOffsetsResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.points.search_matrix_offsets(ctx, request.collection_name,
                                                                          convert.matrix_from(request)))
        response = pb.SearchMatrixOffsetsResponse(time=answer.seconds)
        convert.fill_offsets(answer.result, response.result)
        return response
