"""Image URLs cannot reach the server's own network (SSRF), end to end on real servers.

A loopback HTTP server (127.0.0.1 and ::1, one port) records every request. Each address form
below is one a client could use to reach it, or another internal address: the server with
default settings refuses them all before sending a request, while a server with
VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS=true shows that the HTTP stack does reach the reachable
ones, so the refusal is the guard's doing. Offline, no first hop can look public to a real
server, so the redirect chains from a public-looking first hop are in test_url_guard_unit.py
(real ImageLoader and aiohttp, fake DNS); here redirects are checked hop by hop for their
scheme, which applies whatever the setting.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

import grpc
import pytest
from qdrant_client import models

from conftest import ServerProcess, make_client


class RecordingHost:
    """Serves /img.png (an image) and /r?to=URL (a 302 to URL); records each path and query."""

    def __init__(self, png: bytes):
        self.requests: list[str] = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                requests.append(self.path)
                parts = urlsplit(self.path)
                if parts.path == "/r":
                    self.send_response(302)
                    self.send_header("Location", parse_qs(parts.query)["to"][0])
                    body = b""
                elif parts.path == "/img.png":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    body = png
                else:
                    self.send_response(404)
                    body = b"missing"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server6(ThreadingHTTPServer):
            address_family = socket.AF_INET6

        self.servers = [ThreadingHTTPServer(("127.0.0.1", 0), Handler)]
        self.port = self.servers[0].server_address[1]
        try:
            self.servers.append(Server6(("::1", self.port), Handler))
        except OSError:
            pass  # no IPv6 loopback: the IPv6 forms are then only checked for refusal
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()

    @property
    def has_ipv6(self) -> bool:
        return len(self.servers) == 2

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()


@pytest.fixture(scope="module")
def host(clip_models):
    h = RecordingHost(clip_models.png_bytes("blue"))
    yield h
    h.close()


def image_collection(client, name, clip_models):
    client.create_collection(name, vectors_config=models.VectorParams(size=clip_models.dimension,
                                                                      distance=models.Distance.COSINE))
    return name


@pytest.fixture(scope="module")
def guarded(cloud_client, clip_models):
    """A client of the module's server with default settings (private networks refused)."""
    return cloud_client, image_collection(cloud_client, "ssrf_default", clip_models)


@pytest.fixture(scope="module")
def open_client(tmp_path_factory, clip_models):
    tmp = tmp_path_factory.mktemp("ssrf_open")
    server = ServerProcess(tmp / "storage", tmp / "server.log", env={
        "VECINFER_MODELS_DIR": str(clip_models.models_dir), "VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS": "true"}).start()
    c = make_client(server, cloud_inference=True)
    image_collection(c, "ssrf_open", clip_models)
    yield c
    c.close()
    server.stop()


def upsert(client, collection, image, model, point_id=1):
    client.upsert(collection, points=[models.PointStruct(id=point_id, vector=models.Image(image=image, model=model))])


def refusal(client, collection, image, model, point_id=1):
    with pytest.raises(grpc.RpcError) as info:
        upsert(client, collection, image, model, point_id)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value.details()
    return info.value.details()


# (host as written in the URL, reachable here: does the HTTP stack connect to the loopback host?)
ADDRESS_FORMS = [
    ("127.0.0.1", True), ("localhost", True), ("0.0.0.0", True),
    ("0x7f000001", True), ("0x7f.1", True),  # hex: getaddrinfo takes them
    ("１２７.０.０.１", True),  # fullwidth digits, IDNA-mapped to 127.0.0.1 by the URL parser
    ("[::ffff:127.0.0.1]", True), ("[::ffff:7f00:1]", True),
    ("[::1]", "ipv6"), ("[::]", "ipv6"),
    # Forms this aiohttp refuses by itself (older ones connect): refused here by the guard, by name.
    ("2130706433", False), ("017700000001", False), ("0177.0.0.1", False), ("127.1", False), ("127.0.0.1.", False),
    # Other internal addresses: cloud metadata, private ranges, link-local IPv6.
    ("169.254.169.254", False), ("0xa9fea9fe", False), ("[::ffff:169.254.169.254]", False), ("10.0.0.1", False),
    ("192.168.0.1", False), ("[fd00::1]", False), ("[fe80::1%25lo]", False),
]


@pytest.mark.parametrize("form, reachable", ADDRESS_FORMS)
def test_every_address_form_is_refused_by_default(guarded, open_client, host, clip_models, form, reachable):
    client, collection = guarded
    url = host.url(form, "/img.png?from=default")
    point_id = ADDRESS_FORMS.index((form, reachable)) + 1
    details = refusal(client, collection, url, clip_models.vision, point_id)
    assert "points at a private, loopback or link-local address" in details, details
    assert "VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS" in details, details
    assert not [r for r in host.requests if "default" in r]  # refused before any request was sent
    assert client.retrieve(collection, ids=[point_id]) == []
    if reachable is True or (reachable == "ipv6" and host.has_ipv6):
        # With the guard off, the same form does reach the host: the refusal was the guard's.
        upsert(open_client, "ssrf_open", host.url(form, "/img.png?from=open"), clip_models.vision)
        assert host.requests[-1] == "/img.png?from=open"


@pytest.mark.parametrize("form", ["127.0.0.1", "0x7f000001", "[::ffff:127.0.0.1]", "localhost"])
def test_a_redirect_chain_on_the_private_network_is_refused_at_its_first_hop(guarded, host, clip_models, form):
    client, collection = guarded
    target = host.url("127.0.0.1", "/img.png?from=default-target")
    details = refusal(client, collection, host.url(form, f"/r?to={target}&from=default"), clip_models.vision)
    assert "VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS" in details and "redirected" not in details, details
    assert not [r for r in host.requests if "default" in r]


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/img.png", "gopher://127.0.0.1:70/_x",
                                    "data:image/png;base64,AAAA"])
def test_every_redirect_hop_is_checked_even_with_private_networks_allowed(open_client, host, clip_models, target):
    details = refusal(open_client, "ssrf_open", host.url("127.0.0.1", f"/r?to={target}"), clip_models.vision)
    assert "redirected to" in details and "is not http or https" in details, details


def test_redirects_are_followed_and_counted_by_the_server(open_client, host, clip_models):
    final = host.url("127.0.0.1", "/img.png?from=chain")
    chain = final
    for _ in range(3):  # VECINFER_IMAGE_MAX_REDIRECTS defaults to 3
        chain = host.url("localhost", f"/r?to={quote(chain, safe='')}")
    upsert(open_client, "ssrf_open", chain, clip_models.vision)
    assert host.requests[-1] == "/img.png?from=chain"
    one_more = host.url("localhost", f"/r?to={quote(chain, safe='')}")
    details = refusal(open_client, "ssrf_open", one_more, clip_models.vision)
    assert "redirected more than 3 times (VECINFER_IMAGE_MAX_REDIRECTS)" in details, details


def test_refusals_repeat_only_a_short_prefix_of_the_url(guarded, host, clip_models):
    client, collection = guarded
    for url in (host.url("127.0.0.1", "/" + "a" * 3000), "http://" + "b" * 3000 + ".localhost/x.png",
                "http://10.0.0.1/?" + "c" * 3000):
        details = refusal(client, collection, url, clip_models.vision)
        assert len(details) < 400 and url[:90] in details and url[:101] not in details, details
