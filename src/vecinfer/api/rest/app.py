"""The REST door: Qdrant's HTTP API on the service core."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from vecinfer import API_VERSION, TITLE, __version__
from vecinfer.api.auth import AccessKeys
from vecinfer.api.rest import collections, groups, legacy, points, snapshots
from vecinfer.api.rest.auth import api_key_middleware
from vecinfer.api.rest.errors import error_middleware
from vecinfer.domain.errors import Unimplemented
from vecinfer.service.core import Service

# Qdrant paths vecinfer does not serve yet: answered 501 naming the feature, not 404. A path
# that a door module serves is skipped.
_NOT_YET: tuple[tuple[str, str, str], ...] = (
    ("POST", "/collections/{name:[^/]+}/points/query/groups", "grouped queries (`query/groups`)"),
    ("POST", "/collections/{name:[^/]+}/points/search", "the legacy `search` API (use `points/query`)"),
    ("POST", "/collections/{name:[^/]+}/points/search/batch", "the legacy `search/batch` API (use `points/query/batch`)"),
    ("POST", "/collections/{name:[^/]+}/points/search/groups", "the legacy `search/groups` API"),
    ("POST", "/collections/{name:[^/]+}/points/search/matrix/pairs", "distance matrices (`search/matrix/pairs`)"),
    ("POST", "/collections/{name:[^/]+}/points/search/matrix/offsets", "distance matrices (`search/matrix/offsets`)"),
    ("POST", "/collections/{name:[^/]+}/points/recommend", "the legacy `recommend` API"),
    ("POST", "/collections/{name:[^/]+}/points/recommend/batch", "the legacy `recommend/batch` API"),
    ("POST", "/collections/{name:[^/]+}/points/recommend/groups", "the legacy `recommend/groups` API"),
    ("POST", "/collections/{name:[^/]+}/points/discover", "the legacy `discover` API"),
    ("POST", "/collections/{name:[^/]+}/points/discover/batch", "the legacy `discover/batch` API"),
    ("POST", "/collections/{name:[^/]+}/facet", "facets"),
    ("GET", "/telemetry", "telemetry"),
    ("*", "/cluster", "cluster operations"),
    ("*", "/cluster/{rest:.*}", "cluster operations"),
    ("*", "/collections/{name:[^/]+}/cluster", "cluster operations"),
    ("*", "/collections/{name:[^/]+}/shards", "shard keys"),
)


def _not_yet(feature: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        raise Unimplemented(feature)

    return handler


async def _root(request: web.Request) -> web.Response:
    return web.json_response({"title": TITLE, "version": API_VERSION, "vecinfer_version": __version__})


def build_app(service: Service, max_request_bytes: int, keys: AccessKeys) -> web.Application:
    middlewares: list[Middleware] = [error_middleware]
    if keys.enabled:
        middlewares.insert(0, api_key_middleware(keys))
    app = web.Application(middlewares=middlewares, client_max_size=max_request_bytes)
    app.router.add_get("/", _root)
    collections.add_routes(app, service.collections, service.points)
    points.add_routes(app, service.points)
    legacy.add_routes(app, service.points)
    groups.add_routes(app, service.points)
    snapshots.add_routes(app, service.snapshots)
    served = {(route.method, route.resource.canonical) for route in app.router.routes() if route.resource is not None}
    for method, path, feature in _NOT_YET:
        if (method, re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)) not in served:  # served above: skipped
            app.router.add_route(method, path, _not_yet(feature))
    return app
