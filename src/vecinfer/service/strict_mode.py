"""Qdrant's strict mode: a collection's own limits on the requests it serves.

Checked only while the collection's `strict_mode.enabled` is true, before any work starts
(inference included), in Qdrant's order (`lib/collection/src/operations/verification/`,
`lib/storage/src/content_manager/collection_verification.rs`): the batch size; then per
request its own checks (prefetches first, the full-scan rule), limit, filter (index, then
size), `exact`, search params; then the timeout. Then, once the request passed, the read or
write rate limit takes its tokens. Messages are Qdrant's, word for word.

Pure checks over domain objects: what they need from a collection (settings, payload indexes,
stored sizes) comes in as plain values or, for what costs time to measure, as callables.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from vecinfer.domain import filters as f
from vecinfer.domain import points as ops
from vecinfer.domain.collections import CollectionConfig, PayloadIndex, StrictModeConfig
from vecinfer.domain.errors import RateLimited, StrictModeRefused
from vecinfer.domain.inference import INFERENCE_TYPES
from vecinfer.domain.json_path import parse as parse_path
from vecinfer.domain.points import DEFAULT_VECTOR, SparseVector
from vecinfer.domain.query import Nearest, Prefetch, QueryRequest, ScrollRequest, SearchParams


def active(config: CollectionConfig) -> StrictModeConfig | None:
    """The collection's strict-mode settings when they are enforced."""
    strict = config.strict_mode
    return strict if strict is not None and strict.enabled else None


# ---------------------------------------------------------------------------- messages


def refused(message: str, solution: str | None = None) -> StrictModeRefused:
    """Qdrant's strict-mode error: `Bad request: {msg}. Help: {solution}` (size limits have no help)."""
    text = f"Bad request: {message}" if solution is None else f"Bad request: {message}. Help: {solution}"
    return StrictModeRefused(text)


def number(value: float | int) -> str:
    """A number as Rust's Display writes it: `2` for 2.0, `1.5`, never an exponent."""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return np.format_float_positional(value, unique=True, trim="-")
    return str(value)


def megabytes(limit_bytes: int) -> str:
    """`bytes as f32 / (1024.0 * 1024.0)`, printed as Rust prints an f32."""
    mb = np.float32(limit_bytes) / np.float32(1024 * 1024)
    return np.format_float_positional(mb, unique=True, trim="-")


def check_limit(value: float | int | None, limit: float | int | None, name: str) -> None:
    if value is None or limit is None or value <= limit:
        return
    raise refused(f'Limit exceeded {number(value)} > {number(limit)} for "{name}"',
                  f'Reduce the "{name}" parameter to or below {number(limit)}.')


def check_exact(exact: bool, strict: StrictModeConfig) -> None:
    if strict.search_allow_exact is False and exact:
        raise refused("Exact search disabled!", "Set exact=false.")


def check_timeout(timeout: int | None, strict: StrictModeConfig) -> None:
    check_limit(timeout, strict.max_timeout, "timeout")


# ---------------------------------------------------------------------------- filters


def _conditions(flt: f.Filter) -> Iterator[f.Condition]:
    """A filter's own conditions in Qdrant's order: must, must_not, should, min_should."""
    yield from flt.must
    yield from flt.must_not
    yield from flt.should
    if flt.min_should is not None:
        yield from flt.min_should.conditions


def condition_count(flt: f.Filter) -> int:
    """Conditions counted recursively; a nested or sub-filter counts as what it holds."""
    return sum(_sub_count(c) for c in _conditions(flt))


def _sub_count(condition: f.Condition) -> int:
    if isinstance(condition, f.Filter):
        return condition_count(condition)
    if isinstance(condition, f.Nested):
        return condition_count(condition.filter)
    if isinstance(condition, f.Not):  # `is_empty: false` / `is_null: false` of one field condition
        return _sub_count(condition.condition)
    return 1


_LIST_MATCHES = ("keywords", "integers", "except_keywords", "except_integers")


