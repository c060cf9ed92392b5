"""The guards that keep image fetches off private networks, on their own.

Address classification and literal parsing are plain functions. The redirect-chain tests run
the real ImageLoader and aiohttp against a loopback HTTP server that stands in for the
internet: a fake resolver tells the hop check that names under `.example` are public (and
names under `.internal` private), while the session connects every name to the loopback
server. So the first hop looks public, and each test shows which later hop is refused, and
that the server never got a request for it.
"""

from __future__ import annotations

import asyncio
import base64
import io
import socket

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver
from PIL import Image
from yarl import URL

from vecinfer.config import Settings
from vecinfer.domain.errors import InvalidArgument
from vecinfer.inference.http import (
    HttpClients,
    PublicOnlyResolver,
    RefusedAddress,
    ip_literal,
    is_public_address,
    non_public_address,
    public_socket,
    refused_address,
)
from vecinfer.inference.images import ImageLoader


@pytest.mark.parametrize("address, public", [
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("::1", False), ("fe80::1", False), ("fe80::1%eth0", False), ("fd00::1", False),
    ("::ffff:127.0.0.1", False), ("0.0.0.0", False), ("::", False), ("224.0.0.1", False), ("100.64.0.1", False),
    ("255.255.255.255", False), ("fec0::1", False),  # site-local: deprecated, but not global
    ("::127.0.0.1", False),  # IPv4-compatible: deprecated
    ("64:ff9b::7f00:1", False), ("64:ff9b::808:808", True),  # NAT64: the embedded IPv4 address decides
    ("2002:7f00:1::", False), ("2002:808:808::", True),  # 6to4: likewise
    ("::ffff:8.8.8.8", True), ("8.8.8.8", True), ("2001:4860:4860::8888", True),
    ("not an address", False), ("", False),
])
def test_public_addresses(address, public):
    assert is_public_address(address) is public


# Every form of a loopback, link-local or private address that a URL can carry, as yarl (and so
# aiohttp) parses it out of the URL.
LITERAL_FORMS = [
    ("http://127.0.0.1/", "127.0.0.1"),
    ("http://2130706433/", "127.0.0.1"),  # decimal
    ("http://017700000001/", "127.0.0.1"),  # octal
    ("http://0x7f000001/", "127.0.0.1"),  # hex
    ("http://0X7F.0.0.1/", "127.0.0.1"),
    ("http://0177.0.0.1/", "127.0.0.1"),  # octal parts
    ("http://127.1/", "127.0.0.1"),  # short
    ("http://0x7f.1/", "127.0.0.1"),
    ("http://127.0.0.1./", "127.0.0.1"),  # trailing dot
    ("http://１２７.０.０.１/", "127.0.0.1"),  # fullwidth digits: IDNA maps them to ASCII
    ("http://127。0。0。1/", "127.0.0.1"),  # ideographic full stops
    ("http://0/", "0.0.0.0"),
    ("http://0.0.0.0/", "0.0.0.0"),
    ("http://[::1]/", "::1"),
    ("http://[0:0:0:0:0:0:0:1]/", "::1"),
    ("http://[::]/", "::"),
    ("http://[::ffff:127.0.0.1]/", "::ffff:7f00:1"),
    ("http://[::ffff:7f00:1]/", "::ffff:7f00:1"),
    ("http://[0:0:0:0:0:ffff:127.0.0.1]/", "::ffff:7f00:1"),
    ("http://[fe80::1%25eth0]/", "fe80::1"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
    ("http://2852039166/", "169.254.169.254"),
    ("http://0xa9fea9fe/", "169.254.169.254"),
    ("http://[::ffff:169.254.169.254]/", "::ffff:a9fe:a9fe"),
    ("http://10.0.0.1/", "10.0.0.1"),
    ("http://012.1/", "10.0.0.1"),
    ("http://user:pw@127.0.0.1:8080/", "127.0.0.1"),
]


@pytest.mark.parametrize("url, address", LITERAL_FORMS)
def test_every_literal_form_is_read_as_the_address_it_names(url, address):
    literal = ip_literal(URL(url).raw_host)
    assert str(literal) == address
    assert not is_public_address(str(literal))


@pytest.mark.parametrize("host", ["example.com", "localhost", "0x7f000001.example.com", "1.2.3.4.5", "08.1.1.1",
                                  "256.0.0.1", "1.16777216", "4294967296", "1e3", "%31%32%37.0.0.1"])
def test_names_are_not_literals(host):
    assert ip_literal(host) is None


def fake_resolve(answers: dict[str, list[str]], calls: list[str] | None = None):
    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise OSError(f"{host}: name or service not known")
        return answers[host]
    return resolve


async def test_a_name_is_refused_when_any_answer_is_private():
    calls: list[str] = []
    resolve = fake_resolve({"good.example": ["93.184.216.34", "2606:2800:220:1::"],
                            "mixed.example": ["93.184.216.34", "10.0.0.7"],
                            "v6.example": ["2606:2800:220:1::", "fd00::7"]}, calls)
    assert await non_public_address("good.example", 80, resolve) is None
    assert await non_public_address("mixed.example", 80, resolve) == "10.0.0.7"
    assert await non_public_address("v6.example", 80, resolve) == "fd00::7"
    with pytest.raises(OSError):
        await non_public_address("nowhere.example", 80, resolve)
    calls.clear()
    for host in ("localhost", "LOCALHOST.", "db.localhost", "0x7f000001", "[::1]"):
        assert await non_public_address(host, 80, resolve) is not None, host
    assert calls == []  # refused without asking DNS


def test_the_socket_factory_refuses_non_public_addresses():
    for addr_info in ((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80)),
                      (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::ffff:127.0.0.1", 80, 0, 0)),
                      (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))):
        with pytest.raises(RefusedAddress):
            public_socket(addr_info)
    public_socket((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))).close()


