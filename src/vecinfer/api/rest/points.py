"""REST handlers for points: writes, reads and queries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from vecinfer.api.rest import request as req
from vecinfer.api.rest.convert import queries, writes
from vecinfer.api.rest.convert.filters import optional_filter
from vecinfer.api.rest.convert.values import payload_selector, point_id, point_id_in_path, point_ids, vector_selector
from vecinfer.api.rest.json_input import Node
from vecinfer.api.rest.responses import envelope, record, scored, update_result
from vecinfer.domain.errors import Unimplemented
from vecinfer.domain.query import ScrollRequest
from vecinfer.domain.results import Answer, UpdateResult
from vecinfer.service.context import RequestContext
from vecinfer.service.points import PointOperations

Handler = Callable[[web.Request], Awaitable[web.Response]]


def _write(parse: Callable[[Node], Any],
           run: Callable[[RequestContext, str, Any, bool], Awaitable[Answer[UpdateResult]]]) -> Handler:
    """A handler for one write operation: parse the body, run it, answer an UpdateResult."""

    async def handler(request: web.Request) -> web.Response:
        params = req.query_params(request)
        operation = parse(await req.body(request))
        answer = await run(req.context(request, params), request.match_info["name"], operation, params.wait)
        return envelope(answer, update_result(answer.result))

    return handler


def add_routes(app: web.Application, points: PointOperations) -> None:
    async def update_batch(request: web.Request) -> web.Response:
        params = req.query_params(request)
        operations = writes.update_batch(await req.body(request))
        answer = await points.update_batch(req.context(request, params), request.match_info["name"], operations,
                                           params.wait)
        return envelope(answer, [update_result(r) for r in answer.result])

    async def retrieve(request: web.Request) -> web.Response:
        params = req.query_params(request)
        fields = (await req.body(request)).fields({"ids", "with_payload", "with_vector", "with_vectors", "shard_key"})
        if fields.has("shard_key"):
            raise Unimplemented("`shard_key` (custom sharding)")
        answer = await points.retrieve(
            req.context(request, params), request.match_info["name"], point_ids(fields.require("ids")),
            payload_selector(fields.get("with_payload"), default=False),
            vector_selector(fields.get("with_vector", "with_vectors")),
        )
        return envelope(answer, [record(r) for r in answer.result])

    async def get_point(request: web.Request) -> web.Response:
        params = req.query_params(request)
        answer = await points.get_point(req.context(request, params), request.match_info["name"],
                                        point_id_in_path(request.match_info["id"]))
        return envelope(answer, record(answer.result))

    async def scroll(request: web.Request) -> web.Response:
        params = req.query_params(request)
        body = await req.optional_body(request)
        fields = (body or Node({})).fields({"offset", "limit", "filter", "with_payload", "with_vector",
                                            "with_vectors", "order_by", "shard_key"}, "a scroll request object")
        if fields.has("shard_key"):
            raise Unimplemented("`shard_key` (custom sharding)")
        offset, limit = fields.get("offset"), fields.get("limit")
        scroll_request = ScrollRequest(
            filter=optional_filter(fields.get("filter")),
            offset=None if offset is None else point_id(offset),
            limit=10 if limit is None else limit.integer(),
            with_payload=payload_selector(fields.get("with_payload"), default=True),
            with_vectors=vector_selector(fields.get("with_vector", "with_vectors")),
            order_by=None if (order := fields.get("order_by")) is None else queries.order_by(order),
        )
        answer = await points.scroll(req.context(request, params), request.match_info["name"], scroll_request)
        page = answer.result
        return envelope(answer, {"points": [record(r) for r in page.points], "next_page_offset": page.next_page_offset})

    async def count(request: web.Request) -> web.Response:
        params = req.query_params(request)
        body = await req.optional_body(request)
        fields = (body or Node({})).fields({"filter", "exact", "shard_key"}, "a count request object")
        if fields.has("shard_key"):
            raise Unimplemented("`shard_key` (custom sharding)")
        exact = fields.get("exact")
        answer = await points.count(req.context(request, params), request.match_info["name"],
                                    optional_filter(fields.get("filter")),
                                    exact=True if exact is None else exact.boolean())
        return envelope(answer, {"count": answer.result})

    async def query(request: web.Request) -> web.Response:
        params = req.query_params(request)
        query_request = queries.query_request(await req.body(request))
        answer = await points.query(req.context(request, params), request.match_info["name"], query_request)
        return envelope(answer, {"points": [scored(p) for p in answer.result]})

    async def query_batch(request: web.Request) -> web.Response:
        params = req.query_params(request)
        requests = queries.query_batch(await req.body(request))
        answer = await points.query_batch(req.context(request, params), request.match_info["name"], requests)
        return envelope(answer, [{"points": [scored(p) for p in result]} for result in answer.result])

    base = "/collections/{name:[^/]+}/points"
    app.router.add_put(base, _write(writes.upsert, points.upsert))
    app.router.add_post(base, retrieve)
    app.router.add_post(f"{base}/delete", _write(writes.delete_points, points.delete))
    app.router.add_put(f"{base}/vectors", _write(writes.update_vectors, points.update_vectors))
    app.router.add_post(f"{base}/vectors/delete", _write(writes.delete_vectors, points.delete_vectors))
    app.router.add_post(f"{base}/payload", _write(writes.set_payload, points.set_payload))
    app.router.add_put(f"{base}/payload", _write(writes.overwrite_payload, points.overwrite_payload))
    app.router.add_post(f"{base}/payload/delete", _write(writes.delete_payload, points.delete_payload))
    app.router.add_post(f"{base}/payload/clear", _write(writes.clear_payload, points.clear_payload))
    app.router.add_post(f"{base}/batch", update_batch)
    app.router.add_post(f"{base}/scroll", scroll)
    app.router.add_post(f"{base}/count", count)
    app.router.add_post(f"{base}/query", query)
    app.router.add_post(f"{base}/query/batch", query_batch)
    app.router.add_get(base + "/{id:[^/]+}", get_point)
