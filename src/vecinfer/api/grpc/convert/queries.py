"""Query, prefetch, selectors and search params -> domain."""

from __future__ import annotations

from typing import Any

from google.protobuf.unknown_fields import UnknownFieldSet

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
# Query.variant field numbers of Qdrant's API that our proto leaves out.
_QUERY_VARIANTS = {2: "recommend", 3: "discover", 4: "context", 5: "order_by", 7: "sample", 8: "formula",
                   9: "nearest_with_mmr", 11: "relevance_feedback", 12: "text"}


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
    unknown = [field.field_number for field in UnknownFieldSet(msg)]
    if kind is None and not unknown:
        raise InvalidArgument("Query variant is missing: set nearest, fusion, rrf, ...")
    # Our proto carries only the variants we run; the others arrive as unknown fields.
    name = kind or _QUERY_VARIANTS.get(unknown[0], f"field {unknown[0]}")
    raise Unimplemented(f"the `{name}` query")


def _params(msg: Any) -> SearchParams:
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
