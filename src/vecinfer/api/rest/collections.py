"""REST handlers for collections and payload indexes: JSON in, service call, JSON out."""

from __future__ import annotations

from aiohttp import web

from vecinfer.api.rest import request as req
from vecinfer.api.rest.convert import collections as convert
from vecinfer.api.rest.json_input import Node
from vecinfer.api.rest.responses import envelope, update_result
from vecinfer.domain import points as ops
from vecinfer.service.collections import CollectionOperations
from vecinfer.service.points import PointOperations


def add_routes(app: web.Application, collections: CollectionOperations, points: PointOperations) -> None:
    async def list_collections(request: web.Request) -> web.Response:
        answer = await collections.list(req.context(request, req.query_params(request)))
        return envelope(answer, {"collections": [{"name": name} for name in answer.result]})

    async def get(request: web.Request) -> web.Response:
        answer = await collections.get(req.context(request, req.query_params(request)), request.match_info["name"])
        return envelope(answer, convert.info_out(answer.result))

    async def exists(request: web.Request) -> web.Response:
        answer = await collections.exists(req.context(request, req.query_params(request)), request.match_info["name"])
        return envelope(answer, {"exists": answer.result})

    async def create(request: web.Request) -> web.Response:
        params = req.query_params(request)
        body = await req.optional_body(request)
        config = convert.collection_config(body if body is not None else Node({}))
        answer = await collections.create(req.context(request, params), request.match_info["name"], config)
        return envelope(answer, answer.result)

    async def update(request: web.Request) -> web.Response:
        params = req.query_params(request)
        update = convert.collection_update(await req.body(request))
        answer = await collections.update(req.context(request, params), request.match_info["name"], update)
        return envelope(answer, answer.result)

    async def delete(request: web.Request) -> web.Response:
        answer = await collections.delete(req.context(request, req.query_params(request)), request.match_info["name"])
        return envelope(answer, answer.result)

    async def create_index(request: web.Request) -> web.Response:
        params = req.query_params(request)
        field, kind, index_params = convert.field_index(await req.body(request))
        answer = await points.create_field_index(req.context(request, params), request.match_info["name"],
                                                 ops.CreateFieldIndex(field, kind, index_params), params.wait)
        return envelope(answer, update_result(answer.result))

    async def delete_index(request: web.Request) -> web.Response:
        params = req.query_params(request)
        answer = await points.delete_field_index(req.context(request, params), request.match_info["name"],
                                                 ops.DeleteFieldIndex(request.match_info["field"]), params.wait)
        return envelope(answer, update_result(answer.result))

    async def update_aliases(request: web.Request) -> web.Response:
        params = req.query_params(request)
        actions = convert.alias_actions(await req.body(request))
        answer = await collections.update_aliases(req.context(request, params), actions)
        return envelope(answer, answer.result)

    async def list_aliases(request: web.Request) -> web.Response:
        answer = await collections.aliases(req.context(request, req.query_params(request)),
                                           request.match_info.get("name"))
        return envelope(answer, {"aliases": [{"alias_name": alias, "collection_name": collection}
                                             for alias, collection in answer.result]})

    app.router.add_post("/collections/aliases", update_aliases)
    app.router.add_get("/aliases", list_aliases)
    app.router.add_get("/collections/{name:[^/]+}/aliases", list_aliases)
    app.router.add_get("/collections", list_collections)
    app.router.add_get("/collections/{name:[^/]+}", get)
    app.router.add_put("/collections/{name:[^/]+}", create)
    app.router.add_patch("/collections/{name:[^/]+}", update)
    app.router.add_delete("/collections/{name:[^/]+}", delete)
    app.router.add_get("/collections/{name:[^/]+}/exists", exists)
    app.router.add_put("/collections/{name:[^/]+}/index", create_index)
    app.router.add_delete("/collections/{name:[^/]+}/index/{field:[^/]+}", delete_index)
