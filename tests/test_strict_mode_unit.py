"""Strict mode's checker on domain objects: every limit, Qdrant's messages word for word, the
order of the checks, the index types that satisfy unindexed filtering, the rate limiter."""

from __future__ import annotations

import numpy as np
import pytest

from vecinfer.domain import filters as f
from vecinfer.domain import points as ops
from vecinfer.domain.collections import (
    CollectionConfig,
    DenseVectorParams,
    Distance,
    HnswConfig,
    PayloadIndex,
    SparseVectorParams,
    StrictModeConfig,
)
from vecinfer.domain.errors import InvalidArgument, RateLimited, StrictModeRefused
from vecinfer.domain.inference import Document
from vecinfer.domain.points import SparseVector
from vecinfer.domain.query import Fusion, Nearest, Prefetch, QueryRequest, ScrollRequest, SearchParams
from vecinfer.service import strict_mode as sm

VECTOR = np.zeros(4, dtype=np.float32)


def config(**strict: object) -> CollectionConfig:
    return CollectionConfig(dense={"": DenseVectorParams(4, Distance.COSINE)},
                            sparse={"s": SparseVectorParams()},
                            strict_mode=StrictModeConfig(enabled=True, **strict))  # type: ignore[arg-type]


def checker(schema: dict[str, PayloadIndex] | None = None, cfg: CollectionConfig | None = None,
            **strict: object) -> sm.Checker:
    found = sm.Checker.of(cfg or config(**strict), schema or {})
    assert found is not None
    return found


def refused(call) -> str:
    with pytest.raises(StrictModeRefused) as info:
        call()
    assert isinstance(info.value, InvalidArgument)  # 400 / INVALID_ARGUMENT in both doors
    return info.value.message


def query(limit: int = 10, prefetch: list[Prefetch] | None = None, flt: f.Filter | None = None,
          params: SearchParams | None = None, q: object = "nearest", using: str | None = None) -> QueryRequest:
    kind = Nearest(vector=VECTOR) if q == "nearest" else q
    return QueryRequest(root=Prefetch(prefetch=prefetch or [], query=kind, using=using,  # type: ignore[arg-type]
                                      filter=flt, params=params or SearchParams(), limit=limit))


def keyword(key: str, value: str = "x") -> f.Match:
    return f.Match(key, "keyword", value)


def limit_message(value: object, limit: object, name: str) -> str:
    return f'Bad request: Limit exceeded {value} > {limit} for "{name}". Help: Reduce the "{name}" parameter to or below {limit}.'


# ------------------------------------------------------------------ enabled or not


def test_only_enabled_strict_mode_is_enforced():
    assert sm.Checker.of(CollectionConfig(), {}) is None
    off = CollectionConfig(strict_mode=StrictModeConfig(enabled=False, max_query_limit=1))
    assert sm.Checker.of(off, {}) is None
    unset = CollectionConfig(strict_mode=StrictModeConfig(max_query_limit=1))
    assert sm.Checker.of(unset, {}) is None
    assert sm.Checker.of(config(max_query_limit=1), {}) is not None


def test_nothing_configured_refuses_nothing():
    c = checker()
    c.queries([query(limit=10_000, params=SearchParams(exact=True, hnsw_ef=10_000))], timeout=10_000, batch=True)
    c.scroll(ScrollRequest(filter=f.Filter(must=(keyword("a"),)), limit=10_000), timeout=None)
    c.count(f.Filter(must=(keyword("a"),)), exact=True, timeout=None)
    c.writes([ops.Upsert([ops.Point(i, {"": VECTOR}) for i in range(100)]),
              ops.DeletePoints(ops.PointsSelector(filter=f.Filter(must=(keyword("a"),))))],
             lambda: sm.StoredSize(10**9, 10**12, 10**12), timeout=100)


# ------------------------------------------------------------------ "Limit exceeded" settings


