"""Qdrant's success envelope and the JSON forms of results."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from aiohttp import web

from vecinfer.api.rest.convert.vectors import vectors_out
from vecinfer.domain.query import Record, ScoredPoint
from vecinfer.domain.results import Answer, UpdateResult, cache_hits

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _finite(score: float) -> float:
    """Scores that overflowed float32 are clamped: JSON has no infinity."""
    if math.isnan(score):
        return 0.0
    return max(-_FLOAT32_MAX, min(_FLOAT32_MAX, score))


def envelope(answer: Answer[Any], result: Any) -> web.Response:
    body: dict[str, Any] = {"result": result, "status": "ok", "time": answer.seconds}
    if answer.usage:
        hits = cache_hits(answer.usage)
        body["usage"] = {"inference": {"models": {
            m: {"tokens": t, "cache_hits": hits[m]} if m in hits else {"tokens": t} for m, t in answer.usage.items()}}}
    return web.Response(text=json.dumps(body, separators=(",", ":")), content_type="application/json")


def update_result(result: UpdateResult) -> dict[str, Any]:
    return {"operation_id": result.operation_id, "status": result.status}


def record(point: Record) -> dict[str, Any]:
    out: dict[str, Any] = {"id": point.id}
    if point.payload is not None:
        out["payload"] = point.payload
    if point.vectors is not None:
        out["vector"] = vectors_out(point.vectors)
    if point.order_value is not None:
        out["order_value"] = point.order_value
    return out


def scored(point: ScoredPoint) -> dict[str, Any]:
    # Versions are not tracked per point; 0 is what Qdrant gives score-less results too.
    out: dict[str, Any] = {"id": point.id, "version": 0, "score": _finite(point.score)}
    if point.payload is not None:
        out["payload"] = point.payload
    if point.vectors is not None:
        out["vector"] = vectors_out(point.vectors)
    if point.order_value is not None:
        out["order_value"] = point.order_value
    return out
