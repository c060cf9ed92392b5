"""Qdrant's success envelope and the JSON forms of results."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from vecinfer.api.rest.convert.vectors import vectors_out
from vecinfer.domain.query import Record, ScoredPoint
from vecinfer.domain.results import Answer, UpdateResult


def envelope(answer: Answer[Any], result: Any) -> web.Response:
    body: dict[str, Any] = {"result": result, "status": "ok", "time": answer.seconds}
    if answer.usage:
        body["usage"] = {"inference": {"models": {m: {"tokens": t} for m, t in answer.usage.items()}}}
    return web.Response(text=json.dumps(body, separators=(",", ":")), content_type="application/json")


def update_result(result: UpdateResult) -> dict[str, Any]:
    return {"operation_id": result.operation_id, "status": result.status}


def record(point: Record) -> dict[str, Any]:
    out: dict[str, Any] = {"id": point.id}
    if point.payload is not None:
        out["payload"] = point.payload
    if point.vectors is not None:
        out["vector"] = vectors_out(point.vectors)
    return out


def scored(point: ScoredPoint) -> dict[str, Any]:
    # Versions are not tracked per point; 0 is what Qdrant gives score-less results too.
    out: dict[str, Any] = {"id": point.id, "version": 0, "score": point.score}
    if point.payload is not None:
        out["payload"] = point.payload
    if point.vectors is not None:
        out["vector"] = vectors_out(point.vectors)
    return out
