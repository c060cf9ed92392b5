"""REST handlers for grouped queries, facets and distance matrices."""

from __future__ import annotations

from aiohttp import web

from vecinfer.service.points import PointOperations


def add_routes(app: web.Application, points: PointOperations) -> None:
    pass