def largest_condition(flt: f.Filter) -> int:
    """The size of the largest `any`, `except` or `has_id` list, recursively."""
    return max((_condition_size(c) for c in _conditions(flt)), default=0)


def _condition_size(condition: f.Condition) -> int:
    if isinstance(condition, f.Match):
        return len(condition.value) if condition.kind in _LIST_MATCHES else 0
    if isinstance(condition, f.HasId):
        return len(condition.ids)
    if isinstance(condition, f.Filter):
        return largest_condition(condition)
    if isinstance(condition, f.Nested):
        return largest_condition(condition.filter)
    if isinstance(condition, f.Not):
        return _condition_size(condition.condition)
    return 0


# Capabilities an index may have (Qdrant's FieldIndexType), and how a missing one is named.
_DISPLAY = {
    "int_match": "integer", "int_range": "integer", "keyword_match": "keyword",
    "keyword_prefix": "keyword (with prefix: true)", "float_range": "float", "text": "text",
    "text_phrase": "text (with phrase_matching: true)", "bool_match": "bool", "uuid_match": "uuid",
    "uuid_range": "uuid", "datetime_range": "datetime", "geo": "geo",
}
_ANY_INDEX = tuple(_DISPLAY)


def capabilities(index: PayloadIndex) -> set[str]:
    """What conditions an index serves (Qdrant's `schema_capabilities`)."""
    params = index.params or {}
    kind = index.type
    if kind == "keyword":
        return {"keyword_match", "keyword_prefix"} if params.get("prefix") else {"keyword_match"}
    if kind == "integer":
        found = set()
        if params.get("lookup", True) is not False:
            found.add("int_match")
        if params.get("range", True) is not False:
            found.add("int_range")
        return found
    if kind == "uuid":
        return {"uuid_match", "uuid_range"}
    if kind == "text":
        return {"text", "text_phrase"} if params.get("phrase_matching") else {"text"}
    return {{"float": "float_range", "bool": "bool_match", "geo": "geo", "datetime": "datetime_range"}.get(kind, kind)}


def _is_uuid(text: Any) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


def _string_match(values: Iterable[Any]) -> list[str]:
    return ["uuid_match", "keyword_match"] if all(_is_uuid(v) for v in values) else ["keyword_match"]


def required_indexes(condition: f.Condition) -> list[str]:
    """The capabilities any one of which makes a leaf condition indexed; empty: none needed."""
    if isinstance(condition, f.Match):
        kind, value = condition.kind, condition.value
        if kind == "keyword":
            return _string_match([value])
        if kind == "integer":
            return ["int_match"]
        if kind == "boolean":
            return ["bool_match"]
        if kind in ("keywords", "except_keywords"):
            return _string_match(value) if value else []  # an empty list needs no index
        if kind in ("integers", "except_integers"):
            return ["int_match"] if value else []
        if kind in ("text", "text_any"):
            return ["text"]
        if kind == "phrase":
            return ["text_phrase"]
        if kind == "prefix":
            return ["keyword_prefix"]
        return ["keyword_match"]
    if isinstance(condition, f.Range):
        return ["datetime_range"] if condition.datetime else ["float_range", "int_range"]
    if isinstance(condition, f.GEO_CONDITIONS):
        return ["geo"]
    if isinstance(condition, (f.ValuesCount, f.IsEmpty, f.IsNull)):
        return list(_ANY_INDEX)
    if isinstance(condition, f.Not):
        return required_indexes(condition.condition)
    return []  # has_id, has_vector


def _key_of(condition: f.Condition) -> str | None:
    if isinstance(condition, (f.Match, f.Range, f.ValuesCount, f.IsEmpty, f.IsNull, *f.GEO_CONDITIONS)):
        return condition.key
    if isinstance(condition, f.Not):
        return _key_of(condition.condition)
    return None


def _array_key(key: str) -> str:
    return key if key.endswith("[]") else f"{key}[]"


def _joined(prefix: str | None, key: str) -> str:
    return key if prefix is None else f"{prefix}.{key}"


