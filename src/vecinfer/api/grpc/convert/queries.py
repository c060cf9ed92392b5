"""Query, prefetch, selectors and search params -> domain."""

from __future__ import annotations

from typing import Any

from vecinfer.api.grpc.convert.filters import optional_filter
from vecinfer.api.grpc.convert.vectors import vector_input_from
from vecinfer.domain.errors import InvalidArgument, Unimplemented
from vecinfer.domain.query import (
    Fusion,
    Nearest,
    PayloadSelector,
    Prefetch,
    QueryKind,
    QueryRequest,
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
    if kind is None:
        raise InvalidArgument("Query variant is missing: set nearest, fusion, rrf, ...")
    raise Unimplemented(f"the `{kind}` query")


def _params(msg: Any) -> SearchParams:
    if not msg.HasField("params"):
        return SearchParams()
    p = msg.params
    return SearchParams(
        exact=p.exact if p.HasField("exact") else False,
        hnsw_ef=p.hnsw_ef if p.HasField("hnsw_ef") else None,
        idf_corpus=optional_filter(p.idf, "corpus") if p.HasField("idf") else None,
    )


def _node(msg: Any, limit_default: int) -> Prefetch:
    if msg.HasField("lookup_from"):
        raise Unimplemented("`lookup_from` (vectors from another collection)")
    return Prefetch(
        prefetch=[_node(child, DEFAULT_LIMIT) for child in msg.prefetch],
        query=_query(msg.query) if msg.HasField("query") else None,
        using=msg.using if msg.HasField("using") and msg.using else None,
        filter=optional_filter(msg),
        params=_params(msg),
        score_threshold=msg.score_threshold if msg.HasField("score_threshold") else None,
        limit=msg.limit if msg.HasField("limit") else limit_default,
    )


def query_request_from(msg: pb.QueryPoints) -> QueryRequest:
    return QueryRequest(
        root=_node(msg, DEFAULT_LIMIT),
        offset=msg.offset if msg.HasField("offset") else 0,
        with_payload=payload_selector(msg, "with_payload", default=False),
        with_vectors=vector_selector(msg),
    )
