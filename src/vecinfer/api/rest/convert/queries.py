"""Query requests in JSON -> domain query trees."""

from __future__ import annotations

from vecinfer.api.rest.convert.filters import optional_filter
from vecinfer.api.rest.convert.values import payload_selector, vector_selector
from vecinfer.api.rest.convert.vectors import vector_input
from vecinfer.api.rest.json_input import Fields, JsonFormatError, Node
from vecinfer.domain.errors import Unimplemented
from vecinfer.domain.query import Fusion, Nearest, Prefetch, QueryKind, QueryRequest, SearchParams

DEFAULT_LIMIT = 10
_PREFETCH_KEYS = {"prefetch", "query", "using", "filter", "params", "score_threshold", "limit", "lookup_from"}
_REQUEST_KEYS = _PREFETCH_KEYS | {"offset", "with_vector", "with_vectors", "with_payload", "shard_key"}
# Query objects of Qdrant's API that vecinfer does not run yet, by their key.
_NOT_YET = {
    "recommend": "the `recommend` query", "discover": "the `discover` query", "context": "the `context` query",
    "order_by": "the `order_by` query", "formula": "the `formula` query (score boosting)",
    "sample": "the `sample` query", "relevance_feedback": "the `relevance_feedback` query",
    "text": "the `text` query",
}
_QUERY_EXPECTED = ("a query: a vector, a point id, an inference object, or one of {\"nearest\"}, {\"fusion\"}, "
                   "{\"rrf\"}, ...")


def query(node: Node) -> QueryKind:
    if node.is_object and len(node.value) >= 1:
        keys = set(node.value)
        if "nearest" in keys:
            fields = node.fields({"nearest", "mmr"})
            if fields.has("mmr"):
                raise Unimplemented("MMR re-ranking (`nearest.mmr`)")
            vector, point_id = vector_input(fields.require("nearest"))
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
        for key, feature in _NOT_YET.items():
            if keys == {key}:
                raise Unimplemented(feature)
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


def _node(fields: Fields) -> Prefetch:
    if fields.has("lookup_from"):
        raise Unimplemented("`lookup_from` (vectors from another collection)")
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
        score_threshold=None if threshold is None else threshold.number(),
        limit=_limit(fields),
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
