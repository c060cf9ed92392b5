"""API keys on the REST door, answered as Qdrant does: 401 in plain text, 403 in the error
envelope for a read-only key that tries to write."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from vecinfer.api.auth import INVALID, MISSING, OPEN_REST_PATHS, READ_ONLY, Access, AccessKeys, is_rest_write
from vecinfer.api.rest.errors import error_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def api_key_middleware(keys: AccessKeys) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_REST_PATHS:
            return await handler(request)
        api_key, authorization = request.headers.get("api-key"), request.headers.get("Authorization")
        if api_key is None and authorization is None:
            return web.Response(status=401, text=MISSING)
        access = keys.check(api_key, authorization)
        if access is None:
            return web.Response(status=401, text=INVALID)
        if access is Access.READ and is_rest_write(request.method, request.path):
            return error_response(403, READ_ONLY, time.perf_counter())
        return await handler(request)

    return middleware
