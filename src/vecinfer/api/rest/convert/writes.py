"""Point write bodies in JSON -> domain operations."""

from __future__ import annotations

from collections.abc import Callable

from vecinfer.api.rest.convert.filters import filter_from, optional_filter
from vecinfer.api.rest.convert.values import payload, point_id, point_ids
from vecinfer.api.rest.convert.vectors import batch_vectors, vector_struct
from vecinfer.api.rest.json_input import Fields, JsonFormatError, Node
from vecinfer.domain import filters as f
from vecinfer.domain import points as ops
from vecinfer.domain.errors import InvalidArgument, Unimplemented, clip

_MODES = ("upsert", "insert_only", "update_only")
_SELECTOR_KEYS = {"points", "filter", "shard_key"}


def _no_shard_key(fields: Fields) -> None:
    if fields.has("shard_key"):
        raise Unimplemented("`shard_key` (custom sharding)")


def _selection(fields: Fields) -> ops.PointsSelector:
    """`points` and/or `filter`: with both, the listed points that also match the filter."""
    ids_node, filter_node = fields.get("points"), fields.get("filter")
    if ids_node is None and filter_node is None:
        raise InvalidArgument("Bad request: Either list of point ids or filter must be provided")
    if filter_node is None:
        assert ids_node is not None
        return ops.PointsSelector(ids=tuple(point_ids(ids_node)))
    flt = filter_from(filter_node)
    if ids_node is not None:
        flt = f.Filter(must=(f.HasId(frozenset(point_ids(ids_node))), flt))
    return ops.PointsSelector(filter=flt)


def points_selector(node: Node) -> ops.PointsSelector:
    fields = node.fields(_SELECTOR_KEYS, "{\"points\": [ids]} or {\"filter\": {...}}")
    _no_shard_key(fields)
    if fields.has("points") and fields.has("filter"):
        node.fail("either `points` or `filter`, not both")
    return _selection(fields)


def _point(node: Node) -> ops.Point:
    fields = node.fields({"id", "vector", "vectors", "payload"}, "a point {\"id\", \"vector\", \"payload\"}")
    vectors = fields.get("vector", "vectors")
    if vectors is None:
        raise JsonFormatError(node.path, "missing field `vector`")
    return ops.Point(point_id(fields.require("id")), vector_struct(vectors), payload(fields.get("payload")))


def _mode(fields: Fields) -> str:
    node = fields.get("update_mode")
    if node is None:
        return "upsert"
    if node.value not in _MODES:
        node.fail(" or ".join(f'"{m}"' for m in _MODES))
    return str(node.value)


def upsert(node: Node) -> ops.Upsert:
    if not node.is_object or not ({"points", "batch"} & set(node.value)):
        raise JsonFormatError(node.path, "Invalid PointInsertOperations format: send {\"points\": [...]} or "
                                         "{\"batch\": {\"ids\", \"vectors\", \"payloads\"}}")
    fields = node.fields({"points", "batch", "shard_key", "update_filter", "update_mode"})
    _no_shard_key(fields)
    update_filter = optional_filter(fields.get("update_filter"))
    batch = fields.get("batch")
    if batch is not None:
        if fields.has("points"):
            node.fail("either `points` or `batch`, not both")
        return ops.Upsert(_batch_points(batch), update_filter, _mode(fields))
    return ops.Upsert([_point(p) for p in fields.require("points").items()], update_filter, _mode(fields))


def _batch_points(node: Node) -> list[ops.Point]:
    fields = node.fields({"ids", "vectors", "payloads"}, "a batch {\"ids\", \"vectors\", \"payloads\"}")
    ids = point_ids(fields.require("ids"))
    vectors = batch_vectors(fields.require("vectors"), len(ids))
    payloads_node = fields.get("payloads")
    payloads = [{} for _ in ids] if payloads_node is None else [payload(None if p.is_null else p) for p in payloads_node.items()]
    if len(payloads) != len(ids):
        assert payloads_node is not None
        payloads_node.invalid(f"has {len(payloads)} payloads for {len(ids)} ids: give one per id (or null)")
    return [ops.Point(i, v, p) for i, v, p in zip(ids, vectors, payloads)]


def update_vectors(node: Node) -> ops.UpdateVectors:
    fields = node.fields({"points", "shard_key", "update_filter"})
    _no_shard_key(fields)
    points = []
    for item in fields.require("points").items():
        point = item.fields({"id", "vector", "vectors"}, "a point {\"id\", \"vector\"}")
        vectors = point.get("vector", "vectors")
        if vectors is None:
            raise JsonFormatError(item.path, "missing field `vector`")
        points.append(ops.PointVectors(point_id(point.require("id")), vector_struct(vectors)))
    if not points:
        fields.require("points").invalid("must hold at least one point")
    return ops.UpdateVectors(points, optional_filter(fields.get("update_filter")))


def delete_vectors(node: Node) -> ops.DeleteVectors:
    fields = node.fields({"vector", "vectors", "points", "filter", "shard_key"})
    _no_shard_key(fields)
    names_node = fields.get("vector", "vectors")
    if names_node is None:
        raise JsonFormatError(node.path, "missing field `vector` (the names of the vectors to delete)")
    return ops.DeleteVectors(_selection(fields), [n.string() for n in names_node.items()])


def set_payload(node: Node) -> ops.SetPayload:
    fields = node.fields({"payload", "points", "filter", "key", "shard_key"})
    _no_shard_key(fields)
    key = fields.get("key")
    return ops.SetPayload(_selection(fields), payload(fields.require("payload")), None if key is None else key.string())


def overwrite_payload(node: Node) -> ops.OverwritePayload:
    fields = node.fields({"payload", "points", "filter", "key", "shard_key"})
    _no_shard_key(fields)
    key = fields.get("key")
    return ops.OverwritePayload(_selection(fields), payload(fields.require("payload")),
                                None if key is None else key.string())


def delete_payload(node: Node) -> ops.DeletePayload:
    fields = node.fields({"keys", "points", "filter", "shard_key"})
    _no_shard_key(fields)
    return ops.DeletePayload(_selection(fields), [k.string() for k in fields.require("keys").items()])


def clear_payload(node: Node) -> ops.ClearPayload:
    return ops.ClearPayload(points_selector(node))


def delete_points(node: Node) -> ops.DeletePoints:
    return ops.DeletePoints(points_selector(node))


_BATCH_OPERATIONS: dict[str, Callable[[Node], ops.CollectionOperation]] = {
    "upsert": upsert, "delete": delete_points, "set_payload": set_payload, "overwrite_payload": overwrite_payload,
    "delete_payload": delete_payload, "clear_payload": clear_payload, "update_vectors": update_vectors,
    "delete_vectors": delete_vectors,
}


def update_batch(node: Node) -> list[ops.CollectionOperation]:
    fields = node.fields({"operations"})
    out: list[ops.CollectionOperation] = []
    for item in fields.require("operations").items():
        if not item.is_object or len(item.value) != 1:
            item.fail(f"an operation object with one key: {', '.join(_BATCH_OPERATIONS)}")
        (kind, body), = item.entries()
        parse = _BATCH_OPERATIONS.get(kind)
        if parse is None:
            raise JsonFormatError(item.path, f"unknown operation `{clip(kind)}`, expected one of: {', '.join(_BATCH_OPERATIONS)}")
        out.append(parse(body))
    return out
