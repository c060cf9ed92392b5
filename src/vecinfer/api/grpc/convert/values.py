"""JSON payload values and point ids."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.points import PointId, parse_uuid
from vecinfer_proto.qdrant import json_with_int_pb2 as jpb
from vecinfer_proto.qdrant import qdrant_common_pb2 as cpb


def value_to_py(value: jpb.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "struct_value":
        return map_to_py(value.struct_value.fields)
    if kind == "list_value":
        return [value_to_py(v) for v in value.list_value.values]
    return getattr(value, kind)


def map_to_py(fields: Mapping[str, jpb.Value]) -> dict[str, Any]:
    return {key: value_to_py(v) for key, v in fields.items()}


def py_to_value(obj: Any, out: jpb.Value) -> None:
    # bool before int: bool is a subclass of int in Python.
    if obj is None:
        out.null_value = jpb.NULL_VALUE
    elif isinstance(obj, bool):
        out.bool_value = obj
    elif isinstance(obj, int):
        out.integer_value = obj
    elif isinstance(obj, float):
        out.double_value = obj
    elif isinstance(obj, str):
        out.string_value = obj
    elif isinstance(obj, dict):
        out.struct_value.SetInParent()
        fill_map(obj, out.struct_value.fields)
    elif isinstance(obj, list):
        out.list_value.SetInParent()
        for item in obj:
            py_to_value(item, out.list_value.values.add())
    else:
        raise TypeError(f"cannot encode {type(obj).__name__} as a payload value")


def fill_map(obj: dict[str, Any], fields: Any) -> None:
    for key, item in obj.items():
        py_to_value(item, fields[key])


def point_id_from(pid: cpb.PointId, field: str = "id") -> PointId:
    kind = pid.WhichOneof("point_id_options")
    if kind == "num":
        return pid.num
    if kind == "uuid":
        return parse_uuid(pid.uuid)
    raise InvalidArgument(f"Empty ID is not allowed: set `{field}` to an unsigned integer or a UUID")


def point_id_to(point_id: PointId, out: cpb.PointId) -> None:
    if isinstance(point_id, int):
        out.num = point_id
    else:
        out.uuid = point_id
