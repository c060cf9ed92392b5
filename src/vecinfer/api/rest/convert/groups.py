"""Grouped queries, facets and distance matrices in JSON, both directions."""

from __future__ import annotations

from typing import Any

from vecinfer.api.rest.convert import queries
from vecinfer.api.rest.convert.filters import optional_filter
from vecinfer.api.rest.convert.values import payload_selector, vector_selector
from vecinfer.api.rest.convert.vectors import vector, vector_input
from vecinfer.api.rest.json_input import Fields, Node
from vecinfer.api.rest.responses import record, scored
from vecinfer.domain.errors import Unimplemented
from vecinfer.domain.groups import (
    DEFAULT_FACET_LIMIT,
    DEFAULT_GROUP_SIZE,
    DEFAULT_MATRIX_LIMIT,
    DEFAULT_SAMPLE,
    DistanceMatrix,
    FacetHit,
    FacetRequest,
    GroupsRequest,
    MatrixRequest,
    PointGroup,
    WithLookup,
)
from vecinfer.domain.points import VectorValue
from vecinfer.domain.query import (
    RECOMMEND_STRATEGIES,
    Example,
    LookupFrom,
    Nearest,
    Prefetch,
    QueryRequest,
    Recommend,
)

_GROUP_KEYS = {"group_by", "group_size", "with_lookup"}
_QUERY_KEYS = {"prefetch", "query", "using", "filter", "params", "score_threshold", "limit", "lookup_from",
               "with_vector", "with_vectors", "with_payload", "shard_key"}
_LEGACY_KEYS = {"filter", "params", "score_threshold", "limit", "with_vector", "with_vectors", "with_payload",
                "shard_key"} | _GROUP_KEYS


def _no_shard_key(fields: Fields) -> None:
    if fields.has("shard_key"):
        raise Unimplemented("`shard_key` (custom sharding)")


def _integer(fields: Fields, name: str, default: int) -> int:
    node = fields.get(name)
    return default if node is None else node.integer()


def with_lookup(node: Node | None) -> WithLookup | None:
    """`"collection"` or `{"collection", "with_payload"? = true, "with_vectors"? = false}`."""
    if node is None:
        return None
    if node.is_string:
        return WithLookup(node.string())
    fields = node.fields({"collection", "with_payload", "with_vectors", "with_vector"},
                         'a collection name or {"collection", "with_payload", "with_vectors"}')
    return WithLookup(fields.require("collection").string(),
                      payload_selector(fields.get("with_payload"), default=True),
                      vector_selector(fields.get("with_vectors", "with_vector")))


def _groups(fields: Fields, query: QueryRequest) -> GroupsRequest:
    return GroupsRequest(query, fields.require("group_by").string(),
                         _integer(fields, "group_size", DEFAULT_GROUP_SIZE), with_lookup(fields.get("with_lookup")))


def query_groups(node: Node) -> GroupsRequest:
    """QueryGroupsRequest: a query request without `offset`, plus `group_by`, `group_size`,
    `with_lookup`; its `limit` counts groups."""
    fields = node.fields(_QUERY_KEYS | _GROUP_KEYS, "a query groups request object")
    inner = {key: value for key, value in node.value.items() if key not in _GROUP_KEYS}
    return _groups(fields, queries.query_request(Node(inner, node.path)))


def _legacy_root(fields: Fields, query: Any, using: str | None) -> QueryRequest:
    _no_shard_key(fields)
    threshold = fields.get("score_threshold")
    root = Prefetch(query=query, using=using or None, filter=optional_filter(fields.get("filter")),
                    params=queries.search_params(fields.get("params")),
                    score_threshold=None if threshold is None else threshold.float32(),
                    limit=fields.require("limit").integer())
    return QueryRequest(root, with_payload=payload_selector(fields.get("with_payload"), default=False),
                        with_vectors=vector_selector(fields.get("with_vector", "with_vectors")))