def test_max_query_limit_on_query_prefetch_and_scroll():
    c = checker(max_query_limit=10)
    c.queries([query(limit=10)], timeout=None)
    assert refused(lambda: c.queries([query(limit=11)], timeout=None)) == limit_message(11, 10, "limit")
    # Each prefetch's limit is checked (its default is 10), and before the root's.
    deep = query(limit=50, q=Fusion("rrf"), prefetch=[Prefetch(query=Nearest(vector=VECTOR), limit=20)])
    assert refused(lambda: c.queries([deep], timeout=None)) == limit_message(20, 10, "limit")
    nested = Prefetch(prefetch=[Prefetch(query=Nearest(vector=VECTOR), limit=12)], query=Nearest(vector=VECTOR))
    assert refused(lambda: c.queries([query(q=Fusion("rrf"), prefetch=[nested])], timeout=None)) == \
        limit_message(12, 10, "limit")
    # The offset is not counted.
    request = query(limit=10)
    request.offset = 1000
    c.queries([request], timeout=None)
    assert refused(lambda: c.scroll(ScrollRequest(limit=11), timeout=None)) == limit_message(11, 10, "limit")
    c.scroll(ScrollRequest(), timeout=None)  # the default limit of 10 fits


def test_max_timeout():
    c = checker(max_timeout=5)
    c.queries([query()], timeout=5)
    c.queries([query()], timeout=None)  # no timeout given: nothing to check
    expected = limit_message(6, 5, "timeout")
    assert refused(lambda: c.queries([query()], timeout=6)) == expected
    assert refused(lambda: c.scroll(ScrollRequest(), timeout=6)) == expected
    assert refused(lambda: c.count(None, exact=False, timeout=6)) == expected
    assert refused(lambda: c.retrieve(timeout=6)) == expected
    assert refused(lambda: c.writes([ops.ClearPayload(ops.PointsSelector(ids=(1,)))],
                                    lambda: sm.StoredSize(0, 0, 0), timeout=6)) == expected


def test_search_max_hnsw_ef_and_oversampling():
    c = checker(search_max_hnsw_ef=100, search_max_oversampling=2.0)
    c.queries([query(params=SearchParams(hnsw_ef=100))], timeout=None)
    assert refused(lambda: c.queries([query(params=SearchParams(hnsw_ef=101))], timeout=None)) == \
        limit_message(101, 100, "hnsw_ef")
    prefetch = Prefetch(query=Nearest(vector=VECTOR), params=SearchParams(hnsw_ef=500))
    assert refused(lambda: c.queries([query(q=Fusion("rrf"), prefetch=[prefetch])], timeout=None)) == \
        limit_message(500, 100, "hnsw_ef")
    # Oversampling is a float: Qdrant prints 2.0 as `2`.
    params = SearchParams(hnsw_ef=999)
    params.oversampling = 2.5  # type: ignore[attr-defined]  # carried once the doors pass it
    # ... and is checked before hnsw_ef.
    assert refused(lambda: c.queries([query(params=params)], timeout=None)) == limit_message(2.5, 2, "oversampling")


def test_search_max_batchsize_counts_only_batches_and_comes_first():
    c = checker(search_max_batchsize=2, max_query_limit=1)
    assert refused(lambda: c.queries([query(limit=5)] * 3, timeout=None, batch=True)) == \
        limit_message(3, 2, "search batch size")
    # A single query is no batch.
    assert refused(lambda: c.queries([query(limit=5)], timeout=None)) == limit_message(5, 1, "limit")


def test_upsert_and_update_vectors_batch_size():
    c = checker(upsert_max_batchsize=2)
    size = lambda: sm.StoredSize(0, 0, 0)  # noqa: E731
    points = [ops.Point(i, {"": VECTOR}) for i in range(3)]
    c.writes([ops.Upsert(points[:2])], size, timeout=None)
    assert refused(lambda: c.writes([ops.Upsert(points)], size, timeout=None)) == limit_message(3, 2, "upsert limit")
    vectors = [ops.PointVectors(i, {"": VECTOR}) for i in range(3)]
    assert refused(lambda: c.writes([ops.UpdateVectors(vectors)], size, timeout=None)) == \
        limit_message(3, 2, "update limit")
    # Per operation of a batch, not summed over it.
    c.writes([ops.Upsert(points[:2]), ops.Upsert(points[:2])], size, timeout=None)


# ------------------------------------------------------------------ exact


