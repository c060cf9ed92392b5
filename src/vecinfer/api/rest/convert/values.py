"""Point ids, payloads and selectors in JSON."""

from __future__ import annotations

import uuid
from typing import Any

from vecinfer.api.rest.json_input import JsonFormatError, Node
from vecinfer.domain.errors import clip
from vecinfer.domain.points import PointId
from vecinfer.domain.query import PayloadSelector, VectorSelector

U64_MAX = (1 << 64) - 1


def _bad_id(node: Node) -> JsonFormatError:
    shown = clip(node.value) if isinstance(node.value, str) else clip(repr(node.value))
    return JsonFormatError(
        node.path, f'value "{shown}" is not a valid point ID, valid values are either an unsigned integer or a UUID'
    )


def point_id(node: Node) -> PointId:
    value = node.value
    if node.is_integer:
        if 0 <= value <= U64_MAX:
            return int(value)
        raise _bad_id(node)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise _bad_id(node) from None
    raise _bad_id(node)


def point_id_in_path(text: str) -> PointId:
    """Path ids may also be numeric strings (`/points/7`)."""
    if text.isascii() and text.isdigit() and int(text) <= U64_MAX:
        return int(text)
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise JsonFormatError(
            "id", f'value "{clip(text)}" is not a valid point ID, valid values are either an unsigned integer or a UUID'
        ) from None


def point_ids(node: Node) -> list[PointId]:
    return [point_id(item) for item in node.items("a list of point ids")]


def payload(node: Node | None) -> dict[str, Any]:
    if node is None:
        return {}
    if not node.is_object:
        node.fail("a payload object")
    return dict(node.value)


def payload_selector(node: Node | None, default: bool) -> PayloadSelector:
    if node is None:
        return PayloadSelector(enable=default)
    if isinstance(node.value, bool):
        return PayloadSelector(enable=node.value)
    if node.is_list:
        return PayloadSelector(include=tuple(item.string() for item in node.items()))
    if node.is_object:
        fields = node.fields({"include", "exclude"}, "true, false, a list of keys, or {include} / {exclude}")
        include, exclude = fields.get("include"), fields.get("exclude")
        if include is not None and exclude is None:
            return PayloadSelector(include=tuple(item.string() for item in include.items()))
        if exclude is not None and include is None:
            return PayloadSelector(enable=True, exclude=tuple(item.string() for item in exclude.items()))
    node.fail("true, false, a list of keys, {\"include\": [...]} or {\"exclude\": [...]}")


def vector_selector(node: Node | None) -> VectorSelector:
    if node is None:
        return VectorSelector()
    if isinstance(node.value, bool):
        return VectorSelector(enable=node.value)
    if node.is_list:
        return VectorSelector(names=tuple(item.string() for item in node.items()))
    node.fail("true, false or a list of vector names")
