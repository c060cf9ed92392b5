"""Server assembly: gRPC services, reflection, health, the REST root, graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal

import grpc
from aiohttp import web
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from vecinfer import __version__
from vecinfer.api.collections import CollectionsService
from vecinfer.api.health import API_VERSION, TITLE, QdrantService
from vecinfer.api.points import PointsService
from vecinfer.config import Settings
from vecinfer.inference.http import HttpClients
from vecinfer.inference.loading import build_registry
from vecinfer.inference.resolver import Resolver
from vecinfer.storage.catalog import Catalog
from vecinfer_proto.qdrant import (
    collections_service_pb2, collections_service_pb2_grpc, points_service_pb2,
    points_service_pb2_grpc, qdrant_pb2, qdrant_pb2_grpc,
)

log = logging.getLogger("vecinfer")

SERVICE_NAMES = (
    qdrant_pb2.DESCRIPTOR.services_by_name["Qdrant"].full_name,
    collections_service_pb2.DESCRIPTOR.services_by_name["Collections"].full_name,
    points_service_pb2.DESCRIPTOR.services_by_name["Points"].full_name,
    health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
    reflection.SERVICE_NAME,
)

_GRPC_OPTIONS = [
    # Batches of points with large vectors exceed grpcio's 4 MiB default.
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
]


async def _rest_root(request: web.Request) -> web.Response:
    return web.json_response({"title": TITLE, "version": API_VERSION, "vecinfer_version": __version__})


async def serve(settings: Settings) -> None:
    catalog = Catalog(settings.storage_dir, settings.wal_checkpoint_bytes)
    http = HttpClients()
    registry = build_registry(settings, http)
    server = grpc.aio.server(options=_GRPC_OPTIONS)
    qdrant_pb2_grpc.add_QdrantServicer_to_server(QdrantService(), server)
    collections_service_pb2_grpc.add_CollectionsServicer_to_server(CollectionsService(catalog), server)
    points_service_pb2_grpc.add_PointsServicer_to_server(PointsService(catalog, Resolver(registry)), server)
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(SERVICE_NAMES, server)
    address = f"{settings.host}:{settings.grpc_port}"
    server.add_insecure_port(address)
    await server.start()
    await health.set("", health_pb2.HealthCheckResponse.SERVING)

    rest = web.Application()
    rest.router.add_get("/", _rest_root)
    runner = web.AppRunner(rest, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.http_port).start()

    log.info(
        "vecinfer %s serving gRPC on %s, REST on %s:%d, storage at %s (%d collections)",
        __version__, address, settings.host, settings.http_port, settings.storage_dir.resolve(), len(catalog.names()),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down: finishing in-flight requests")
    await health.enter_graceful_shutdown()
    await server.stop(settings.shutdown_grace_seconds)
    await runner.cleanup()
    await http.close()
    await asyncio.to_thread(catalog.close)
    log.info("stopped; storage flushed")
