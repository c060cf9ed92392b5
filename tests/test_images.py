"""Image inputs: URL (guarded), base64, data URL; limits and unreadable bytes."""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import numpy as np
import pytest
from qdrant_client import models

from conftest import ServerProcess, make_client
from test_image_limits import png_bomb


class ImageHost:
    """A loopback HTTP server with a few fixed routes."""

    def __init__(self, routes: dict[str, tuple[int, dict, bytes]]):
        routes_ = routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, headers, body = routes_.get(self.path, (404, {"Content-Type": "text/plain"}, b"missing"))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()


@pytest.fixture(scope="module")
def host(clip_models):
    png = clip_models.png_bytes("blue")
    h = ImageHost({
        "/blue.png": (200, {"Content-Type": "image/png"}, png),
        "/redirect": (302, {"Location": "/blue.png"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/page.html": (200, {"Content-Type": "text/html"}, b"<html></html>"),
        "/bomb.png": (200, {"Content-Type": "image/png"}, png_bomb()),
    })
    yield h
    h.close()


@pytest.fixture(scope="module")
def private_ok_server(tmp_path_factory, clip_models):
    tmp = tmp_path_factory.mktemp("private_ok")
    server = ServerProcess(tmp / "storage", tmp / "server.log", env={
        "VECINFER_MODELS_DIR": str(clip_models.models_dir),
        "VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS": "true",
        "VECINFER_IMAGE_MAX_BYTES": "200000",
        "VECINFER_IMAGE_MAX_PIXELS": "1000000",
    }).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def private_client(private_ok_server, clip_models):
    c = make_client(private_ok_server, cloud_inference=True)
    c.create_collection("imgs", vectors_config=models.VectorParams(size=clip_models.dimension, distance=models.Distance.COSINE))
    yield c
    c.close()


def stored_vector(client, collection, point_id):
    (point,) = client.retrieve(collection, ids=[point_id], with_vectors=True)
    return np.array(point.vector)


def test_url_base64_and_data_url_give_the_same_vector(private_client, host, clip_models):
    png = clip_models.png_bytes("blue")
    b64 = base64.b64encode(png).decode()
    private_client.upsert("imgs", points=[
        models.PointStruct(id=1, vector=models.Image(image=host.url("/blue.png"), model=clip_models.vision)),
        models.PointStruct(id=2, vector=models.Image(image=b64, model=clip_models.vision)),
        models.PointStruct(id=3, vector=models.Image(image=f"data:image/png;base64,{b64}", model=clip_models.vision)),
        models.PointStruct(id=4, vector=models.Image(image=host.url("/redirect"), model=clip_models.vision)),
        models.PointStruct(id=5, vector=models.Image(image=clip_models.png_base64("yellow"), model=clip_models.vision)),
    ])
    first = stored_vector(private_client, "imgs", 1)
    for other in (2, 3, 4):
        assert np.allclose(stored_vector(private_client, "imgs", other), first, atol=1e-6)
    assert not np.allclose(stored_vector(private_client, "imgs", 5), first, atol=1e-3)
    hits = private_client.query_points("imgs", query=models.Image(image=b64, model=clip_models.vision), limit=1).points
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)


def rpc_error(call):
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


def upsert_image(client, image, model, point_id=99):
    return client.upsert("imgs", points=[models.PointStruct(id=point_id, vector=models.Image(image=image, model=model))])


@pytest.mark.parametrize("image, needle", [
    ("bm90IGFuIGltYWdl", "not a readable image"),  # base64 of "not an image"
    ("data:text/plain;base64,aGVsbG8=", "not image/*"),
    ("***not base64***", "valid base64"),
])
def test_unreadable_inputs(private_client, clip_models, image, needle):
    err = rpc_error(lambda: upsert_image(private_client, image, clip_models.vision))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert needle in err.details()


def test_url_problems(private_client, host, clip_models):
    for path, needle in (("/page.html", "text/html"), ("/missing.png", "HTTP 404"), ("/loop", "redirected more than")):
        err = rpc_error(lambda: upsert_image(private_client, host.url(path), clip_models.vision))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, path
        assert needle in err.details(), (path, err.details())


def test_limits(private_client, clip_models):
    too_many_pixels = base64.b64encode(clip_models.png_bytes("red", size=(1200, 1000))).decode()
    err = rpc_error(lambda: upsert_image(private_client, too_many_pixels, clip_models.vision))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "pixels" in err.details()
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, size=(400, 400, 3), dtype=np.uint8)  # incompressible: ~480 KB as PNG
    import io

    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    err = rpc_error(lambda: upsert_image(private_client, base64.b64encode(buffer.getvalue()).decode(), clip_models.vision))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "over the limit" in err.details()
    assert private_client.retrieve("imgs", ids=[99]) == []


BOMB = (30_000, 30_000, "Image is 900000000 pixels")  # past PIL's own bomb limit too
LARGE = (8_000, 8_000, "Image is 8000x8000 = 64000000 pixels")  # past ours only: read from the header


@pytest.mark.parametrize("kind, bomb", [("base64", BOMB), ("data URL", BOMB), ("URL", BOMB),
                                        ("base64", LARGE), ("data URL", LARGE)])
def test_png_bombs_are_refused_from_the_header(private_client, host, clip_models, kind, bomb):
    width, height, needle = bomb
    encoded = base64.b64encode(png_bomb(width, height)).decode()
    image = {"base64": encoded, "data URL": f"data:image/png;base64,{encoded}", "URL": host.url("/bomb.png")}[kind]
    err = rpc_error(lambda: upsert_image(private_client, image, clip_models.vision, point_id=98))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert needle in err.details() and "over the limit of 1000000 (VECINFER_IMAGE_MAX_PIXELS)" in err.details(), err.details()
    assert private_client.retrieve("imgs", ids=[98]) == []


def test_private_urls_refused_by_default(cloud_client, host, clip_models):
    cloud_client.create_collection("imgs_default", vectors_config=models.VectorParams(size=clip_models.dimension, distance=models.Distance.COSINE))
    for url in (host.url("/blue.png"), "http://localhost:9/x.png", "http://169.254.169.254/latest", "http://[::1]:9/x.png",
                "http://10.0.0.1/x.png"):
        err = rpc_error(lambda: cloud_client.upsert("imgs_default", points=[
            models.PointStruct(id=1, vector=models.Image(image=url, model=clip_models.vision))]))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, url
        assert "VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS" in err.details(), url
    assert cloud_client.count("imgs_default").count == 0
