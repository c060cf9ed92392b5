"""One gRPC channel to the upstream: several addresses balanced by gRPC's own round_robin
policy with client-side health checks, keep-alives, connection reuse, the caller's deadline,
and transparent retries of UNAVAILABLE (writes to Qdrant are idempotent by id)."""

from __future__ import annotations

import ipaddress
import json
import socket
from pathlib import Path

import grpc

from vecinfer.domain.errors import DeadlineExceeded, InvalidArgument, Unavailable, UpstreamAnswered

Metadata = tuple[tuple[str, str], ...]

_SERVICE_CONFIG = {
    "loadBalancingConfig": [{"round_robin": {}}],
    "healthCheckConfig": {"serviceName": ""},
    "methodConfig": [{
        "name": [{}],
        "retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.05s", "maxBackoff": "0.5s", "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"]},
    }],
}


def parse_addresses(text: str) -> list[tuple[str, int]]:
    out = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        host, sep, port = item.rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise InvalidArgument(f"upstream address {item!r} is not HOST:PORT")
        out.append((host.strip("[]"), int(port)))
    if not out:
        raise InvalidArgument("--upstream names no address: give HOST:PORT[,HOST:PORT...]")
    return out


def target_of(addresses: list[tuple[str, int]]) -> str:
    """A gRPC target the channel balances over: one DNS name (every address it resolves to, as a
    Kubernetes headless service gives), or a list of IP addresses (names resolved once here)."""
    if len(addresses) == 1:
        host, port = addresses[0]
        return f"dns:///{host}:{port}" if not _is_ip(host) else _ip_target([(host, port)])
    resolved = []
    for host, port in addresses:
        if _is_ip(host):
            resolved.append((host, port))
        else:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            resolved.extend((str(info[4][0]), port) for info in infos)
    literal = {ipaddress.ip_address(h).version for h, _ in addresses if _is_ip(h)}
    if len(literal) > 1:
        raise InvalidArgument("--upstream mixes IPv4 and IPv6 addresses: one channel speaks one family")
    # One target speaks one address family: the literals', else IPv4 where a name has any.
    family = literal.pop() if literal else 4
    unique = list(dict.fromkeys(resolved))
    same = [(h, p) for h, p in unique if ipaddress.ip_address(h).version == family]
    return _ip_target(same or unique)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _ip_target(addresses: list[tuple[str, int]]) -> str:
    if all(ipaddress.ip_address(h).version == 4 for h, _ in addresses):
        return "ipv4:" + ",".join(f"{h}:{p}" for h, p in addresses)
    return "ipv6:" + ",".join(f"[{h}]:{p}" for h, p in addresses)


class UpstreamGrpc:
    def __init__(self, addresses: str, tls: bool = False, ca: Path | None = None, max_message_bytes: int = 64 << 20) -> None:
        self.description = addresses
        self.target = target_of(parse_addresses(addresses))
        options = [
            ("grpc.service_config", json.dumps(_SERVICE_CONFIG)),
            ("grpc.enable_retries", 1),
            ("grpc.keepalive_time_ms", 20_000),
            ("grpc.keepalive_timeout_ms", 10_000),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
        ]
        if tls:
            credentials = grpc.ssl_channel_credentials(root_certificates=ca.read_bytes() if ca else None)
            self.channel = grpc.aio.secure_channel(self.target, credentials, options=options)
        else:
            self.channel = grpc.aio.insecure_channel(self.target, options=options)
        self._calls: dict[str, grpc.aio.UnaryUnaryMultiCallable] = {}

    async def call(self, method: str, body: bytes, metadata: Metadata, timeout: float | None) -> bytes:
        """Send raw request bytes; the raw response, or the upstream's status as UpstreamAnswered."""
        stub = self._calls.get(method)
        if stub is None:
            stub = self._calls[method] = self.channel.unary_unary(method, request_serializer=None,
                                                                   response_deserializer=None)
        try:
            response: bytes = await stub(body, metadata=metadata, timeout=timeout)
            return response
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            details = exc.details() or ""
            if code == grpc.StatusCode.UNAVAILABLE and _is_connection_failure(details):
                raise Unavailable(f"upstream {self.description} is unavailable: {details}") from None
            if code == grpc.StatusCode.DEADLINE_EXCEEDED and not details.startswith("Timeout"):
                raise DeadlineExceeded(f"Timeout: the upstream {self.description} did not answer within the "
                                       "request's deadline") from None
            trailing = tuple((k, v) for k, v in (exc.trailing_metadata() or ()) if isinstance(v, str))
            raise UpstreamAnswered(code.name, details, trailing) from None

    def connected(self) -> bool:
        return self.channel.get_state(try_to_connect=True) in (grpc.ChannelConnectivity.READY,
                                                                grpc.ChannelConnectivity.IDLE)

    async def close(self) -> None:
        await self.channel.close()


def _is_connection_failure(details: str) -> bool:
    lowered = details.lower()
    return any(s in lowered for s in ("failed to connect", "connection refused", "no healthy upstream",
                                      "connections to all backends failing", "socket closed"))