def _path(key: str) -> tuple[Any, ...] | str:
    try:
        return parse_path(key)
    except Exception:  # an unparsable key is compared as written
        return key


class _Unindexed:
    """Qdrant's unindexed-field extractor: keys a filter uses without an index able to serve them."""

    def __init__(self, schema: Mapping[str, PayloadIndex]) -> None:
        self._schema = {_path(key): index for key, index in schema.items()}
        self.found: dict[str, list[str]] = {}

    def condition(self, condition: f.Condition, prefix: str | None) -> None:
        if isinstance(condition, f.Filter):
            for inner in _conditions(condition):
                self.condition(inner, prefix)
            return
        if isinstance(condition, f.Nested):
            nested_prefix = _joined(prefix, _array_key(condition.key))
            for inner in _conditions(condition.filter):
                self.condition(inner, nested_prefix)
            return
        key = _key_of(condition)
        required = required_indexes(condition)
        if key is None or not required:
            return
        full_key = _joined(prefix, key)
        index = self._schema.get(_path(full_key))
        if index is not None and capabilities(index) & set(required):
            return
        self.found.setdefault(full_key, []).extend(_DISPLAY[r] for r in required)


def unindexed_key(flt: f.Filter, schema: Mapping[str, PayloadIndex]) -> tuple[str, list[str]] | None:
    """One key the filter uses that no index serves, with the index types that would (sorted,
    without repeats); None when every key that could be indexed is."""
    extractor = _Unindexed(schema)
    for condition in _conditions(flt):
        extractor.condition(condition, None)
        if extractor.found:
            key, types = next(iter(extractor.found.items()))
            return key, sorted(set(types))
    return None


def substring_key(flt: f.Filter, prefix: str | None = None) -> str | None:
    """The key of a substring match anywhere in the filter (Qdrant refuses those in strict mode)."""
    for condition in _conditions(flt):
        if isinstance(condition, f.Match) and condition.kind == "substring":
            return _joined(prefix, condition.key)
        if isinstance(condition, f.Filter):
            found = substring_key(condition, prefix)
        elif isinstance(condition, f.Nested):
            found = substring_key(condition.filter, _joined(prefix, _array_key(condition.key)))
        else:
            continue
        if found is not None:
            return found
    return None


def check_filter(flt: f.Filter | None, allow_unindexed: bool | None, strict: StrictModeConfig,
                 schema: Mapping[str, PayloadIndex]) -> None:
    """A read or update filter: substring matches, unindexed keys (when not allowed), then the
    number of conditions and the largest condition."""
    if flt is None:
        return
    key = substring_key(flt)
    if key is not None:
        raise refused(f'Substring matching is not allowed, used for "{key}": it scans every value of the field, '
                      "with or without an index", "Use a prefix match or a full-text match instead.")
    if allow_unindexed is False:
        missing = unindexed_key(flt, schema)
        if missing is not None:
            raise refused(f'Index required but not found for "{missing[0]}" of one of the following types: '
                          f"[{', '.join(missing[1])}]", "Create an index for this key or use a different filter.")
    if strict.filter_max_conditions is not None:
        count = condition_count(flt)
        if count > strict.filter_max_conditions:
            raise refused(f"Filter condition limit reached ({count} > {strict.filter_max_conditions})",
                          "Reduce the amount of conditions of your filter.")
    if strict.condition_max_size is not None:
        size = largest_condition(flt)
        if size > strict.condition_max_size:
            raise refused(f"Condition size limit reached ({size} > {strict.condition_max_size})",
                          "Reduce the size of your condition.")


def _targeted_key(condition: f.Condition) -> str | None:
    if isinstance(condition, f.Nested):
        return _array_key(condition.key)
    if isinstance(condition, f.Filter):
        return next((k for c in _conditions(condition) if (k := _targeted_key(c)) is not None), None)
    return _key_of(condition)


def _is_tenant(index: PayloadIndex) -> bool:
    params = index.params or {}
    if index.type in ("keyword", "uuid"):
        return bool(params.get("is_tenant"))
    if index.type in ("integer", "float", "datetime"):
        return bool(params.get("is_principal"))
    return False