def test_search_allow_exact():
    c = checker(search_allow_exact=False)
    message = "Bad request: Exact search disabled!. Help: Set exact=false."
    assert refused(lambda: c.queries([query(params=SearchParams(exact=True))], timeout=None)) == message
    prefetch = Prefetch(query=Nearest(vector=VECTOR), params=SearchParams(exact=True))
    assert refused(lambda: c.queries([query(q=Fusion("rrf"), prefetch=[prefetch])], timeout=None)) == message
    c.queries([query()], timeout=None)
    assert refused(lambda: c.count(None, exact=True, timeout=None)) == message
    c.count(None, exact=False, timeout=None)
    allowed = checker(search_allow_exact=True)
    allowed.count(None, exact=True, timeout=None)
    allowed.queries([query(params=SearchParams(exact=True))], timeout=None)


def test_full_scan_without_a_global_graph():
    no_graph = CollectionConfig(dense={"": DenseVectorParams(4, Distance.COSINE),
                                       "d": DenseVectorParams(4, Distance.DOT)},
                                sparse={"s": SparseVectorParams()}, hnsw=HnswConfig(m=0),
                                strict_mode=StrictModeConfig(enabled=True, search_allow_exact=False))
    c = checker(cfg=no_graph)
    assert refused(lambda: c.queries([query()], timeout=None)) == (
        "Bad request: Request is forbidden because global vector indexing is disabled (hnsw_config.m = 0). "
        "Help: Use tenant-specific filter, enable global vector indexing or enable strict mode `search_allow_exact` option")
    assert "Request is forbidden on 'd' because" in refused(lambda: c.queries([query(using="d")], timeout=None))
    # Sparse vectors are always indexed; fusion and scrolls search nothing.
    c.queries([query(using="s", q=Nearest(vector=SparseVector.build([1], [1.0])))], timeout=None)
    c.queries([query(q=None)], timeout=None)
    # A tenant filter is enough while payload_m (defaulting to m) is above 0 ...
    tenants = {"tenant": PayloadIndex("keyword", {"type": "keyword", "is_tenant": True}),
               "plain": PayloadIndex("keyword")}
    tenant_filter = f.Filter(must=(keyword("tenant"),))
    assert refused(lambda: checker(tenants, no_graph).queries([query(flt=tenant_filter)], timeout=None)) == (
        "Bad request: Request is forbidden because vector indexing is disabled (hnsw_config.m = 0 and "
        "hnsw_config.payload_m = 0). Help: Enable vector indexing, use a prefetch query with indexed vectors or "
        "enable strict mode `search_allow_exact` option")
    with_payload_m = CollectionConfig(dense=no_graph.dense, hnsw=HnswConfig(m=0, extra={"payload_m": 16}),
                                      strict_mode=no_graph.strict_mode)
    checker(tenants, with_payload_m).queries([query(flt=tenant_filter)], timeout=None)
    assert "global vector indexing is disabled" in refused(
        lambda: checker(tenants, with_payload_m).queries([query(flt=f.Filter(must=(keyword("plain"),)))], timeout=None))
    # A vector's own graph settings win over the collection's.
    own = CollectionConfig(dense={"": DenseVectorParams(4, Distance.COSINE, extra={"hnsw_config": {"m": 8}})},
                           hnsw=HnswConfig(m=0), strict_mode=no_graph.strict_mode)
    checker(cfg=own).queries([query()], timeout=None)
    # The root of a query with prefetches rescores: only the prefetches are checked.
    assert "global vector indexing is disabled" in refused(
        lambda: c.queries([query(prefetch=[Prefetch(query=Nearest(vector=VECTOR))])], timeout=None))
    c.queries([query(prefetch=[Prefetch(query=Nearest(vector=SparseVector.build([1], [1.0])), using="s")])],
              timeout=None)


# ------------------------------------------------------------------ unindexed filtering


def unindexed_message(key: str, types: str) -> str:
    return (f'Bad request: Index required but not found for "{key}" of one of the following types: [{types}]. '
            "Help: Create an index for this key or use a different filter.")


