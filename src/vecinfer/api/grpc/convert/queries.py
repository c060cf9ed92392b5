"""Query, prefetch, selectors and search params -> domain."""

from __future__ import annotations

from typing import Any

from google.protobuf.unknown_fields import UnknownFieldSet

from vecinfer.api.grpc.convert.filters import optional_filter
from vecinfer.api.grpc.convert.formula import formula_from
from vecinfer.api.grpc.convert.vectors import vector_input_from
from vecinfer.domain.errors import InvalidArgument, Unimplemented
from vecinfer.domain.query import (
    Context,
    ContextPair,
    Discover,
    Example,
    FeedbackItem,
    Fusion,
    LookupFrom,
    Nearest,
    NearestMmr,
    OrderBy,
    PayloadSelector,
    Prefetch,
    QueryKind,
    QueryRequest,
    Recommend,
    RelevanceFeedback,
    Sample,
    SearchParams,
    VectorSelector,
)
from vecinfer_proto.qdrant import points_pb2 as pb

DEFAULT_LIMIT = 10


def payload_selector(parent: Any, field: str, default: bool) -> PayloadSelector:
    if not parent.HasField(field):
        return PayloadSelector(enable=default)
    msg = getattr(parent, field)
    kind = msg.WhichOneof("selector_options")
    if kind == "include":
        return PayloadSelector(include=tuple(msg.include.fields))
    if kind == "exclude":
        return PayloadSelector(enable=True, exclude=tuple(msg.exclude.fields))
    if kind == "enable":
        return PayloadSelector(enable=msg.enable)
    return PayloadSelector(enable=default)


def vector_selector(parent: Any, field: str = "with_vectors") -> VectorSelector:
    if not parent.HasField(field):
        return VectorSelector()
    msg = getattr(parent, field)
    kind = msg.WhichOneof("selector_options")
    if kind == "include":
        return VectorSelector(names=tuple(msg.include.names))
    return VectorSelector(enable=kind == "enable" and msg.enable)


def _example(msg: pb.VectorInput) -> Example:
    vector, point_id = vector_input_from(msg)
    return Example(vector=vector, point_id=point_id)


def _pairs(msg: pb.ContextInput) -> tuple[ContextPair, ...]:
    return tuple(ContextPair(_example(p.positive), _example(p.negative)) for p in msg.pairs)


_STRATEGIES = {pb.AverageVector: "average_vector", pb.BestScore: "best_score", pb.SumScores: "sum_scores"}


def _start_from(msg: pb.StartFrom) -> float | str | None:
    kind = msg.WhichOneof("value")
    if kind == "float":
        return msg.float
    if kind == "integer":
        return float(msg.integer)
    if kind == "datetime":
        return msg.datetime
    if kind == "timestamp":
        return msg.timestamp.ToDatetime().isoformat() + "Z"
    return None


def order_by_from(msg: pb.OrderBy) -> OrderBy:
    if not msg.key:
        raise InvalidArgument("order_by.key is empty: name the payload key to order by")
    return OrderBy(key=msg.key, descending=msg.HasField("direction") and msg.direction == pb.Desc,
                   start_from=_start_from(msg.start_from) if msg.HasField("start_from") else None)


def _query(msg: pb.Query) -> QueryKind:
    kind = msg.WhichOneof("variant")
    if kind == "nearest":
        vector, point_id = vector_input_from(msg.nearest)
        return Nearest(vector=vector, point_id=point_id)
    if kind == "fusion":
        return Fusion("dbsf" if msg.fusion == pb.DBSF else "rrf")
    if kind == "rrf":
        k = msg.rrf.k if msg.rrf.HasField("k") else 2
        if k < 1:
            raise InvalidArgument("Rrf.k must be at least 1")
        return Fusion("rrf", k=k, weights=tuple(msg.rrf.weights))
    if kind == "recommend":
        r = msg.recommend
        strategy = _STRATEGIES.get(r.strategy) if r.HasField("strategy") else "average_vector"
        if strategy is None:
            raise InvalidArgument(f"recommend.strategy {r.strategy} is not a RecommendStrategy")
        return Recommend(tuple(_example(v) for v in r.positive), tuple(_example(v) for v in r.negative), strategy)
    if kind == "discover":
        return Discover(_example(msg.discover.target), _pairs(msg.discover.context))
    if kind == "context":
        return Context(_pairs(msg.context))
    if kind == "order_by":
        return order_by_from(msg.order_by)
    if kind == "sample":
        return Sample()
    if kind == "formula":
        return formula_from(msg.formula)
    if kind == "nearest_with_mmr":
        m = msg.nearest_with_mmr.mmr
        return NearestMmr(_example(msg.nearest_with_mmr.nearest),
                          diversity=m.diversity if m.HasField("diversity") else 0.5,
                          candidates_limit=m.candidates_limit if m.HasField("candidates_limit") else None)
    if kind == "relevance_feedback":
        fb = msg.relevance_feedback
        if fb.strategy.WhichOneof("variant") != "naive":
            raise InvalidArgument("relevance_feedback.strategy is missing: set naive {a, b, c}")
        naive = fb.strategy.naive
        return RelevanceFeedback(_example(fb.target),
                                 tuple(FeedbackItem(_example(i.example), i.score) for i in fb.feedback),
                                 a=naive.a, b=naive.b, c=naive.c)
    if kind == "text":
        raise Unimplemented("the `text` query (BM25 over a full-text index)")
    unknown = [field.field_number for field in UnknownFieldSet(msg)]
    if kind is None and not unknown:
        raise InvalidArgument("Query variant is missing: set nearest, fusion, rrf, recommend, ...")
    raise Unimplemented(f"the query variant with field number {unknown[0]}")


def search_params(msg: Any) -> SearchParams:
    if not msg.HasField("params"):
        return SearchParams()
    p = msg.params
    return SearchParams(
        exact=p.exact if p.HasField("exact") else False,
        hnsw_ef=p.hnsw_ef if p.HasField("hnsw_ef") else None,
        idf_corpus=optional_filter(p.idf, "corpus") if p.HasField("idf") else None,
        oversampling=(p.quantization.oversampling
                      if p.HasField("quantization") and p.quantization.HasField("oversampling") else None),
    )


def lookup_from(msg: Any) -> LookupFrom | None:
    if not msg.HasField("lookup_from"):
        return None
    location = msg.lookup_from
    if location.HasField("shard_key_selector"):
        raise Unimplemented("`lookup_from.shard_key` (custom sharding)")
    if not location.collection_name:
        raise InvalidArgument("lookup_from.collection_name is empty: name the collection to take vectors from")
    return LookupFrom(location.collection_name, location.vector_name if location.HasField("vector_name") else None)


def _node(msg: Any, limit_default: int) -> Prefetch:
    return Prefetch(
        prefetch=[_node(child, DEFAULT_LIMIT) for child in msg.prefetch],
        query=_query(msg.query) if msg.HasField("query") else None,
        using=msg.using if msg.HasField("using") and msg.using else None,
        filter=optional_filter(msg),
        params=search_params(msg),
        score_threshold=msg.score_threshold if msg.HasField("score_threshold") else None,
        limit=msg.limit if msg.HasField("limit") else limit_default,
        lookup_from=lookup_from(msg),
    )


def query_request_from(msg: pb.QueryPoints) -> QueryRequest:
    return QueryRequest(
        root=_node(msg, DEFAULT_LIMIT),
        offset=msg.offset if msg.HasField("offset") else 0,
        with_payload=payload_selector(msg, "with_payload", default=False),
        with_vectors=vector_selector(msg),
    )
