"""Query requests in JSON -> domain query trees."""

from __future__ import annotations

from vecinfer.api.rest.convert.filters import optional_filter
from vecinfer.api.rest.convert.formula import formula
from vecinfer.api.rest.convert.values import payload_selector, vector_selector
from vecinfer.api.rest.convert.vectors import vector_input
from vecinfer.api.rest.json_input import Fields, JsonFormatError, Node
from vecinfer.domain.errors import Unimplemented
from vecinfer.domain.query import (
    RECOMMEND_STRATEGIES,
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
    Prefetch,
    QueryKind,
    QueryRequest,
    Recommend,
    RelevanceFeedback,
    Sample,
    SearchParams,
)

DEFAULT_LIMIT = 10
_PREFETCH_KEYS = {"prefetch", "query", "using", "filter", "params", "score_threshold", "limit", "lookup_from"}
_REQUEST_KEYS = _PREFETCH_KEYS | {"offset", "with_vector", "with_vectors", "with_payload", "shard_key"}
_QUERY_EXPECTED = ("a query: a vector, a point id, an inference object, or one of {\"nearest\"}, {\"recommend\"}, "
                   "{\"discover\"}, {\"context\"}, {\"order_by\"}, {\"fusion\"}, {\"rrf\"}, {\"formula\"}, "
                   "{\"sample\"}, {\"relevance_feedback\"}")


def _example(node: Node) -> Example:
    vector, point_id = vector_input(node)
    return Example(vector=vector, point_id=point_id)


def _examples(node: Node | None) -> tuple[Example, ...]:
    return () if node is None else tuple(_example(item) for item in node.items())


def _pairs(node: Node | None) -> tuple[ContextPair, ...]:
    if node is None:
        return ()
    out = []
    for pair in node.one_or_many():
        fields = pair.fields({"positive", "negative"}, 'a context pair {"positive", "negative"}')
        out.append(ContextPair(_example(fields.require("positive")), _example(fields.require("negative"))))
    return tuple(out)


def order_by(node: Node) -> OrderBy:
    """`"key"` or `{"key", "direction"?: "asc"|"desc", "start_from"?: number|datetime}`."""
    if node.is_string:
        return OrderBy(node.string())
    fields = node.fields({"key", "direction", "start_from"}, 'a key or an order_by object {"key", ...}')
    direction = fields.get("direction")
    if direction is not None and direction.value not in ("asc", "desc"):
        direction.fail('"asc" or "desc"')
    start = fields.get("start_from")
    start_from: float | str | None = None
    if start is not None:
        start_from = start.string() if start.is_string else start.number()
    return OrderBy(fields.require("key").string(), descending=direction is not None and direction.value == "desc",
                   start_from=start_from)


def _mmr(fields: Fields, nearest: Node) -> NearestMmr:
    params = fields.require("mmr").fields({"diversity", "candidates_limit"})
    diversity = params.get("diversity")
    limit = params.get("candidates_limit")
    return NearestMmr(_example(nearest), diversity=0.5 if diversity is None else diversity.number(),
                      candidates_limit=None if limit is None else limit.integer())


def _feedback(node: Node) -> RelevanceFeedback:
    fields = node.fields({"target", "feedback", "strategy"}, 'relevance feedback {"target", "feedback", "strategy"}')
    items = []
    for item in fields.require("feedback").items():
        f = item.fields({"example", "score"}, 'a feedback item {"example", "score"}')
        items.append(FeedbackItem(_example(f.require("example")), f.require("score").number()))
    naive = fields.require("strategy").fields({"naive"}, 'a strategy {"naive": {"a", "b", "c"}}').require("naive")
    params = naive.fields({"a", "b", "c"})
    return RelevanceFeedback(_example(fields.require("target")), tuple(items), a=params.require("a").number(),
                             b=params.require("b").number(), c=params.require("c").number())


