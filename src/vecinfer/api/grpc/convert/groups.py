"""Grouped queries, facets and distance matrices: proto -> domain and back.

The grouped requests share their query part with QueryPoints (same field names), so that part
is copied into a QueryPoints message and converted by the query converter; the legacy
SearchPointGroups and RecommendPointGroups become a nearest or recommend query the same way.
"""

from __future__ import annotations

from typing import Any

from vecinfer.api.grpc.convert.filters import optional_filter
from vecinfer.api.grpc.convert.queries import payload_selector, query_request_from, vector_selector
from vecinfer.api.grpc.convert.values import point_id_to
from vecinfer.api.grpc.output import fill_record, fill_scored
from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.groups import (
    DEFAULT_FACET_LIMIT,
    DEFAULT_GROUP_SIZE,
    DEFAULT_MATRIX_LIMIT,
    DEFAULT_SAMPLE,
    DistanceMatrix,
    FacetHit,
    FacetRequest,
    GroupId,
    GroupsRequest,
    MatrixRequest,
    PointGroup,
    WithLookup,
)
from vecinfer_proto.qdrant import points_pb2 as pb

# QueryPointGroups fields that mean the same in QueryPoints.
_QUERY_FIELDS = ("query", "using", "filter", "params", "score_threshold", "with_payload", "with_vectors",
                 "lookup_from", "limit")


def _copy_fields(source: Any, target: Any, names: tuple[str, ...]) -> None:
    for name in names:
        if not source.HasField(name):
            continue
        value = getattr(source, name)
        if hasattr(value, "CopyFrom"):
            getattr(target, name).CopyFrom(value)
        else:
            setattr(target, name, value)


def with_lookup_from(parent: Any) -> WithLookup | None:
    if not parent.HasField("with_lookup"):
        return None
    msg = parent.with_lookup
    if not msg.collection:
        raise InvalidArgument("with_lookup.collection is empty: name the collection to look group ids up in")
    return WithLookup(msg.collection, payload_selector(msg, "with_payload", default=True), vector_selector(msg))


def _groups_request(msg: Any, query: pb.QueryPoints, group_size: int) -> GroupsRequest:
    return GroupsRequest(query_request_from(query), msg.group_by, group_size, with_lookup_from(msg))


def query_groups_from(msg: pb.QueryPointGroups) -> GroupsRequest:
    query = pb.QueryPoints(collection_name=msg.collection_name)
    query.prefetch.extend(msg.prefetch)
    _copy_fields(msg, query, _QUERY_FIELDS)
    return _groups_request(msg, query, msg.group_size if msg.HasField("group_size") else DEFAULT_GROUP_SIZE)


# Legacy SearchPointGroups / RecommendPointGroups fields with the same meaning in QueryPoints.
_LEGACY_FIELDS = ("filter", "params", "score_threshold", "with_payload", "with_vectors")


def search_groups_from(msg: pb.SearchPointGroups) -> GroupsRequest:
    nearest = pb.VectorInput()
    if msg.HasField("sparse_indices"):
        nearest.sparse.indices.extend(msg.sparse_indices.data)
        nearest.sparse.values.extend(msg.vector)
    else:
        nearest.dense.data.extend(msg.vector)
    query = pb.QueryPoints(collection_name=msg.collection_name, query=pb.Query(nearest=nearest), limit=msg.limit)
    if msg.HasField("vector_name") and msg.vector_name:
        query.using = msg.vector_name
    _copy_fields(msg, query, _LEGACY_FIELDS)
    return _groups_request(msg, query, msg.group_size)


def _vector_input(vector: pb.Vector) -> pb.VectorInput:
    """A legacy Vector as a VectorInput (the query converter then checks it)."""
    out = pb.VectorInput()
    kind = vector.WhichOneof("vector")
    if kind is not None:
        getattr(out, kind).CopyFrom(getattr(vector, kind))
    elif vector.HasField("indices"):  # the encoding of older clients
        out.sparse.indices.extend(vector.indices.data)
        out.sparse.values.extend(vector.data)
    else:
        out.dense.data.extend(vector.data)
    return out


def recommend_groups_from(msg: pb.RecommendPointGroups) -> GroupsRequest:
    recommend = pb.RecommendInput()
    recommend.positive.extend(pb.VectorInput(id=pid) for pid in msg.positive)
    recommend.positive.extend(_vector_input(v) for v in msg.positive_vectors)
    recommend.negative.extend(pb.VectorInput(id=pid) for pid in msg.negative)
    recommend.negative.extend(_vector_input(v) for v in msg.negative_vectors)
    if msg.HasField("strategy"):
        recommend.strategy = msg.strategy
    query = pb.QueryPoints(collection_name=msg.collection_name, query=pb.Query(recommend=recommend), limit=msg.limit)
    if msg.HasField("using") and msg.using:
        query.using = msg.using
    _copy_fields(msg, query, (*_LEGACY_FIELDS, "lookup_from"))
    return _groups_request(msg, query, msg.group_size)


def facet_from(msg: pb.FacetCounts) -> FacetRequest:
    return FacetRequest(
        key=msg.key,
        filter=optional_filter(msg),
        limit=msg.limit if msg.HasField("limit") else DEFAULT_FACET_LIMIT,
        exact=msg.exact if msg.HasField("exact") else False,
    )


def matrix_from(msg: pb.SearchMatrixPoints) -> MatrixRequest:
    return MatrixRequest(
        filter=optional_filter(msg),
        sample=msg.sample if msg.HasField("sample") else DEFAULT_SAMPLE,
        limit=msg.limit if msg.HasField("limit") else DEFAULT_MATRIX_LIMIT,
        using=msg.using if msg.HasField("using") and msg.using else None,
    )


# ------------------------------------------------------------------ output


def fill_group_id(key: GroupId, out: pb.GroupId) -> None:
    if isinstance(key, str):
        out.string_value = key
    elif key >= 0:
        out.unsigned_value = key
    else:
        out.integer_value = key


def fill_groups(groups: list[PointGroup], out: pb.GroupsResult) -> None:
    for group in groups:
        item = out.groups.add()
        fill_group_id(group.id, item.id)
        fill_scored(group.hits, item.hits)
        if group.lookup is not None:
            fill_record(group.lookup, item.lookup)


def fill_facet(hits: list[FacetHit], out: pb.FacetResponse) -> None:
    for hit in hits:
        item = out.hits.add()
        if isinstance(hit.value, bool):
            item.value.bool_value = hit.value
        elif isinstance(hit.value, int):
            item.value.integer_value = hit.value
        else:
            item.value.string_value = hit.value
        item.count = hit.count


def fill_pairs(matrix: DistanceMatrix, out: pb.SearchMatrixPairs) -> None:
    for a, b, score in matrix.pairs():
        pair = out.pairs.add()
        point_id_to(a, pair.a)
        point_id_to(b, pair.b)
        pair.score = score


def fill_offsets(matrix: DistanceMatrix, out: pb.SearchMatrixOffsets) -> None:
    rows, cols, scores = matrix.offsets()
    out.offsets_row.extend(rows)
    out.offsets_col.extend(cols)
    out.scores.extend(scores)
    for point_id in matrix.ids:
        point_id_to(point_id, out.ids.add())
