"""Filling response messages shared by several servicers: scored points, records and usage."""

from __future__ import annotations

from typing import Any

from vecinfer.api.grpc.convert.values import fill_map, point_id_to
from vecinfer.api.grpc.convert.vectors import vectors_to
from vecinfer.domain.query import Record, ScoredPoint
from vecinfer.domain.results import cache_hits


def fill_usage(usage: dict[str, int], response: Any) -> None:
    hits = cache_hits(usage)
    for model, tokens in usage.items():
        response.usage.inference.models[model].tokens = tokens
        if model in hits:
            response.usage.inference.models[model].cache_hits = hits[model]


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
        _fill_order_value(point.order_value, item)


def _fill_order_value(value: int | float | None, out: Any) -> None:
    if isinstance(value, int):
        out.order_value.int = value
    elif value is not None:
        out.order_value.float = value


def fill_record(record: Record, out: Any) -> None:
    """One RetrievedPoint."""
    point_id_to(record.id, out.id)
    if record.payload:
        fill_map(record.payload, out.payload)
    if record.vectors is not None:
        vectors_to(record.vectors, out.vectors)
    _fill_order_value(record.order_value, out)
