"""Image limits hold on the provider path too: a decompression bomb never reaches a provider."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import grpc
import pytest
from PIL import Image
from qdrant_client import models

from conftest import ServerProcess, make_client
from provider_emulators import VALID_KEY


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A valid 1-bit PNG of width x height black pixels: about 110 KB of bytes, 900 megapixels
    (and as many bytes of memory in PIL) once decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes((width + 7) // 8)  # filter byte, then the packed pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # bit depth 1, greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "green").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def client(tmp_path_factory, emulator):
    tmp = tmp_path_factory.mktemp("image_limits")
    server = ServerProcess(tmp / "storage", tmp / "server.log", env=emulator.env()).start()
    c = make_client(server, cloud_inference=True)
    yield c
    c.close()
    server.stop()


def test_a_png_bomb_is_refused_before_any_provider_call(client, emulator):
    bomb = base64.b64encode(png_bomb()).decode()
    assert len(bomb) < 200_000
    client.create_collection("bombs", vectors_config={
        "cohere": models.VectorParams(size=1536, distance=models.Distance.COSINE),
        "jina": models.VectorParams(size=1024, distance=models.Distance.COSINE)})
    emulator.clear()
    cases = [(vector, model, key, image)
             for vector, model, key in (("cohere", "cohere/embed-v4.0", "cohere-api-key"),
                                        ("jina", "jinaai/jina-clip-v2", "jina-api-key"))
             for image in (f"data:image/png;base64,{bomb}", bomb, f"data:image/jpeg;base64,{bomb}")]
    for vector, model, key, image in cases:
        with pytest.raises(grpc.RpcError) as info:
            client.upsert("bombs", points=[models.PointStruct(id=1, vector={
                vector: models.Image(image=image, model=model, options={key: VALID_KEY})})])
        err = info.value
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, (model, image[:30], err.details())
        details = err.details()
        assert "900000000 pixels" in details and "VECINFER_IMAGE_MAX_PIXELS" in details, details
        assert bomb[:200] not in details
    assert emulator.calls == []  # nothing was forwarded
    assert client.count("bombs").count == 0

    # The same path takes a sane image, and sends it with the media type of its bytes.
    png = base64.b64encode(small_png()).decode()
    client.upsert("bombs", points=[models.PointStruct(id=2, vector={"cohere": models.Image(
        image=f"data:image/jpeg;base64,{png}", model="cohere/embed-v4.0", options={"cohere-api-key": VALID_KEY})})])
    (call,) = emulator.of("cohere")
    assert call.body["images"] == [f"data:image/png;base64,{png}"]