# ---------------------------------------------------------------------------- stored sizes


@dataclass(frozen=True)
class StoredSize:
    """What a collection holds, as the size limits see it."""

    points: int
    vector_bytes: int
    payload_bytes: int


# ---------------------------------------------------------------------------- the checker


class Checker:
    """Strict-mode checks of one collection's settings and payload indexes."""

    def __init__(self, strict: StrictModeConfig, config: CollectionConfig,
                 schema: Mapping[str, PayloadIndex]) -> None:
        self.strict = strict
        self.config = config
        self.schema = schema
        self._by_path = {_path(key): index for key, index in schema.items()}

    @staticmethod
    def of(config: CollectionConfig, schema: Mapping[str, PayloadIndex]) -> Checker | None:
        strict = active(config)
        return None if strict is None else Checker(strict, config, schema)

    # ------------------------------------------------------------ reads

    def queries(self, requests: list[QueryRequest], timeout: int | None, batch: bool = False) -> None:
        """Query and query_batch (`batch`: the request count is checked against the batch size)."""
        if batch:
            check_limit(len(requests), self.strict.search_max_batchsize, "search batch size")
        for request in requests:
            self._node(request.root, root=True)
        check_timeout(timeout, self.strict)

    def _node(self, node: Prefetch, root: bool) -> None:
        for child in node.prefetch:
            self._node(child, root=False)
        if node.query is not None and not (root and node.prefetch):
            self._full_scan(node)
        check_limit(node.limit, self.strict.max_query_limit, "limit")
        self._read_filter(node.filter)
        self._search_params(node.params)

    def _search_params(self, params: SearchParams) -> None:
        check_limit(params.oversampling, self.strict.search_max_oversampling, "oversampling")
        check_limit(params.hnsw_ef, self.strict.search_max_hnsw_ef, "hnsw_ef")
        self._read_filter(params.idf_corpus)
        check_exact(params.exact, self.strict)

    def _full_scan(self, node: Prefetch) -> None:
        """With `search_allow_exact: false`, a dense search on a vector without a global HNSW
        graph (`m = 0`) needs a tenant filter and `payload_m > 0`."""
        if self.strict.search_allow_exact is not False or not isinstance(node.query, Nearest):
            return
        using = node.using if node.using is not None else DEFAULT_VECTOR
        if using in self.config.sparse:
            return
        own: Mapping[str, Any] = {}
        if using in self.config.dense:
            own = self.config.dense[using].extra.get("hnsw_config") or {}
        m = own.get("m")
        if m is None:
            m = self.config.hnsw.m
        if m > 0:
            return
        payload_m = own.get("payload_m")
        if payload_m is None:
            payload_m = self.config.hnsw.extra.get("payload_m")
        if payload_m is None:
            payload_m = m
        label = "" if using == DEFAULT_VECTOR else f" on '{using}'"
        tenant = False
        if node.filter is not None:
            for condition in _conditions(node.filter):
                key = _targeted_key(condition)
                index = self._by_path.get(_path(key)) if key is not None else None
                if index is not None and _is_tenant(index):
                    tenant = True
                    break
        if not tenant:
            raise refused(f"Request is forbidden{label} because global vector indexing is disabled (hnsw_config.m = 0)",
                          "Use tenant-specific filter, enable global vector indexing or enable strict mode "
                          "`search_allow_exact` option")
        if payload_m == 0:
            raise refused(f"Request is forbidden{label} because vector indexing is disabled "
                          "(hnsw_config.m = 0 and hnsw_config.payload_m = 0)",
                          "Enable vector indexing, use a prefetch query with indexed vectors or enable strict mode "
                          "`search_allow_exact` option")

    def _read_filter(self, flt: f.Filter | None) -> None:
        check_filter(flt, self.strict.unindexed_filtering_retrieve, self.strict, self.schema)

    def scroll(self, request: ScrollRequest, timeout: int | None) -> None:
        check_limit(request.limit, self.strict.max_query_limit, "limit")
        self._read_filter(request.filter)
        check_timeout(timeout, self.strict)

    def count(self, flt: f.Filter | None, exact: bool, timeout: int | None) -> None:
        self._read_filter(flt)
        check_exact(exact, self.strict)
        check_timeout(timeout, self.strict)

    def retrieve(self, timeout: int | None) -> None:
        check_timeout(timeout, self.strict)

    # ------------------------------------------------------------ writes

    def writes(self, operations: Iterable[ops.CollectionOperation], size: Callable[[], StoredSize],
               timeout: int | None) -> None:
        """Each operation's checks, then the timeout, operation by operation (as Qdrant checks
        the operations of a batch). `size` is asked only when a size limit needs it."""
        for op in operations:
            self._write(op, size)
            check_timeout(timeout, self.strict)

    def _write(self, op: ops.CollectionOperation, size: Callable[[], StoredSize]) -> None:
        strict = self.strict
        if isinstance(op, ops.Upsert):
            check_limit(len(op.points), strict.upsert_max_batchsize, "upsert limit")
            self._sizes(size)
            self._sparse_lengths(point.vectors for point in op.points)
            self._multivector_lengths(point.vectors for point in op.points)
        elif isinstance(op, ops.UpdateVectors):
            check_limit(len(op.points), strict.upsert_max_batchsize, "update limit")
            self._sizes(size)
            self._sparse_lengths(point.vectors for point in op.points)
            self._multivector_lengths(point.vectors for point in op.points)
        elif isinstance(op, (ops.SetPayload, ops.OverwritePayload)):
            if strict.max_collection_payload_size_bytes is not None:
                self._payload_size(size(), strict.max_collection_payload_size_bytes)
            self._update_filter(op.selector)
        elif isinstance(op, (ops.DeletePoints, ops.DeleteVectors, ops.DeletePayload, ops.ClearPayload)):
            self._update_filter(op.selector)
        elif isinstance(op, ops.CreateFieldIndex):
            limit = strict.max_payload_index_count
            if limit is not None and len(self.schema) >= limit:
                raise refused(f"Collection already has the maximum number of payload indices ({limit})",
                              "Please delete an existing index before creating a new one.")

    def _update_filter(self, selector: ops.PointsSelector) -> None:
        check_filter(selector.filter, self.strict.unindexed_filtering_update, self.strict, self.schema)

    def _sizes(self, size: Callable[[], StoredSize]) -> None:
        strict = self.strict
        limits = (strict.max_collection_vector_size_bytes, strict.max_collection_payload_size_bytes,
                  strict.max_points_count)
        if limits == (None, None, None):
            return
        stored = size()
        if strict.max_collection_vector_size_bytes is not None:
            if stored.vector_bytes >= strict.max_collection_vector_size_bytes:
                raise refused(f"Max vector storage size limit of "
                              f"{megabytes(strict.max_collection_vector_size_bytes)}MB reached!")
        if strict.max_collection_payload_size_bytes is not None:
            self._payload_size(stored, strict.max_collection_payload_size_bytes)
        if strict.max_points_count is not None and stored.points >= strict.max_points_count:
            raise refused(f"Max points count limit of {strict.max_points_count} reached!")

    @staticmethod
    def _payload_size(stored: StoredSize, limit: int) -> None:
        if stored.payload_bytes >= limit:
            raise refused(f"Max payload storage size limit of {megabytes(limit)}MB reached!")

    def _sparse_lengths(self, vectors: Iterable[Mapping[str, Any]]) -> None:
        """Sparse vectors given as such (not those inference will make) against `max_length`."""
        limits = self.strict.sparse_max_length
        if not limits:
            return
        for named in vectors:
            for name, vector in named.items():
                limit = limits.get(name)
                if limit is None or not isinstance(vector, SparseVector):
                    continue
                if len(vector.indices) > limit or len(vector.values) > limit:
                    raise refused(f"Sparse vector '{name}' has a limit of {limit} indices, "
                                  f"but {len(vector.indices)} were provided!")

    def _multivector_lengths(self, vectors: Iterable[Mapping[str, Any]]) -> None:
        """Multivectors (2-D arrays) against `multivector_config.{name}.max_vectors`."""
        limits = self.strict.multivector_max_vectors
        if not limits:
            return
        for named in vectors:
            for name, vector in named.items():
                limit = limits.get(name)
                if limit is None or not isinstance(vector, np.ndarray) or vector.ndim != 2:
                    continue
                if len(vector) > limit:
                    raise refused(f"Multivector '{name}' has a limit of {limit} vectors, "
                                  f"but {len(vector)} were provided!")