ALL_TYPES = ("bool, datetime, float, geo, integer, keyword, keyword (with prefix: true), text, "
             "text (with phrase_matching: true), uuid")

UUID = "550e8400-e29b-41d4-a716-446655440000"


@pytest.mark.parametrize(("condition", "types"), [
    (keyword("k"), "keyword"),
    (f.Match("k", "keyword", UUID), "keyword, uuid"),
    (f.Match("k", "integer", 1), "integer"),
    (f.Match("k", "boolean", True), "bool"),
    (f.Match("k", "keywords", frozenset({"a", "b"})), "keyword"),
    (f.Match("k", "keywords", frozenset({UUID})), "keyword, uuid"),
    (f.Match("k", "except_integers", frozenset({1})), "integer"),
    (f.Match("k", "text", "hello"), "text"),
    (f.Match("k", "text_any", "hello"), "text"),
    (f.Match("k", "phrase", "hello world"), "text (with phrase_matching: true)"),
    (f.Match("k", "prefix", "he"), "keyword (with prefix: true)"),
    (f.Range("k", gte=1.0), "float, integer"),
    (f.Range("k", gte=1.0, datetime=True), "datetime"),
    (f.ValuesCount("k", gt=1), ALL_TYPES),
    (f.IsEmpty("k"), ALL_TYPES),
    (f.IsNull("k"), ALL_TYPES),
    (f.Not(f.IsEmpty("k")), ALL_TYPES),  # `is_empty: false` of a field condition
])
def test_unindexed_filter_names_the_index_types_that_would_serve(condition, types):
    c = checker(unindexed_filtering_retrieve=False)
    assert refused(lambda: c.count(f.Filter(must=(condition,)), exact=False, timeout=None)) == \
        unindexed_message("k", types)


@pytest.mark.parametrize(("condition", "index"), [
    (keyword("k"), PayloadIndex("keyword")),
    (f.Match("k", "keyword", UUID), PayloadIndex("uuid")),
    (f.Match("k", "integer", 1), PayloadIndex("integer")),
    (f.Match("k", "boolean", True), PayloadIndex("bool")),
    (f.Match("k", "text", "hi"), PayloadIndex("text")),
    (f.Match("k", "phrase", "hi there"), PayloadIndex("text", {"type": "text", "phrase_matching": True})),
    (f.Match("k", "prefix", "h"), PayloadIndex("keyword", {"type": "keyword", "prefix": True})),
    (f.Range("k", lt=1.0), PayloadIndex("float")),
    (f.Range("k", lt=1.0), PayloadIndex("integer")),
    (f.Range("k", lt=1.0, datetime=True), PayloadIndex("datetime")),
    (f.IsNull("k"), PayloadIndex("geo")),
    (f.ValuesCount("k", lt=3), PayloadIndex("bool")),
    (f.Match("k", "keywords", frozenset()), None),  # an empty list needs no index
    (f.Match("k", "except_keywords", frozenset()), None),
    (f.HasId(frozenset({1})), None),
    (f.HasVector(""), None),
])
def test_indexes_that_satisfy_unindexed_filtering(condition, index):
    schema = {"k": index} if index is not None else {}
    checker(schema, unindexed_filtering_retrieve=False).count(f.Filter(must=(condition,)), exact=False, timeout=None)


@pytest.mark.parametrize(("condition", "index", "types"), [
    (f.Match("k", "phrase", "a b"), PayloadIndex("text"), "text (with phrase_matching: true)"),
    (f.Match("k", "prefix", "a"), PayloadIndex("keyword"), "keyword (with prefix: true)"),
    (f.Match("k", "integer", 1), PayloadIndex("integer", {"type": "integer", "lookup": False}), "integer"),
    (f.Range("k", lt=1.0), PayloadIndex("integer", {"type": "integer", "range": False}), "float, integer"),
    (f.Match("k", "keyword", "plain"), PayloadIndex("uuid"), "keyword"),
    (f.Range("k", lt=1.0), PayloadIndex("datetime"), "float, integer"),
])
def test_indexes_that_cannot_serve_the_condition(condition, index, types):
    c = checker({"k": index}, unindexed_filtering_retrieve=False)
    assert refused(lambda: c.count(f.Filter(must=(condition,)), exact=False, timeout=None)) == \
        unindexed_message("k", types)


