"""The upstream's REST port: requests forwarded with their method, path, query, headers and
body; the answer comes back whole (status, headers, body)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from vecinfer.domain.errors import DeadlineExceeded, Unavailable

# Headers that belong to one hop, never forwarded either way.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade", "host", "content-length", "content-encoding"})


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class UpstreamHttp:
    def __init__(self, address: str, tls: bool = False, ca: Path | None = None) -> None:
        self.description = address
        self.base = f"{'https' if tls else 'http'}://{address}"
        self._ssl: ssl.SSLContext | bool = False
        if tls:
            self._ssl = ssl.create_default_context(cafile=str(ca) if ca else None)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Keep-alive connections, reused across requests.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256, ssl=self._ssl),
                                                  auto_decompress=False)
        return self._session

    async def request(self, method: str, path_qs: str, headers: list[tuple[str, str]], body: bytes | None,
                      timeout: float | None) -> HttpAnswer:
        try:
            async with self._client().request(method, self.base + path_qs, headers=headers, data=body,
                                              allow_redirects=False,
                                              timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                data = await response.read()
                kept = tuple((k, v) for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP)
                return HttpAnswer(response.status, kept, data)
        except TimeoutError:
            raise DeadlineExceeded(f"Timeout: the upstream {self.description} did not answer in time") from None
        except aiohttp.ClientError as exc:
            raise Unavailable(f"upstream {self.description} is unavailable: {exc}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