def test_a_name_that_resolves_to_loopback_is_refused():
    async def resolve():
        resolver = PublicOnlyResolver()
        try:
            await resolver.resolve("localhost", 80)
        finally:
            await resolver.close()

    with pytest.raises(RefusedAddress):
        asyncio.run(resolve())


# --- redirect chains against a loopback stand-in for the internet -------------------------------

def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return buffer.getvalue()


class Web:
    """A loopback HTTP server on 127.0.0.1 and ::1 (one port) that records the paths asked for.
    /img.png and /secret.png are images; /r?to=URL redirects to URL; /hop/N redirects N times."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.port = 0
        self.runner: web.AppRunner | None = None

    async def start(self) -> Web:
        async def image(request: web.Request) -> web.Response:
            self.paths.append(request.path)
            return web.Response(body=png(), content_type="image/png")

        async def redirect(request: web.Request) -> web.Response:
            self.paths.append(request.path)
            raise web.HTTPFound(str(URL(request.query["to"])))  # ASCII, as a client would read it

        async def hop(request: web.Request) -> web.Response:
            self.paths.append(request.path)
            left = int(request.match_info["n"])
            raise web.HTTPFound(f"/hop/{left - 1}" if left else "/img.png")

        app = web.Application()
        app.router.add_get("/img.png", image)
        app.router.add_get("/secret.png", image)
        app.router.add_get("/r", redirect)
        app.router.add_get("/hop/{n}", hop)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        try:
            await web.TCPSite(self.runner, "::1", self.port).start()
        except OSError:
            pass  # no IPv6 loopback here: the IPv6 forms are refused all the same
        return self

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def via(self, first: str, target: str) -> str:
        """A URL on `first` that redirects to `target`."""
        return str(URL(self.url(first, "/r")).with_query(to=target))

    async def close(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


class LoopbackResolver(AbstractResolver):
    """The stand-in internet's DNS: every name is the loopback server."""

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list:
        return [{"hostname": host, "host": "127.0.0.1", "port": port, "family": socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        pass


class StandInInternet:
    """In place of HttpClients: a session on which every name reaches the loopback server.
    With `guarded`, its connector uses the public-only session's socket factory."""

    def __init__(self, guarded: bool = False) -> None:
        self.guarded = guarded
        self.sessions: list[aiohttp.ClientSession] = []

    async def session(self, public_only: bool) -> aiohttp.ClientSession:
        extra = {"socket_factory": public_socket} if self.guarded else {}
        connector = aiohttp.TCPConnector(resolver=LoopbackResolver(), use_dns_cache=False, **extra)
        self.sessions.append(aiohttp.ClientSession(connector=connector))
        return self.sessions[-1]

    async def close(self) -> None:
        for session in self.sessions:
            await session.close()


# What the hop check believes: `.example` names are public, `.internal` ones private.
DNS = {"cdn.example": ["93.184.216.34"], "public.example": ["93.184.216.35"], "img.example": ["93.184.216.36"],
       "db.internal": ["10.1.2.3"], "split.example": ["93.184.216.37", "192.168.0.9"]}


@pytest.fixture
async def internet():
    site = await Web().start()
    clients: list[StandInInternet] = []

    def loader(guarded: bool = False, **settings) -> ImageLoader:
        clients.append(StandInInternet(guarded))
        options = {"image_fetch_timeout_seconds": 5.0, "image_max_redirects": 3, **settings}
        return ImageLoader(Settings(**options), clients[-1], fake_resolve(DNS))

    site.loader = loader
    yield site
    for client in clients:
        await client.close()
    await site.close()


async def refusal(loader: ImageLoader, url: str) -> str:
    with pytest.raises(InvalidArgument) as info:
        await loader.fetch(url)
    return info.value.message


async def test_names_that_resolve_publicly_are_fetched_through_redirects(internet):
    loader = internet.loader()
    data, content_type = await loader.fetch(internet.via("public.example", internet.url("cdn.example", "/img.png")))
    assert data == png() and content_type == "image/png"
    assert internet.paths == ["/r", "/img.png"]


# Each host form in LITERAL_FORMS, with the loopback server's port, as the client's URL and as
# the target of a redirect from a public-looking first hop. Where the form reaches this machine
# (loopback, 0.0.0.0, ::), the unguarded stand-in session would fetch /secret.png: the guard is
# all that stops it.
HOST_FORMS = [url.split("/")[2] for url, _ in LITERAL_FORMS if "@" not in url] + ["localhost", "db.internal",
                                                                                 "split.example"]


@pytest.mark.parametrize("host", HOST_FORMS)
async def test_a_private_address_in_any_form_is_refused_first_or_after_a_redirect(internet, host):
    target = internet.url(host, "/secret.png")
    message = await refusal(internet.loader(), target)
    assert "redirected" not in message and "VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS" in message, message
    assert internet.paths == []
    message = await refusal(internet.loader(), internet.via("public.example", target))
    assert "redirected to" in message and "VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS" in message, message
    assert internet.paths == ["/r"]  # the first hop was fetched, the private one never asked


async def test_every_hop_is_checked_not_just_the_first_and_last(internet):
    chain = internet.url("img.example", "/img.png")
    chain = internet.via("cdn.example", chain)
    private = internet.via("db.internal", chain)  # the middle hop
    message = await refusal(internet.loader(), internet.via("public.example", private))
    assert "(10.1.2.3)" in message and "VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS" in message, message
    assert internet.paths == ["/r"]


async def test_a_name_that_does_not_resolve_is_refused(internet):
    message = await refusal(internet.loader(), internet.via("public.example", internet.url("nowhere.example", "/img.png")))
    assert "does not resolve (nowhere.example)" in message, message
    assert internet.paths == ["/r"]


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://cdn.example/img.png", "gopher://cdn.example:70/x",
                                    "data:image/png;base64,AAAA", "javascript:alert(1)"])
