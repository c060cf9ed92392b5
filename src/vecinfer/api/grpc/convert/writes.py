"""Write requests -> domain operations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vecinfer.api.grpc.convert.filters import filter_from, optional_filter
from vecinfer.api.grpc.convert.values import map_to_py, point_id_from
from vecinfer.api.grpc.convert.vectors import vectors_from
from vecinfer.domain import points as ops
from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.filters import Filter
from vecinfer_proto.qdrant import points_pb2 as pb

_MODES = {pb.Upsert: "upsert", pb.InsertOnly: "insert_only", pb.UpdateOnly: "update_only"}


def selector_from(msg: pb.PointsSelector, field: str) -> ops.PointsSelector:
    kind = msg.WhichOneof("points_selector_one_of")
    if kind == "points":
        return ops.PointsSelector(ids=tuple(point_id_from(p, f"{field}.points.ids") for p in msg.points.ids))
    if kind == "filter":
        return ops.PointsSelector(filter=filter_from(msg.filter))
    raise InvalidArgument(f"`{field}` is empty: select points by `points` (ids) or by `filter`")


def _optional_selector(parent: Any, field: str) -> ops.PointsSelector:
    if not parent.HasField(field):
        raise InvalidArgument(f"`{field}` is missing: select points by ids or by filter")
    return selector_from(getattr(parent, field), field)


def point_from(msg: pb.PointStruct, index: int) -> ops.Point:
    if not msg.HasField("id"):
        raise InvalidArgument(f"Empty ID is not allowed: points[{index}].id is missing")
    if not msg.HasField("vectors"):
        raise InvalidArgument(f"Expected some vectors: points[{index}] has none")
    return ops.Point(point_id_from(msg.id, f"points[{index}].id"), vectors_from(msg.vectors), map_to_py(msg.payload))


def upsert_from(points: Iterable[pb.PointStruct], update_filter: Filter | None = None,
                mode: str = "upsert") -> ops.Upsert:
    return ops.Upsert([point_from(p, i) for i, p in enumerate(points)], update_filter, mode)


def point_vectors_from(points: Iterable[pb.PointVectors]) -> list[ops.PointVectors]:
    out: list[ops.PointVectors] = []
    for i, p in enumerate(points):
        if not p.HasField("id"):
            raise InvalidArgument(f"Empty ID is not allowed: points[{i}].id is missing")
        out.append(ops.PointVectors(point_id_from(p.id, f"points[{i}].id"), vectors_from(p.vectors)))
    return out


def upsert_request(msg: pb.UpsertPoints) -> ops.Upsert:
    mode = _MODES.get(msg.update_mode, "upsert") if msg.HasField("update_mode") else "upsert"
    return upsert_from(msg.points, optional_filter(msg, "update_filter"), mode)


def delete_request(msg: pb.DeletePoints) -> ops.DeletePoints:
    return ops.DeletePoints(_optional_selector(msg, "points"))


def update_vectors_request(msg: pb.UpdatePointVectors) -> ops.UpdateVectors:
    return ops.UpdateVectors(point_vectors_from(msg.points), optional_filter(msg, "update_filter"))


def delete_vectors_request(msg: pb.DeletePointVectors) -> ops.DeleteVectors:
    return ops.DeleteVectors(_optional_selector(msg, "points_selector"), list(msg.vectors.names))


def set_payload_request(msg: pb.SetPayloadPoints) -> ops.SetPayload:
    return ops.SetPayload(_optional_selector(msg, "points_selector"), map_to_py(msg.payload),
                          msg.key if msg.HasField("key") else None)


def overwrite_payload_request(msg: pb.SetPayloadPoints) -> ops.OverwritePayload:
    return ops.OverwritePayload(_optional_selector(msg, "points_selector"), map_to_py(msg.payload),
                                msg.key if msg.HasField("key") else None)


def delete_payload_request(msg: pb.DeletePayloadPoints) -> ops.DeletePayload:
    return ops.DeletePayload(_optional_selector(msg, "points_selector"), list(msg.keys))


def clear_payload_request(msg: pb.ClearPayloadPoints) -> ops.ClearPayload:
    return ops.ClearPayload(_optional_selector(msg, "points"))


def batch_operation(msg: pb.PointsUpdateOperation, index: int) -> ops.CollectionOperation:
    kind = msg.WhichOneof("operation")
    if kind == "upsert":
        mode = _MODES.get(msg.upsert.update_mode, "upsert") if msg.upsert.HasField("update_mode") else "upsert"
        return upsert_from(msg.upsert.points, optional_filter(msg.upsert, "update_filter"), mode)
    if kind == "delete_deprecated":
        return ops.DeletePoints(selector_from(msg.delete_deprecated, f"operations[{index}].delete"))
    if kind == "delete_points":
        return ops.DeletePoints(_optional_selector(msg.delete_points, "points"))
    if kind == "set_payload":
        return set_payload_request(msg.set_payload)
    if kind == "overwrite_payload":
        return overwrite_payload_request(msg.overwrite_payload)
    if kind == "delete_payload":
        return delete_payload_request(msg.delete_payload)
    if kind == "clear_payload_deprecated":
        return ops.ClearPayload(selector_from(msg.clear_payload_deprecated, f"operations[{index}].clear_payload"))
    if kind == "clear_payload":
        return clear_payload_request(msg.clear_payload)
    if kind == "update_vectors":
        return ops.UpdateVectors(point_vectors_from(msg.update_vectors.points),
                                 optional_filter(msg.update_vectors, "update_filter"))
    if kind == "delete_vectors":
        return delete_vectors_request(msg.delete_vectors)
    raise InvalidArgument(f"operations[{index}] is empty: set one of upsert, delete_points, set_payload, ...")