def _named_vector(node: Node) -> tuple[str | None, VectorValue]:
    """NamedVectorStruct: a dense vector, or `{"name", "vector"}` with a dense or sparse vector."""
    if node.is_list:
        return None, vector(node)
    fields = node.fields({"name", "vector"}, 'a vector or {"name": ..., "vector": ...}')
    return fields.require("name").string() or None, vector(fields.require("vector"))


def search_groups(node: Node) -> GroupsRequest:
    """The legacy SearchGroupsRequest: `vector`, `group_by`, `group_size` and `limit` required."""
    fields = node.fields(_LEGACY_KEYS | {"vector"}, "a search groups request object")
    using, value = _named_vector(fields.require("vector"))
    fields.require("group_size")
    return _groups(fields, _legacy_root(fields, Nearest(vector=value), using))


def _examples(node: Node | None) -> tuple[Example, ...]:
    if node is None:
        return ()
    examples = []
    for item in node.items():
        value, point_id = vector_input(item)
        examples.append(Example(vector=value, point_id=point_id))
    return tuple(examples)


def lookup_location(node: Node | None) -> LookupFrom | None:
    if node is None:
        return None
    fields = node.fields({"collection", "vector", "shard_key"}, 'a lookup location {"collection", "vector"?}')
    _no_shard_key(fields)
    name = fields.get("vector")
    return LookupFrom(fields.require("collection").string(), None if name is None else name.string())


def recommend_groups(node: Node) -> GroupsRequest:
    """The legacy RecommendGroupsRequest: examples (ids or vectors), `strategy`, `using`,
    `lookup_from`, and `group_by`, `group_size`, `limit` required."""
    fields = node.fields(_LEGACY_KEYS | {"positive", "negative", "strategy", "using", "lookup_from"},
                         "a recommend groups request object")
    strategy = fields.get("strategy")
    if strategy is not None and strategy.value not in RECOMMEND_STRATEGIES:
        strategy.fail(" or ".join(f'"{s}"' for s in RECOMMEND_STRATEGIES))
    query = Recommend(_examples(fields.get("positive")), _examples(fields.get("negative")),
                      "average_vector" if strategy is None else strategy.value)
    using = fields.get("using")
    fields.require("group_size")
    request = _groups(fields, _legacy_root(fields, query, None if using is None else using.string()))
    request.query.root.lookup_from = lookup_location(fields.get("lookup_from"))
    return request


def facet(node: Node) -> FacetRequest:
    fields = node.fields({"key", "limit", "filter", "exact", "shard_key"}, "a facet request object")
    _no_shard_key(fields)
    exact = fields.get("exact")
    return FacetRequest(fields.require("key").string(), optional_filter(fields.get("filter")),
                        _integer(fields, "limit", DEFAULT_FACET_LIMIT), False if exact is None else exact.boolean())


def matrix(node: Node) -> MatrixRequest:
    fields = node.fields({"filter", "sample", "limit", "using", "shard_key"},
                                       "a search matrix request object")
    _no_shard_key(fields)
    using = fields.get("using")
    return MatrixRequest(optional_filter(fields.get("filter")), _integer(fields, "sample", DEFAULT_SAMPLE),
                         _integer(fields, "limit", DEFAULT_MATRIX_LIMIT),
                         None if using is None else using.string() or None)


# ------------------------------------------------------------------ output


def groups_out(groups: list[PointGroup]) -> dict[str, Any]:
    out = []
    for group in groups:
        item: dict[str, Any] = {"id": group.id, "hits": [scored(hit) for hit in group.hits]}
        if group.lookup is not None:
            item["lookup"] = record(group.lookup)
        out.append(item)
    return {"groups": out}


def facet_out(hits: list[FacetHit]) -> dict[str, Any]:
    return {"hits": [{"value": hit.value, "count": hit.count} for hit in hits]}


def pairs_out(matrix_: DistanceMatrix) -> dict[str, Any]:
    return {"pairs": [{"a": a, "b": b, "score": score} for a, b, score in matrix_.pairs()]}


def offsets_out(matrix_: DistanceMatrix) -> dict[str, Any]:
    rows, cols, scores = matrix_.offsets()
    return {"offsets_row": rows, "offsets_col": cols, "scores": scores, "ids": matrix_.ids}