# ---------------------------------------------------------------------------- rate limits


# Qdrant counts a sparse query's cost in units of this many dimensions.
SPARSE_DIMS_COST_UNIT = 64


def _vector_cost(query: Nearest) -> int:
    vector = query.vector
    if isinstance(vector, SparseVector):
        return -(-len(vector.indices) // SPARSE_DIMS_COST_UNIT)
    if isinstance(vector, INFERENCE_TYPES) or vector is None:
        return 1  # a point id or an object to embed: one comparison per point, as a dense vector
    array = np.asarray(vector)
    return int(array.shape[0]) if array.ndim == 2 else 1  # a multivector costs a comparison per vector


def query_cost(requests: Iterable[QueryRequest]) -> int:
    """Read tokens of a query batch: each leaf search costs its comparisons per point plus the
    conditions of the filters above it; each leaf without a vector (a scroll) 1 plus those."""
    total = 0
    for request in requests:
        stack: list[tuple[Prefetch, int]] = [(request.root, 0)]
        while stack:
            node, conditions = stack.pop()
            conditions += condition_count(node.filter) if node.filter is not None else 0
            if node.prefetch:
                stack.extend((child, conditions) for child in node.prefetch)
            elif isinstance(node.query, Nearest):
                total += _vector_cost(node.query) + conditions
            else:
                total += 1 + conditions
    return total


def filtered_read_cost(flt: f.Filter | None) -> int:
    """Scroll and count: 1, plus the filter's conditions."""
    return 1 + (condition_count(flt) if flt is not None else 0)


def write_cost(op: ops.CollectionOperation, matching: Callable[[f.Filter | None], int]) -> int | None:
    """Write tokens of one operation: the points it touches (counted through `matching` for a
    filter selector), at least 1; None for index operations, which the write limit leaves alone."""
    if isinstance(op, (ops.Upsert, ops.UpdateVectors)):
        return max(1, len(op.points))
    selector = getattr(op, "selector", None)
    if isinstance(selector, ops.PointsSelector):
        if selector.ids is not None:
            return max(1, len(selector.ids))
        return max(1, matching(selector.filter))
    return None


class RateLimiter:
    """Qdrant's token bucket: `per_minute` tokens, full at the start, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = per_minute
        self.per_second = per_minute / 60.0
        self.tokens = float(per_minute)
        self._clock = clock
        self._last = clock()

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(float(self.capacity), self.tokens + self.per_second * (now - self._last))
        self._last = now

    def consume(self, costs: list[int], kind: str) -> None:
        """Take every cost, or none of them (RateLimited naming the first that did not fit)."""
        self._refill()
        before = self.tokens
        for cost in costs:
            if cost > self.capacity:
                self.tokens = before
                raise RateLimited(f"Rate limiting exceeded: {kind} rate limit exceeded, "
                                  "request larger than rate limiter capacity, please try to split your request")
            if self.tokens >= cost:
                self.tokens -= cost
                continue
            available = self.tokens
            self.tokens = before
            wait = (cost - available) / self.per_second
            raise RateLimited(f"Rate limiting exceeded: {kind} rate limit exceeded: Operation requires {cost} tokens "
                              f"but only {available:.1f} were available. Retry after {math.ceil(np.float32(wait))}s",
                              retry_after=wait)


class RateLimits:
    """The read and write buckets of each collection (held as long as the collection object
    lives); a bucket starts again full when its setting changes, as Qdrant's do."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: weakref.WeakKeyDictionary[Any, dict[str, tuple[StrictModeConfig, RateLimiter]]] = (
            weakref.WeakKeyDictionary())

    def read(self, owner: object, strict: StrictModeConfig, cost: int) -> None:
        if strict.read_rate_limit is not None:
            self._consume(owner, strict, "Read", strict.read_rate_limit, [cost])

    def write(self, owner: object, strict: StrictModeConfig, costs: list[int]) -> None:
        if strict.write_rate_limit is not None and costs:
            self._consume(owner, strict, "Write", strict.write_rate_limit, costs)

    def _consume(self, owner: object, strict: StrictModeConfig, kind: str, per_minute: int, costs: list[int]) -> None:
        with self._lock:
            buckets = self._buckets.setdefault(owner, {})
            held = buckets.get(kind)
            if held is None or held[0] != strict:
                held = (strict, RateLimiter(per_minute, self._clock))
                buckets[kind] = held
            held[1].consume(costs, kind)


