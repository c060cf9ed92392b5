"""Filling response messages shared by several servicers: scored points and inference usage."""

from __future__ import annotations

from typing import Any

from vecinfer.api.grpc.convert.values import fill_map
from vecinfer.api.grpc.convert.vectors import vectors_to
from vecinfer.domain.query import ScoredPoint


def fill_usage(usage: dict[str, int], response: Any) -> None:
    for model, tokens in usage.items():
        response.usage.inference.models[model].tokens = tokens


def fill_scored(scored: list[ScoredPoint], out: Any) -> None:
    """Append `scored` to a repeated ScoredPoint field."""
    add = out.add
    for point in scored:
        item = add()
        # The id inline (as point_id_to does): this loop runs for every hit of every query.
        if isinstance(point.id, int):
            item.id.num = point.id
        else:
            item.id.uuid = point.id
        item.score = point.score
        if point.payload:
            fill_map(point.payload, item.payload)
        if point.vectors is not None:
            vectors_to(point.vectors, item.vectors)
        if isinstance(point.order_value, int):
            item.order_value.int = point.order_value
        elif point.order_value is not None:
            item.order_value.float = point.order_value
