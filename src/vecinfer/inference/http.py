"""One shared aiohttp session for everything the server fetches (images, providers)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver


def is_public_address(host: str) -> bool:
    address = ipaddress.ip_address(host.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


class RefusedAddress(aiohttp.ClientConnectionError):
    """The URL points at a private, loopback or link-local address."""


class PublicOnlyResolver(AbstractResolver):
    """Resolves names and refuses any non-public address, so a URL (or a redirect, or a DNS
    answer that changes between check and connect) cannot reach the internal network."""

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
    """Lazily created sessions: one that may reach any address, one limited to public ones."""

    def __init__(self) -> None:
        self._sessions: dict[bool, aiohttp.ClientSession] = {}
        self._lock = asyncio.Lock()

    async def session(self, public_only: bool) -> aiohttp.ClientSession:
        async with self._lock:
            session = self._sessions.get(public_only)
            if session is None or session.closed:
                resolver = PublicOnlyResolver() if public_only else None
                connector = aiohttp.TCPConnector(resolver=resolver, limit=100)
                session = aiohttp.ClientSession(connector=connector)
                self._sessions[public_only] = session
            return session

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()