def test_nested_keys_are_checked_as_outer_array_inner():
    flt = f.Filter(must=(f.Nested("items", f.Filter(must=(f.Match("items", "integer", 0),
                                                            f.Match("sku", "keyword", "a")))),))
    c = checker({"items[].items": PayloadIndex("integer")}, unindexed_filtering_retrieve=False)
    assert refused(lambda: c.count(flt, exact=False, timeout=None)) == unindexed_message("items[].sku", "keyword")
    checker({"items[].items": PayloadIndex("integer"), "items[].sku": PayloadIndex("keyword")},
            unindexed_filtering_retrieve=False).count(flt, exact=False, timeout=None)
    deeper = f.Filter(must=(f.Nested("a[]", f.Filter(must=(f.Nested("b", f.Filter(must=(keyword("c"),))),))),))
    assert refused(lambda: c.count(deeper, exact=False, timeout=None)) == unindexed_message("a[].b[].c", "keyword")


def test_read_filters_checked_everywhere_and_in_order():
    c = checker({"ok": PayloadIndex("keyword")}, unindexed_filtering_retrieve=False)
    bad = f.Filter(must=(keyword("ok"),), should=(keyword("nope"),))
    message = unindexed_message("nope", "keyword")
    assert refused(lambda: c.queries([query(flt=bad)], timeout=None)) == message
    prefetch = Prefetch(query=Nearest(vector=VECTOR), filter=bad)
    assert refused(lambda: c.queries([query(q=Fusion("rrf"), prefetch=[prefetch])], timeout=None)) == message
    idf = SearchParams(idf_corpus=bad)
    assert refused(lambda: c.queries([query(params=idf)], timeout=None)) == message
    assert refused(lambda: c.scroll(ScrollRequest(filter=bad), timeout=None)) == message
    assert refused(lambda: c.count(bad, exact=False, timeout=None)) == message
    # Update filters are a separate setting.
    c.writes([ops.DeletePoints(ops.PointsSelector(filter=bad))], lambda: sm.StoredSize(0, 0, 0), timeout=None)
    # Order: prefetches, limit, filter, exact (search params), then the timeout.
    strict = checker(unindexed_filtering_retrieve=False, max_query_limit=5, search_allow_exact=False, max_timeout=1)
    both = query(limit=6, flt=bad, params=SearchParams(exact=True))
    assert "Limit exceeded 6 > 5" in refused(lambda: strict.queries([both], timeout=9))
    both.root.limit = 5
    assert "Index required" in refused(lambda: strict.queries([both], timeout=9))
    both.root.filter = None
    assert "Exact search disabled" in refused(lambda: strict.queries([both], timeout=9))
    both.root.params = SearchParams()
    assert "timeout" in refused(lambda: strict.queries([both], timeout=9))


def test_update_filters_of_every_selector_operation_but_not_upserts():
    c = checker(unindexed_filtering_update=False)
    bad = f.Filter(must=(f.Match("k", "integer", 3),))
    selector = ops.PointsSelector(filter=bad)
    size = lambda: sm.StoredSize(0, 0, 0)  # noqa: E731
    for op in (ops.DeletePoints(selector), ops.ClearPayload(selector), ops.SetPayload(selector, {"a": 1}),
               ops.OverwritePayload(selector, {"a": 1}), ops.DeletePayload(selector, ["a"]),
               ops.DeleteVectors(selector, [""])):
        assert refused(lambda: c.writes([op], size, timeout=None)) == unindexed_message("k", "integer")
    c.writes([ops.Upsert([ops.Point(1, {"": VECTOR})], update_filter=bad),
              ops.UpdateVectors([ops.PointVectors(1, {"": VECTOR})], update_filter=bad),
              ops.DeletePoints(ops.PointsSelector(ids=(1, 2)))], size, timeout=None)
    # Reads are a separate setting.
    c.count(bad, exact=False, timeout=None)


# ------------------------------------------------------------------ filter sizes


