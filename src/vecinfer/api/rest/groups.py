"""REST handlers for grouped queries, facets and distance matrices."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from vecinfer.api.rest import request as req
from vecinfer.api.rest.convert import groups as convert
from vecinfer.api.rest.json_input import Node
from vecinfer.api.rest.responses import envelope
from vecinfer.domain.results import Answer
from vecinfer.service.context import RequestContext
from vecinfer.service.points import PointOperations

Handler = Callable[[web.Request], Awaitable[web.Response]]


def _read(parse: Callable[[Node], Any], run: Callable[[RequestContext, str, Any], Awaitable[Answer[Any]]],
          out: Callable[[Any], Any], body_required: bool = True) -> Handler:
    """A handler for one read: parse the body, run it, answer its result in the envelope."""

    async def handler(request: web.Request) -> web.Response:
        params = req.query_params(request)
        body = await req.body(request) if body_required else (await req.optional_body(request) or Node({}))
        answer = await run(req.context(request, params), request.match_info["name"], parse(body))
        return envelope(answer, out(answer.result))

    return handler


def add_routes(app: web.Application, points: PointOperations) -> None:
    base = "/collections/{name:[^/]+}"
    app.router.add_post(f"{base}/points/query/groups",
                        _read(convert.query_groups, points.query_groups, convert.groups_out))
    app.router.add_post(f"{base}/points/search/groups",
                        _read(convert.search_groups, points.search_groups, convert.groups_out))
    app.router.add_post(f"{base}/points/recommend/groups",
                        _read(convert.recommend_groups, points.recommend_groups, convert.groups_out))
    app.router.add_post(f"{base}/facet", _read(convert.facet, points.facet, convert.facet_out))
    app.router.add_post(f"{base}/points/search/matrix/pairs",
                        _read(convert.matrix, points.search_matrix_pairs, convert.pairs_out, body_required=False))
    app.router.add_post(f"{base}/points/search/matrix/offsets",
                        _read(convert.matrix, points.search_matrix_offsets, convert.offsets_out, body_required=False))
