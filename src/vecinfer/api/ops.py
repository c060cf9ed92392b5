"""Operations endpoints on the REST port, as Qdrant has them: liveness, readiness, metrics."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vecinfer import metrics
from vecinfer.service.core import ModelService


def add_routes(app: web.Application, service: ModelService) -> None:
    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="healthz check passed")

    async def livez(request: web.Request) -> web.Response:
        return web.Response(text="livez check passed")

    async def readyz(request: web.Request) -> web.Response:
        # Storage is loaded before the port opens; models are warm once warm_up has run.
        ready, text = service.readiness()
        return web.Response(status=200 if ready else 503, text=text)

    async def metrics_page(request: web.Request) -> web.Response:
        body = generate_latest(metrics.REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
