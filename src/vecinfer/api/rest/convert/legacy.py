"""The legacy search / recommend / discover bodies in JSON -> one-level query requests."""

from __future__ import annotations

from collections.abc import Callable

from vecinfer.api.rest.convert.filters import optional_filter
from vecinfer.api.rest.convert.queries import lookup_from, search_params
from vecinfer.api.rest.convert.values import payload_selector, vector_selector
from vecinfer.api.rest.convert.vectors import sparse, vector, vector_input
from vecinfer.api.rest.json_input import Fields, Node
from vecinfer.domain.errors import Unimplemented
from vecinfer.domain.query import (
    RECOMMEND_STRATEGIES,
    ContextPair,
    Discover,
    Example,
    Nearest,
    Prefetch,
    QueryKind,
    QueryRequest,
    Recommend,
)

_COMMON = {"filter", "params", "limit", "top", "offset", "with_payload", "with_vector", "with_vectors",
           "score_threshold", "shard_key"}


def _request(fields: Fields, query: QueryKind, using: str | None, lookup: Node | None = None) -> QueryRequest:
    if fields.has("shard_key"):
        raise Unimplemented("`shard_key` (custom sharding)")
    limit_node = fields.require("limit", "top")
    limit = limit_node.integer()
    if limit < 1:
        limit_node.invalid("must be at least 1")
    threshold = fields.get("score_threshold")
    offset = fields.get("offset")
    return QueryRequest(
        root=Prefetch(query=query, using=using or None, filter=optional_filter(fields.get("filter")),
                      params=search_params(fields.get("params")), limit=limit,
                      score_threshold=None if threshold is None else threshold.float32(),
                      lookup_from=lookup_from(lookup)),
        offset=0 if offset is None else offset.integer(),
        with_payload=payload_selector(fields.get("with_payload"), default=False),
        with_vectors=vector_selector(fields.get("with_vector", "with_vectors")),
    )


def search(node: Node) -> QueryRequest:
    fields = node.fields(_COMMON | {"vector"}, "a search request object")
    target = fields.require("vector")
    if target.is_object:
        named = target.fields({"name", "vector"}, 'a named vector {"name", "vector"}')
        inner = named.require("vector")
        value = sparse(inner) if inner.is_object else vector(inner)
        return _request(fields, Nearest(vector=value), named.require("name").string())
    return _request(fields, Nearest(vector=vector(target)), None)


def _example(node: Node) -> Example:
    value, point_id = vector_input(node)
    return Example(vector=value, point_id=point_id)


def recommend(node: Node) -> QueryRequest:
    fields = node.fields(_COMMON | {"positive", "negative", "strategy", "using", "lookup_from"},
                         "a recommend request object")
    strategy = fields.get("strategy")
    if strategy is not None and strategy.value not in RECOMMEND_STRATEGIES:
        strategy.fail(" or ".join(f'"{s}"' for s in RECOMMEND_STRATEGIES))
    positive = fields.get("positive")
    negative = fields.get("negative")
    query = Recommend(tuple(_example(n) for n in positive.items()) if positive is not None else (),
                      tuple(_example(n) for n in negative.items()) if negative is not None else (),
                      "average_vector" if strategy is None else strategy.value)
    using = fields.get("using")
    return _request(fields, query, None if using is None else using.string(), fields.get("lookup_from"))


def discover(node: Node) -> QueryRequest:
    fields = node.fields(_COMMON | {"target", "context", "using", "lookup_from"}, "a discover request object")
    pairs = []
    context = fields.get("context")
    for pair in (context.items() if context is not None else []):
        p = pair.fields({"positive", "negative"}, 'a context pair {"positive", "negative"}')
        pairs.append(ContextPair(_example(p.require("positive")), _example(p.require("negative"))))
    using = fields.get("using")
    return _request(fields, Discover(_example(fields.require("target")), tuple(pairs)),
                    None if using is None else using.string(), fields.get("lookup_from"))


def batch(node: Node, convert: Callable[[Node], QueryRequest]) -> list[QueryRequest]:
    return [convert(item) for item in node.fields({"searches"}).require("searches").items()]