def test_filter_max_conditions_counts_recursively():
    c = checker(filter_max_conditions=3)
    flt = f.Filter(must=(keyword("a"), f.Filter(should=(keyword("b"), keyword("c")))),
                   must_not=(f.Nested("n", f.Filter(must=(keyword("d"),))),))
    assert sm.condition_count(flt) == 4
    message = ("Bad request: Filter condition limit reached (4 > 3). "
               "Help: Reduce the amount of conditions of your filter.")
    assert refused(lambda: c.count(flt, exact=False, timeout=None)) == message
    assert refused(lambda: c.writes([ops.ClearPayload(ops.PointsSelector(filter=flt))],
                                    lambda: sm.StoredSize(0, 0, 0), timeout=None)) == message
    min_should = f.Filter(min_should=f.MinShould((keyword("a"), keyword("b")), 1))
    assert sm.condition_count(min_should) == 2
    c.count(f.Filter(must=(keyword("a"), keyword("b"), keyword("c"))), exact=False, timeout=None)


def test_condition_max_size_takes_the_largest_list():
    c = checker(condition_max_size=2)
    flt = f.Filter(must=(f.Match("a", "keywords", frozenset({"x", "y"})),
                         f.Filter(should=(f.HasId(frozenset({1, 2, 3})),))))
    assert refused(lambda: c.scroll(ScrollRequest(filter=flt), timeout=None)) == \
        "Bad request: Condition size limit reached (3 > 2). Help: Reduce the size of your condition."
    excepted = f.Filter(must=(f.Nested("n", f.Filter(must=(f.Match("a", "except_integers", frozenset({1, 2, 3})),))),))
    assert sm.largest_condition(excepted) == 3
    c.scroll(ScrollRequest(filter=f.Filter(must=(f.Match("a", "integers", frozenset({1, 2})), keyword("t")))),
             timeout=None)


def test_index_check_comes_before_filter_sizes():
    c = checker(unindexed_filtering_retrieve=False, filter_max_conditions=0)
    assert "Index required" in refused(lambda: c.count(f.Filter(must=(keyword("a"),)), exact=False, timeout=None))
    assert "Filter condition limit" in refused(
        lambda: c.count(f.Filter(must=(f.HasId(frozenset({1})),)), exact=False, timeout=None))


def test_substring_matches_are_refused():
    c = checker()
    flt = f.Filter(must=(f.Nested("n", f.Filter(must=(f.Match("t", "substring", "ab"),))),))
    assert refused(lambda: c.count(flt, exact=False, timeout=None)) == (
        'Bad request: Substring matching is not allowed, used for "n[].t": it scans every value of the field, '
        "with or without an index. Help: Use a prefix match or a full-text match instead.")


# ------------------------------------------------------------------ stored sizes


def test_collection_size_limits():
    size = lambda: sm.StoredSize(points=5, vector_bytes=2 * 1024 * 1024, payload_bytes=1000)  # noqa: E731
    upsert = ops.Upsert([ops.Point(9, {"": VECTOR})])
    update = ops.UpdateVectors([ops.PointVectors(1, {"": VECTOR})])
    for op in (upsert, update):
        assert refused(lambda: checker(max_points_count=5).writes([op], size, timeout=None)) == \
            "Bad request: Max points count limit of 5 reached!"
        checker(max_points_count=6).writes([op], size, timeout=None)
        assert refused(lambda: checker(max_collection_vector_size_bytes=2 * 1024 * 1024).writes([op], size, None)) == \
            "Bad request: Max vector storage size limit of 2MB reached!"
        assert refused(lambda: checker(max_collection_payload_size_bytes=1000).writes([op], size, None)) == \
            "Bad request: Max payload storage size limit of 0.0009536743MB reached!"
    set_payload = ops.SetPayload(ops.PointsSelector(ids=(1,)), {"a": 1})
    assert "Max payload storage size limit" in refused(
        lambda: checker(max_collection_payload_size_bytes=10).writes([set_payload], size, None))
    # Deletes free space: never refused for size.
    everything = checker(max_points_count=1, max_collection_vector_size_bytes=1, max_collection_payload_size_bytes=1)
    everything.writes([ops.DeletePoints(ops.PointsSelector(ids=(1,))), ops.ClearPayload(ops.PointsSelector(ids=(1,))),
                       ops.DeletePayload(ops.PointsSelector(ids=(1,)), ["a"])], size, None)
    # Order: vectors, payload, points.
    assert "vector storage" in refused(lambda: everything.writes([upsert], size, None))


