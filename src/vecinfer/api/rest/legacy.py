"""REST handlers of the legacy search / recommend / discover paths, mapped onto queries: each
answers a bare list of scored points (a list of lists for batches), as Qdrant does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from vecinfer.api.rest import request as req
from vecinfer.api.rest.convert import legacy as convert
from vecinfer.api.rest.json_input import Node
from vecinfer.api.rest.responses import envelope, scored
from vecinfer.domain.query import QueryRequest
from vecinfer.service.points import PointOperations

Handler = Callable[[web.Request], Awaitable[web.Response]]


def add_routes(app: web.Application, points: PointOperations) -> None:
    def one(convert_body: Callable[[Node], QueryRequest]) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            params = req.query_params(request)
            query = convert_body(await req.body(request))
            answer = await points.query(req.context(request, params), request.match_info["name"], query)
            return envelope(answer, [scored(p) for p in answer.result])

        return handler

    def batch(convert_body: Callable[[Node], QueryRequest]) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            params = req.query_params(request)
            queries = convert.batch(await req.body(request), convert_body)
            answer = await points.query_batch(req.context(request, params), request.match_info["name"], queries)
            return envelope(answer, [[scored(p) for p in result] for result in answer.result])

        return handler

    base = "/collections/{name:[^/]+}/points"
    for path, convert_body in (("search", convert.search), ("recommend", convert.recommend),
                               ("discover", convert.discover)):
        app.router.add_post(f"{base}/{path}", one(convert_body))
        app.router.add_post(f"{base}/{path}/batch", batch(convert_body))