class PayloadSizes:
    """Payload bytes of each collection, measured again only after the collection changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: weakref.WeakKeyDictionary[Any, tuple[int, int]] = weakref.WeakKeyDictionary()

    def get(self, owner: object, version: int, measure: Callable[[], int]) -> int:
        with self._lock:
            known = self._known.get(owner)
        if known is not None and known[0] == version:
            return known[1]
        measured = measure()
        with self._lock:
            self._known[owner] = (version, measured)
        return measured


# ---------------------------------------------------------------------------- groups, facets, matrices

# Index types that serve `match` (Qdrant's `supports_match`), and how Qdrant names each kind.
_KIND_NAMES = {"keyword": "Keyword", "integer": "Integer", "float": "Float", "geo": "Geo", "text": "Text",
               "bool": "Bool", "datetime": "Datetime", "uuid": "Uuid"}
_MATCH_CAPABILITIES = {"keyword_match", "int_match", "bool_match", "uuid_match"}


def check_group_by(checker: Checker, group_by: str) -> None:
    """With `unindexed_filtering_retrieve: false`, `group_by` needs an index that serves `match`."""
    if checker.strict.unindexed_filtering_retrieve is not False:
        return
    index = checker._by_path.get(_path(group_by))
    if index is None:
        raise refused(f'Index required but not found for "{group_by}"', "Create an index supporting `match` for this key.")
    if not capabilities(index) & _MATCH_CAPABILITIES:
        raise refused(f'Index of type "{_KIND_NAMES.get(index.type, index.type)}" found for "{group_by}"',
                      "Create an index supporting `match` for this key.")


def check_groups(checker: Checker, request: Any, timeout: int | None, legacy: bool = False) -> None:
    """A grouped query (`GroupsRequest`): the root's full-scan rule (not for the legacy search and
    recommend groups, nor when prefetches are rescored), `group_by`, then `limit · group_size`,
    the filter and the search params; then the timeout. Prefetches are not checked, as in Qdrant."""
    root: Prefetch = request.query.root
    if not legacy and root.query is not None and not root.prefetch:
        checker._full_scan(root)
    check_group_by(checker, request.group_by)
    check_limit(root.limit * request.group_size, checker.strict.max_query_limit, "limit")
    checker._read_filter(root.filter)
    checker._search_params(root.params)
    check_timeout(timeout, checker.strict)


def check_facet(checker: Checker, request: Any, timeout: int | None) -> None:
    """A facet (`FacetRequest`): its limit, filter and `exact`, then the timeout."""
    check_limit(request.limit, checker.strict.max_query_limit, "limit")
    checker._read_filter(request.filter)
    check_exact(request.exact, checker.strict)
    check_timeout(timeout, checker.strict)


def check_matrix(checker: Checker, request: Any, timeout: int | None) -> None:
    """A distance matrix (`MatrixRequest`): `limit · sample`, the filter, then the timeout."""
    check_limit(request.limit * request.sample, checker.strict.max_query_limit, "limit")
    checker._read_filter(request.filter)
    check_timeout(timeout, checker.strict)