def test_sizes_are_measured_only_when_needed():
    calls = []

    def size():
        calls.append(1)
        return sm.StoredSize(0, 0, 0)

    checker(max_query_limit=1).writes([ops.Upsert([ops.Point(1, {"": VECTOR})])], size, None)
    checker(max_points_count=10).writes([ops.DeletePoints(ops.PointsSelector(ids=(1,)))], size, None)
    assert calls == []


def test_megabytes_print_like_rust_f32():
    assert sm.megabytes(1024 * 1024) == "1"
    assert sm.megabytes(512 * 1024) == "0.5"
    assert sm.megabytes(1000) == "0.0009536743"
    assert sm.megabytes(10_000_000) == "9.536743"


def test_sparse_max_length():
    c = checker(sparse_max_length={"s": 2})
    size = lambda: sm.StoredSize(0, 0, 0)  # noqa: E731
    long = SparseVector.build([1, 2, 3], [1.0, 1.0, 1.0])
    message = "Bad request: Sparse vector 's' has a limit of 2 indices, but 3 were provided!"
    assert refused(lambda: c.writes([ops.Upsert([ops.Point(1, {"s": long})])], size, None)) == message
    assert refused(lambda: c.writes([ops.UpdateVectors([ops.PointVectors(1, {"s": long})])], size, None)) == message
    c.writes([ops.Upsert([ops.Point(1, {"s": SparseVector.build([1, 2], [1.0, 1.0])})])], size, None)
    # What inference will make is not checked (Qdrant checks the request as sent).
    c.writes([ops.Upsert([ops.Point(1, {"s": Document(model="qdrant/bm25", text="a b c d e")})])], size, None)


def test_max_payload_index_count():
    c = checker({"a": PayloadIndex("keyword"), "b": PayloadIndex("integer")}, max_payload_index_count=2)
    assert refused(lambda: c.writes([ops.CreateFieldIndex("c", "keyword")], lambda: sm.StoredSize(0, 0, 0), None)) == (
        "Bad request: Collection already has the maximum number of payload indices (2). "
        "Help: Please delete an existing index before creating a new one.")
    c.writes([ops.DeleteFieldIndex("a")], lambda: sm.StoredSize(0, 0, 0), None)
    checker({"a": PayloadIndex("keyword")}, max_payload_index_count=2).writes(
        [ops.CreateFieldIndex("c", "keyword")], lambda: sm.StoredSize(0, 0, 0), None)


def test_batch_operations_are_checked_one_by_one_with_the_timeout_after_each():
    c = checker(upsert_max_batchsize=1, max_timeout=1)
    first = ops.Upsert([ops.Point(1, {"": VECTOR})])
    second = ops.Upsert([ops.Point(1, {"": VECTOR}), ops.Point(2, {"": VECTOR})])
    assert "timeout" in refused(lambda: c.writes([first, second], lambda: sm.StoredSize(0, 0, 0), timeout=2))
    assert "upsert limit" in refused(lambda: c.writes([second, first], lambda: sm.StoredSize(0, 0, 0), timeout=2))


# ------------------------------------------------------------------ rate limits


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Owner:
    """Stands for a collection: buckets are held per object."""


def test_rate_limiter_token_bucket():
    clock = Clock()
    limiter = sm.RateLimiter(60, clock)  # one token a second, 60 at most
    limiter.consume([60], "Read")
    with pytest.raises(RateLimited) as info:
        limiter.consume([3], "Read")
    assert info.value.message == ("Rate limiting exceeded: Read rate limit exceeded: Operation requires 3 tokens "
                                  "but only 0.0 were available. Retry after 3s")
    assert info.value.retry_after == pytest.approx(3.0)
    clock.now += 1.5
    with pytest.raises(RateLimited) as info:
        limiter.consume([3], "Write")
    assert "but only 1.5 were available. Retry after 2s" in info.value.message
    clock.now += 1.5
    limiter.consume([3], "Read")
    clock.now += 1000
    assert limiter.consume([60], "Read") is None  # refilled, never beyond the capacity
    with pytest.raises(RateLimited):
        limiter.consume([1], "Read")