def query(node: Node) -> QueryKind:
    if node.is_object and len(node.value) >= 1:
        keys = set(node.value)
        if "nearest" in keys:
            fields = node.fields({"nearest", "mmr"})
            nearest = fields.require("nearest")
            if fields.has("mmr"):
                return _mmr(fields, nearest)
            vector, point_id = vector_input(nearest)
            return Nearest(vector=vector, point_id=point_id)
        if keys == {"fusion"}:
            method = node.fields({"fusion"}).require("fusion")
            if method.value not in ("rrf", "dbsf"):
                method.fail("\"rrf\" or \"dbsf\"")
            return Fusion(method.value)
        if keys == {"rrf"}:
            rrf = node.fields({"rrf"}).require("rrf").fields({"k", "weights"})
            k_node = rrf.get("k")
            k = 2 if k_node is None else k_node.integer()
            if k < 1 and k_node is not None:
                k_node.invalid("must be at least 1")
            weights_node = rrf.get("weights")
            weights = () if weights_node is None else tuple(float(w) for w in weights_node.numbers())
            return Fusion("rrf", k=k, weights=weights)
        if keys == {"recommend"}:
            r = node.fields({"recommend"}).require("recommend").fields({"positive", "negative", "strategy"})
            strategy = r.get("strategy")
            if strategy is not None and strategy.value not in RECOMMEND_STRATEGIES:
                strategy.fail(" or ".join(f'"{s}"' for s in RECOMMEND_STRATEGIES))
            return Recommend(_examples(r.get("positive")), _examples(r.get("negative")),
                             "average_vector" if strategy is None else strategy.value)
        if keys == {"discover"}:
            d = node.fields({"discover"}).require("discover").fields({"target", "context"})
            return Discover(_example(d.require("target")), _pairs(d.get("context")))
        if keys == {"context"}:
            return Context(_pairs(node.fields({"context"}).get("context")))
        if keys == {"order_by"}:
            return order_by(node.fields({"order_by"}).require("order_by"))
        if keys == {"sample"}:
            sample = node.fields({"sample"}).require("sample")
            if sample.value != "random":
                sample.fail('"random"')
            return Sample()
        if "formula" in keys:
            return formula(node)
        if keys == {"relevance_feedback"}:
            return _feedback(node.fields({"relevance_feedback"}).require("relevance_feedback"))
        if keys == {"text"}:
            raise Unimplemented("the `text` query (BM25 over a full-text index)")
    try:
        vector, point_id = vector_input(node)
    except JsonFormatError as exc:
        raise JsonFormatError(node.path, f"{exc.problem}; expected {_QUERY_EXPECTED}") from None
    return Nearest(vector=vector, point_id=point_id)


def search_params(node: Node | None) -> SearchParams:
    if node is None:
        return SearchParams()
    fields = node.fields({"hnsw_ef", "exact", "indexed_only", "quantization", "acorn", "idf"})
    ef = fields.get("hnsw_ef")
    exact = fields.get("exact")
    indexed_only = fields.get("indexed_only")
    if indexed_only is not None and indexed_only.boolean():
        raise Unimplemented("`params.indexed_only`")
    acorn = fields.get("acorn")
    if acorn is not None:
        enable = acorn.fields({"enable", "max_selectivity"}).get("enable")
        if enable is not None and enable.boolean():
            raise Unimplemented("ACORN filtered search (`params.acorn`)")
    quantization = fields.get("quantization")
    oversampling = None
    if quantization is not None:
        # Searches are full precision, so these change no answer; checked for shape and bounds.
        q = quantization.fields({"ignore", "rescore", "oversampling"})
        for flag in ("ignore", "rescore"):
            if (node_flag := q.get(flag)) is not None:
                node_flag.boolean()
        if (node_oversampling := q.get("oversampling")) is not None:
            oversampling = node_oversampling.number()
            if oversampling < 1:
                node_oversampling.invalid("must be at least 1")
    idf = fields.get("idf")
    corpus = None
    if idf is not None:
        corpus = optional_filter(idf.fields({"corpus"}).get("corpus"))
    return SearchParams(
        exact=False if exact is None else exact.boolean(),
        hnsw_ef=None if ef is None else ef.integer(),
        idf_corpus=corpus,
        oversampling=oversampling,
    )


def _limit(fields: Fields) -> int:
    node = fields.get("limit")
    return DEFAULT_LIMIT if node is None else node.integer()


def lookup_from(node: Node | None) -> LookupFrom | None:
    if node is None:
        return None
    fields = node.fields({"collection", "vector", "shard_key"}, 'a lookup location {"collection", "vector"?}')
    if fields.has("shard_key"):
        raise Unimplemented("`lookup_from.shard_key` (custom sharding)")
    vector = fields.get("vector")
    return LookupFrom(fields.require("collection").string(), None if vector is None else vector.string())


def _node(fields: Fields) -> Prefetch:
    prefetch = fields.get("prefetch")
    using = fields.get("using")
    threshold = fields.get("score_threshold")
    query_node = fields.get("query")
    return Prefetch(
        prefetch=[] if prefetch is None else [_node(p.fields(_PREFETCH_KEYS, "a prefetch object"))
                                              for p in prefetch.one_or_many()],
        query=None if query_node is None else query(query_node),
        using=None if using is None or not using.string() else using.string(),
        filter=optional_filter(fields.get("filter")),
        params=search_params(fields.get("params")),
        score_threshold=None if threshold is None else threshold.float32(),
        limit=_limit(fields),
        lookup_from=lookup_from(fields.get("lookup_from")),
    )


def query_request(node: Node) -> QueryRequest:
    fields = node.fields(_REQUEST_KEYS, "a query request object")
    if fields.has("shard_key"):
        raise Unimplemented("`shard_key` (custom sharding)")
    offset = fields.get("offset")
    return QueryRequest(
        root=_node(fields),
        offset=0 if offset is None else offset.integer(),
        with_payload=payload_selector(fields.get("with_payload"), default=False),
        with_vectors=vector_selector(fields.get("with_vector", "with_vectors")),
    )


def query_batch(node: Node) -> list[QueryRequest]:
    fields = node.fields({"searches"})
    return [query_request(item) for item in fields.require("searches").items()]