async def test_redirects_leave_http_only_for_nothing(internet, target):
    for loader in (internet.loader(), internet.loader(image_allow_private_networks=True)):
        message = await refusal(loader, internet.via("public.example", target))
        assert "is not http or https" in message, message


async def test_redirects_are_counted_and_resolved_relative_to_the_hop(internet):
    data, _ = await internet.loader().fetch(internet.url("img.example", "/hop/2"))  # 3 redirects
    assert data == png()
    assert internet.paths == ["/hop/2", "/hop/1", "/hop/0", "/img.png"]
    message = await refusal(internet.loader(), internet.url("img.example", "/hop/3"))
    assert "redirected more than 3 times (VECINFER_IMAGE_MAX_REDIRECTS)" in message
    message = await refusal(internet.loader(image_max_redirects=0), internet.via("img.example", "/img.png"))
    assert "redirected more than 0 times" in message
    scheme_relative = internet.via("img.example", f"//cdn.example:{internet.port}/img.png")
    assert (await internet.loader().fetch(scheme_relative))[0] == png()


async def test_allow_private_networks_allows_every_address(internet):
    loader = internet.loader(image_allow_private_networks=True)
    for host in ("127.0.0.1", "0x7f000001", "localhost"):
        data, _ = await loader.fetch(internet.via("public.example", internet.url(host, "/secret.png")))
        assert data == png()


async def test_dns_rebinding_is_stopped_at_the_connection(internet):
    # The hop check is told cdn.example is public; at connection time the name resolves to
    # 127.0.0.1. The socket factory of the public-only session refuses that socket.
    loader = internet.loader(guarded=True)
    message = await refusal(loader, internet.url("cdn.example", "/secret.png"))
    assert "VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS" in message, message
    message = await refusal(loader, internet.via("public.example", internet.url("cdn.example", "/secret.png")))
    assert "VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS" in message, message
    assert internet.paths == []


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]", "[::1]", "0.0.0.0", "localhost"])
async def test_the_public_only_session_connects_to_no_private_address(internet, host):
    # IP literals skip aiohttp's resolver: the socket factory still sees them.
    clients = HttpClients()
    try:
        session = await clients.session(public_only=True)
        with pytest.raises(aiohttp.ClientError) as info:
            async with session.get(internet.url(host, "/secret.png")):
                pass
        assert refused_address(info.value), repr(info.value)
    finally:
        await clients.close()
    assert internet.paths == []


async def test_messages_repeat_only_a_short_prefix_of_the_input(internet):
    long_path = "/" + "a" * 5000
    for url in (internet.url("127.0.0.1", long_path), internet.via("public.example", internet.url("127.0.0.1", long_path)),
                internet.url("img.example", long_path)):
        message = await refusal(internet.loader(), url)
        assert "a" * 101 not in message and len(message) < 400, message
    loader = internet.loader()
    for value in ("data:" + "x" * 5000 + ";base64,AAAA", "data:image/png;base64," + "A" * 40_000_000):
        with pytest.raises(InvalidArgument) as info:
            await loader.read(value)
        assert len(info.value.message) < 200, info.value.message
    with pytest.raises(InvalidArgument) as info:
        await loader.load(base64.b64encode(b"\x89PNG" + b"x" * 5000).decode())
    assert len(info.value.message) < 200