def test_rate_limiter_refuses_what_never_fits():
    limiter = sm.RateLimiter(10, Clock())
    with pytest.raises(RateLimited) as info:
        limiter.consume([11], "Write")
    assert info.value.message == ("Rate limiting exceeded: Write rate limit exceeded, request larger than rate "
                                  "limiter capacity, please try to split your request")
    assert info.value.retry_after is None
    limiter.consume([10], "Write")  # nothing was taken by the refusal


def test_rate_limiter_takes_a_batch_whole_or_not_at_all():
    limiter = sm.RateLimiter(10, Clock())
    with pytest.raises(RateLimited):
        limiter.consume([4, 4, 4], "Write")
    assert limiter.tokens == 10
    limiter.consume([4, 4], "Write")
    assert limiter.tokens == 2


def test_rate_limits_per_collection_and_kind_reset_when_the_setting_changes():
    clock = Clock()
    limits = sm.RateLimits(clock)
    strict = StrictModeConfig(enabled=True, read_rate_limit=2, write_rate_limit=1)
    a, b = Owner(), Owner()
    limits.read(a, strict, 2)
    with pytest.raises(RateLimited) as info:
        limits.read(a, strict, 1)
    assert info.value.message.startswith("Rate limiting exceeded: Read rate limit exceeded: Operation requires 1")
    limits.read(b, strict, 2)  # another collection has its own bucket
    limits.write(a, strict, [1])  # writes have their own bucket
    with pytest.raises(RateLimited):
        limits.write(a, strict, [1])
    limits.write(a, strict, [])  # index operations cost nothing
    limits.read(a, StrictModeConfig(enabled=True, read_rate_limit=3), 3)  # a new setting: a full new bucket
    limits.read(a, StrictModeConfig(enabled=True), 1000)  # no read limit


def test_read_costs():
    flt = f.Filter(must=(keyword("a"), keyword("b")))
    assert sm.filtered_read_cost(None) == 1
    assert sm.filtered_read_cost(flt) == 3
    assert sm.query_cost([query()]) == 1
    assert sm.query_cost([query(flt=flt)]) == 3
    sparse = Nearest(vector=SparseVector.build(list(range(65)), [1.0] * 65))
    assert sm.query_cost([query(q=sparse, using="s")]) == 2  # per 64 dimensions
    hybrid = query(q=Fusion("rrf"), flt=flt, prefetch=[
        Prefetch(query=Nearest(vector=VECTOR)), Prefetch(query=sparse, using="s", filter=f.Filter(must=(keyword("c"),))),
        Prefetch(query=Nearest(vector=Document(model="m", text="t")))])
    # Each leaf search, with the root filter pushed down into it.
    assert sm.query_cost([hybrid]) == (1 + 2) + (2 + 3) + (1 + 2)
    assert sm.query_cost([query(q=None)]) == 1  # a scroll
    assert sm.query_cost([query(), query()]) == 2


def test_write_costs():
    def matching(flt):
        return 7

    assert sm.write_cost(ops.Upsert([ops.Point(i, {}) for i in range(3)]), matching) == 3
    assert sm.write_cost(ops.UpdateVectors([]), matching) == 1
    assert sm.write_cost(ops.DeletePoints(ops.PointsSelector(ids=(1, 2))), matching) == 2
    assert sm.write_cost(ops.ClearPayload(ops.PointsSelector(filter=f.Filter(must=(keyword("a"),)))), matching) == 7
    assert sm.write_cost(ops.SetPayload(ops.PointsSelector(filter=f.Filter()), {}), lambda flt: 0) == 1
    assert sm.write_cost(ops.CreateFieldIndex("a", "keyword"), matching) is None


def test_number_prints_like_rust():
    assert sm.number(2.0) == "2"
    assert sm.number(1.5) == "1.5"
    assert sm.number(10) == "10"
    assert sm.number(0.1) == "0.1"
