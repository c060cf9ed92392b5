"""Server assembly: the service core behind two doors (gRPC with reflection and health, REST
with the operations endpoints), embedded or as a gateway to an upstream cluster, and a graceful
shutdown."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import ssl
from concurrent import futures

import grpc
from aiohttp import web
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import HealthServicer
from grpc_reflection.v1alpha import reflection

from vecinfer import __version__
from vecinfer.api import ops
from vecinfer.api.auth import AccessKeys
from vecinfer.api.grpc.auth import ApiKeyInterceptor
from vecinfer.api.grpc.collections import CollectionsServicer
from vecinfer.api.grpc.decoding import DecodeGuard
from vecinfer.api.grpc.gateway import GatewayHandler
from vecinfer.api.grpc.points import PointsServicer
from vecinfer.api.grpc.qdrant import QdrantServicer
from vecinfer.api.grpc.reflection import enable_reflection
from vecinfer.api.grpc.snapshots import SnapshotsServicer
from vecinfer.api.grpc.streams import StreamBound
from vecinfer.api.grpc.worker import ServiceLoop
from vecinfer.api.rest.app import build_app
from vecinfer.api.rest.gateway import build_gateway_app
from vecinfer.config import Settings
from vecinfer.domain.errors import InvalidArgument
from vecinfer.service.core import ModelService, Service
from vecinfer.service.gateway import GatewayService
from vecinfer_proto.qdrant import (
    collections_service_pb2,
    collections_service_pb2_grpc,
    points_service_pb2,
    points_service_pb2_grpc,
    qdrant_pb2,
    qdrant_pb2_grpc,
    snapshots_service_pb2,
    snapshots_service_pb2_grpc,
)

log = logging.getLogger("vecinfer")

SERVICE_NAMES = (
    qdrant_pb2.DESCRIPTOR.services_by_name["Qdrant"].full_name,
    collections_service_pb2.DESCRIPTOR.services_by_name["Collections"].full_name,
    points_service_pb2.DESCRIPTOR.services_by_name["Points"].full_name,
    snapshots_service_pb2.DESCRIPTOR.services_by_name["Snapshots"].full_name,
    health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
    reflection.SERVICE_NAME,
)

class StartupFailed(Exception):
    """The server cannot start (a port is taken); the message says why."""


def _grpc_options(settings: Settings) -> list[tuple[str, int]]:
    limit = settings.grpc_max_message_mb << 20
    return [
        ("grpc.max_receive_message_length", limit),
        ("grpc.max_send_message_length", limit),
        # A second server on a taken port must fail, not share it.
        ("grpc.so_reuseport", 0),
    ]


def _server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    if settings.tls_cert is None and settings.tls_key is None:
        return None
    if settings.tls_cert is None or settings.tls_key is None:
        raise StartupFailed("TLS needs both --tls-cert and --tls-key")
    ca = settings.tls_ca.read_bytes() if settings.tls_ca else None
    return grpc.ssl_server_credentials([(settings.tls_key.read_bytes(), settings.tls_cert.read_bytes())],
                                       root_certificates=ca, require_client_auth=ca is not None)


def _ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    if settings.tls_ca is not None:
        context.load_verify_locations(settings.tls_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _embedded(settings: Settings, server: grpc.Server, loop: ServiceLoop,
              keys: AccessKeys) -> tuple[Service, web.Application]:
    service = Service(settings)
    qdrant_pb2_grpc.add_QdrantServicer_to_server(QdrantServicer(), server)
    collections_service_pb2_grpc.add_CollectionsServicer_to_server(CollectionsServicer(service.collections, loop),
                                                                   server)
    points_service_pb2_grpc.add_PointsServicer_to_server(PointsServicer(service.points, loop), server)
    snapshots_service_pb2_grpc.add_SnapshotsServicer_to_server(SnapshotsServicer(service.snapshots, loop), server)
    rest = build_app(service, settings.rest_max_request_mb << 20, keys)
    ops.add_routes(rest, service)
    return service, rest


def _gateway(settings: Settings, server: grpc.Server, loop: ServiceLoop,
             keys: AccessKeys) -> tuple[GatewayService, web.Application]:
    try:
        service = GatewayService(settings)
    except InvalidArgument as exc:
        raise StartupFailed(exc.message) from None
    server.add_generic_rpc_handlers((GatewayHandler(service, loop),))
    return service, build_gateway_app(service, settings.rest_max_request_mb << 20, keys)


async def serve(settings: Settings) -> None:
    credentials = _server_credentials(settings)
    keys = AccessKeys(settings)
    if not keys.enabled and not _is_loopback(settings.host):
        log.warning("listening on %s without an API key: anyone who reaches the ports can read and delete "
                    "every collection; set --api-key (VECINFER_API_KEY)", settings.host)
    if not 1 <= settings.grpc_max_streams < settings.grpc_workers:
        raise StartupFailed(f"VECINFER_GRPC_MAX_STREAMS ({settings.grpc_max_streams}) must be at least 1 and below "
                            f"VECINFER_GRPC_WORKERS ({settings.grpc_workers}): streams must leave worker threads "
                            "for queries and writes")
    interceptors: list[grpc.ServerInterceptor] = [StreamBound(settings.grpc_max_streams), DecodeGuard()]
    if keys.enabled:
        interceptors.insert(0, ApiKeyInterceptor(keys))  # refuse before anything is decoded
    # A synchronous server: its worker threads answer plain queries and writes themselves,
    # cheaper than grpc.aio's event loop plus a thread hop (BENCHMARKS.md "gRPC door").
    workers = futures.ThreadPoolExecutor(max_workers=settings.grpc_workers, thread_name_prefix="grpc-worker")
    server = grpc.server(workers, options=_grpc_options(settings), interceptors=interceptors)
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    enable_reflection(SERVICE_NAMES, server)
    loop = ServiceLoop(asyncio.get_running_loop())
    service: ModelService
    service, rest = (_gateway if settings.upstream else _embedded)(settings, server, loop, keys)
    address = f"{settings.host}:{settings.grpc_port}"
    try:
        if credentials is None:
            server.add_insecure_port(address)
        else:
            server.add_secure_port(address, credentials)
    except RuntimeError:
        await service.close()
        raise StartupFailed(f"cannot listen for gRPC on {address}: the port is taken or the address is wrong") from None
    server.start()
    health.set("", health_pb2.HealthCheckResponse.SERVING)

    runner = web.AppRunner(rest, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.http_port, ssl_context=_ssl_context(settings)).start()
    except OSError as exc:
        await asyncio.to_thread(server.stop(0).wait)
        await runner.cleanup()
        await service.close()
        raise StartupFailed(f"cannot listen for REST on {settings.host}:{settings.http_port}: {exc.strerror}") from None

    log.info(
        "vecinfer %s serving gRPC on %s, REST on %s:%d%s%s, %s",
        __version__, address, settings.host, settings.http_port, " with TLS" if credentials else "",
        ", API keys required" if keys.enabled else "", service.describe(),
    )
    warm_up = asyncio.create_task(service.warm_up())
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down: finishing in-flight requests")
    warm_up.cancel()
    service.ready = False
    health.enter_graceful_shutdown()
    # The loop keeps running meanwhile: in-flight gRPC calls may still need it.
    grpc_stopped = server.stop(settings.shutdown_grace_seconds)
    await asyncio.gather(asyncio.to_thread(grpc_stopped.wait), runner.shutdown())
    workers.shutdown(wait=False)
    await runner.cleanup()
    await service.close()
    log.info("stopped" if settings.upstream else "stopped; storage flushed")
