"""qdrant.Points' legacy family (Search, SearchBatch, Recommend, RecommendBatch, Discover,
DiscoverBatch) as thin mappings onto the Query machinery (a mixin of PointsServicer)."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
import numpy as np

from vecinfer.api.grpc import worker
from vecinfer.api.grpc.convert.filters import optional_filter
from vecinfer.api.grpc.convert.queries import lookup_from, payload_selector, search_params, vector_selector
from vecinfer.api.grpc.convert.values import point_id_from
from vecinfer.api.grpc.convert.vectors import vector_from
from vecinfer.api.grpc.errors import grpc_errors
from vecinfer.api.grpc.output import fill_scored, fill_usage
from vecinfer.api.grpc.worker import ServiceLoop
from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.points import SparseVector
from vecinfer.domain.query import (
    ContextPair,
    Discover,
    Example,
    Nearest,
    Prefetch,
    QueryKind,
    QueryRequest,
    Recommend,
    ScoredPoint,
)
from vecinfer.domain.results import Answer
from vecinfer.service.points import PointOperations
from vecinfer_proto.qdrant import points_pb2 as pb

Context: TypeAlias = grpc.ServicerContext
_STRATEGIES = {pb.AverageVector: "average_vector", pb.BestScore: "best_score", pb.SumScores: "sum_scores"}


def _request(msg: Any, query: QueryKind, using: str | None) -> QueryRequest:
    """The fields every legacy request shares, as a one-level query."""
    if msg.limit < 1:
        raise InvalidArgument("limit must be at least 1")
    return QueryRequest(
        root=Prefetch(query=query, using=using or None, filter=optional_filter(msg),
                      params=search_params(msg), limit=msg.limit,
                      score_threshold=(msg.score_threshold if "score_threshold" in msg.DESCRIPTOR.fields_by_name
                                       and msg.HasField("score_threshold") else None),
                      lookup_from=lookup_from(msg) if "lookup_from" in msg.DESCRIPTOR.fields_by_name else None),
        offset=msg.offset if msg.HasField("offset") else 0,
        with_payload=payload_selector(msg, "with_payload", default=False),
        with_vectors=vector_selector(msg),
    )


def search_request(msg: pb.SearchPoints) -> QueryRequest:
    vector: Any
    if msg.HasField("sparse_indices"):
        if len(msg.sparse_indices.data) != len(msg.vector):
            raise InvalidArgument("sparse_indices and vector must have the same length")
        vector = SparseVector(np.array(msg.sparse_indices.data, dtype=np.uint32), np.array(msg.vector, np.float32))
    else:
        vector = np.array(msg.vector, dtype=np.float32)
    name = msg.vector_name if msg.HasField("vector_name") else None
    return _request(msg, Nearest(vector=vector), name)


def recommend_request(msg: pb.RecommendPoints) -> QueryRequest:
    strategy = _STRATEGIES.get(msg.strategy) if msg.HasField("strategy") else "average_vector"
    if strategy is None:
        raise InvalidArgument(f"strategy {msg.strategy} is not a RecommendStrategy")
    positive = [Example(point_id=point_id_from(p, "positive")) for p in msg.positive]
    positive += [Example(vector=vector_from(v)) for v in msg.positive_vectors]
    negative = [Example(point_id=point_id_from(p, "negative")) for p in msg.negative]
    negative += [Example(vector=vector_from(v)) for v in msg.negative_vectors]
    using = msg.using if msg.HasField("using") else None
    return _request(msg, Recommend(tuple(positive), tuple(negative), strategy), using)


def _example(msg: pb.VectorExample, field: str) -> Example:
    kind = msg.WhichOneof("example")
    if kind == "id":
        return Example(point_id=point_id_from(msg.id, field))
    if kind == "vector":
        return Example(vector=vector_from(msg.vector))
    raise InvalidArgument(f"{field} is empty: set an id or a vector")


def discover_request(msg: pb.DiscoverPoints) -> QueryRequest:
    pairs = tuple(ContextPair(_example(p.positive, f"context[{i}].positive"), _example(p.negative, f"context[{i}].negative"))
                  for i, p in enumerate(msg.context))
    if not msg.HasField("target") or msg.target.WhichOneof("target") is None:
        raise InvalidArgument("target is missing: set target.single to an id or a vector")
    using = msg.using if msg.HasField("using") else None
    return _request(msg, Discover(_example(msg.target.single, "target"), pairs), using)


def _batch_requests(collection: str, items: Any, field: str, convert: Any) -> list[QueryRequest]:
    requests = []
    for i, item in enumerate(items):
        if item.collection_name and item.collection_name != collection:
            raise InvalidArgument(f"{field}[{i}].collection_name is `{item.collection_name}`, but the batch is for "
                                  f"`{collection}`")
        requests.append(convert(item))
    return requests


def _batch_response(answer: Answer[list[list[ScoredPoint]]], response: Any) -> Any:
    for scored in answer.result:
        fill_scored(scored, response.result.add().result)
    fill_usage(answer.usage, response)
    return response


class LegacyMethods:
    points: PointOperations
    loop: ServiceLoop

    def _one(self, request: Any, context: Context, query: QueryRequest, response: Any) -> Any:
        answer = worker.query(self.points, self.loop, context, request, query)
        fill_scored(answer.result, response.result)
        fill_usage(answer.usage, response)
        response.time = answer.seconds
        return response

    def _batch(self, request: Any, context: Context, queries: list[QueryRequest], response: Any) -> Any:
        answer = worker.query_batch(self.points, self.loop, context, request, queries)
        response.time = answer.seconds
        return _batch_response(answer, response)

    @grpc_errors
    def Search(self, request: pb.SearchPoints, context: Context) -> pb.SearchResponse:
        return self._one(request, context, search_request(request), pb.SearchResponse())

    @grpc_errors
    def SearchBatch(self, request: pb.SearchBatchPoints, context: Context) -> pb.SearchBatchResponse:
        queries = _batch_requests(request.collection_name, request.search_points, "search_points", search_request)
        return self._batch(request, context, queries, pb.SearchBatchResponse())

    @grpc_errors
    def Recommend(self, request: pb.RecommendPoints, context: Context) -> pb.RecommendResponse:
        return self._one(request, context, recommend_request(request), pb.RecommendResponse())

    @grpc_errors
    def RecommendBatch(self, request: pb.RecommendBatchPoints, context: Context) -> pb.RecommendBatchResponse:
        queries = _batch_requests(request.collection_name, request.recommend_points, "recommend_points",
                                  recommend_request)
        return self._batch(request, context, queries, pb.RecommendBatchResponse())

    @grpc_errors
    def Discover(self, request: pb.DiscoverPoints, context: Context) -> pb.DiscoverResponse:
        return self._one(request, context, discover_request(request), pb.DiscoverResponse())

    @grpc_errors
    def DiscoverBatch(self, request: pb.DiscoverBatchPoints, context: Context) -> pb.DiscoverBatchResponse:
        queries = _batch_requests(request.collection_name, request.discover_points, "discover_points",
                                  discover_request)
        return self._batch(request, context, queries, pb.DiscoverBatchResponse())
