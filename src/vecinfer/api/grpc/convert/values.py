"""JSON payload values and point ids."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.points import PointId, parse_uuid
from vecinfer_proto.qdrant import json_with_int_pb2 as jpb
from vecinfer_proto.qdrant import qdrant_common_pb2 as cpb

_SCALARS = frozenset({"integer_value", "double_value", "string_value", "bool_value"})


def value_to_py(value: jpb.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind in _SCALARS:
        return getattr(value, kind)
    if kind == "struct_value":
        return map_to_py(value.struct_value.fields)
    if kind == "list_value":
        return [value_to_py(v) for v in value.list_value.values]
    return None  # null_value, or no kind set


def map_to_py(fields: Mapping[str, jpb.Value]) -> dict[str, Any]:
    # Iterating keys and indexing is 1.1-1.3x faster on upb maps than `.items()` (a Python
    # ItemsView); most points carry no payload at all (scripts/bench/grpc_path.py micro).
    if not fields:
        return {}
    return {key: value_to_py(fields[key]) for key in fields}


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
