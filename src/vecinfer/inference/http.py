"""One shared aiohttp session for everything the server fetches (images, providers), and the
address checks that keep image fetches off private networks.

The public-only session is guarded twice below the URL checks in images.py: its resolver
refuses names with any non-public answer, and its socket factory refuses to open a socket to a
non-public address, whatever produced that address (a literal in the URL, the resolver, a DNS
answer that changed since the URL was checked). The socket factory sees the very address the
connection is made to, so nothing reaches the internal network past it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# (host, port) -> the addresses a name resolves to.
Resolve = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known prefix: the last 32 bits are an IPv4 address
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d (and :: and ::1)
# One part of a legacy IPv4 literal, as inet_aton reads it: hex, octal or decimal.
_LEGACY_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*", re.ASCII)


def _is_global(address: IPAddress) -> bool:
    return address.is_global and not address.is_multicast


def is_public_address(host: str) -> bool:
    """Whether an address (as text; an IPv6 zone is ignored) is globally reachable unicast: not
    private, loopback, link-local, site-local, unspecified, reserved or multicast; for IPv6 forms
    that carry an IPv4 address (mapped, NAT64, 6to4) the IPv4 address must be public too. Text
    that is not an address is not public."""
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address.is_site_local or address in _IPV4_COMPATIBLE or address in _LOCAL_NAT64:
            return False
        if address.ipv4_mapped is not None:
            return _is_global(address.ipv4_mapped)
        if address in _NAT64:
            return _is_global(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
        if address.sixtofour is not None and not _is_global(address.sixtofour):
            return False
    return _is_global(address)


def _legacy_part_value(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    return int(part, 8 if part.startswith("0") else 10)


def _legacy_ipv4(text: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address in one of the forms inet_aton (and so getaddrinfo) also takes: 1 to 4
    parts, each decimal, 0x hex or 0 octal, the last filling the remaining bytes
    (2130706433, 0x7f000001, 0177.0.0.1, 127.1, 0x7f.1)."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_LEGACY_PART.fullmatch(p) for p in parts):
        return None
    *leading, last = [_legacy_part_value(p) for p in parts]
    if any(v > 0xFF for v in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    number = last
    for index, value in enumerate(leading):
        number |= value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def ip_literal(host: str) -> IPAddress | None:
    """The address a URL host names by itself, in any form the HTTP stack or a resolver would
    take as an address (dotted quad, IPv6 with or without brackets or zone, the legacy IPv4
    forms, one trailing dot); None for a name."""
    text = host[:-1] if host.endswith(".") else host
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%")[0]  # IPv6 zone, raw (%25eth0) or decoded (%eth0)
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return _legacy_ipv4(text)


async def resolve_addresses(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for a name (raises OSError when there is none)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def non_public_address(host: str, port: int, resolve: Resolve = resolve_addresses) -> str | None:
    """The first non-public address that a URL host is or resolves to; None when every address
    is public. A name must resolve (OSError otherwise), and all its answers must be public."""
    literal = ip_literal(host)
    if literal is not None:
        return None if is_public_address(str(literal)) else str(literal)
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return host
    addresses = await resolve(host, port)
    if not addresses:
        raise OSError(f"{host} resolves to no address")
    return next((a for a in addresses if not is_public_address(a)), None)


class RefusedAddress(aiohttp.ClientOSError):
    """The URL leads to a private, loopback or link-local address. An OSError, so that aiohttp's
    connection code passes it on (as the cause of a ClientConnectorError)."""


def refused_address(exc: BaseException) -> bool:
    """Whether an aiohttp error was caused by RefusedAddress (directly, as a cause, or in the
    combined message aiohappyeyeballs makes when several addresses failed)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RefusedAddress) or "non-public address" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def public_socket(addr_info: aiohttp.AddrInfoType) -> socket.socket:
    """aiohttp's socket factory (aiohttp >= 3.12) for the public-only session: called with the
    address about to be connected, it refuses any non-public one."""
    family, type_, proto, _, address = addr_info
    if not is_public_address(str(address[0])):
        raise RefusedAddress(f"refused to connect to a non-public address ({address[0]})")
    return socket.socket(family=family, type=type_, proto=proto)


class PublicOnlyResolver(AbstractResolver):
    """Resolves names and refuses any with a non-public answer, before a connection is tried."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        refused = [a["host"] for a in answers if not is_public_address(a["host"])]
        if refused:
            raise RefusedAddress(f"{host} resolves to a non-public address ({refused[0]})")
        return answers

    async def close(self) -> None:
        await self._inner.close()


class HttpClients:
    """Lazily created sessions: one that may reach any address, one limited to public ones.
    Neither reads proxy settings from the environment (trust_env is off)."""

    def __init__(self) -> None:
        self._sessions: dict[bool, aiohttp.ClientSession] = {}
        self._lock = asyncio.Lock()

    async def session(self, public_only: bool) -> aiohttp.ClientSession:
        async with self._lock:
            session = self._sessions.get(public_only)
            if session is None or session.closed:
                if public_only:
                    connector = aiohttp.TCPConnector(resolver=PublicOnlyResolver(), socket_factory=public_socket,
                                                     limit=100)
                else:
                    connector = aiohttp.TCPConnector(limit=100)
                session = aiohttp.ClientSession(connector=connector, trust_env=False)
                self._sessions[public_only] = session
            return session

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()
