"""Image inputs: http(s) URL (guarded fetch), base64 or data URL -> checked image bytes.

Every input is checked the same way, whichever model takes it (local CLIP or a provider): at
most VECINFER_IMAGE_MAX_BYTES bytes, one of ALLOWED_FORMATS, at most VECINFER_IMAGE_MAX_PIXELS
pixels as the header declares them (read before anything is decoded), then a full decode.

URLs are fetched hop by hop: redirects are followed here, not by aiohttp, and every hop is
checked before it is requested: http or https only, and unless
VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS, a host that is an address (in any form) must be public
and a name must resolve to public addresses only. Below that, the public-only session refuses
to connect to any non-public address (inference/http.py), which also stops DNS answers that
change between the check and the connection.

Error messages repeat at most a short prefix of what the client sent.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import re
from typing import Any

import aiohttp
from PIL import Image as PILImage
from yarl import URL

from vecinfer.config import Settings
from vecinfer.domain.errors import InvalidArgument
from vecinfer.inference.http import HttpClients, Resolve, non_public_address, refused_address, resolve_addresses

ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")
_FORMATS_TEXT = "JPEG, PNG, GIF, WEBP, BMP or TIFF"
# Media type per format PIL reports; a multi-picture JPEG (MPO) is a JPEG.
_MEDIA_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "GIF": "image/gif",
                "WEBP": "image/webp", "BMP": "image/bmp", "TIFF": "image/tiff"}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ECHO = 100  # the longest prefix of a client's URL or data that an error message repeats
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


def short(text: str, limit: int = _ECHO) -> str:
    """At most `limit` characters of `text`, for error messages."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_url(value: Any) -> bool:
    """Whether an Image.image value is an http(s) URL (else base64 or a data URL)."""
    return isinstance(value, str) and value[:8].lower().startswith(("http://", "https://"))


class ImageLoader:
    def __init__(self, settings: Settings, http: HttpClients, resolve: Resolve = resolve_addresses) -> None:
        self.settings = settings
        self.http = http
        self.resolve = resolve  # names -> addresses, for the check of each URL hop

    async def load(self, value: Any) -> PILImage.Image:
        """Any accepted image input, checked and decoded to RGB (for local models)."""
        data = await self.read(value)
        return await asyncio.to_thread(self.decode, data)

    async def as_data_url(self, value: Any) -> str:
        """Any accepted image input, checked, as a base64 data URL whose media type is the
        format found in the bytes (for providers that take only those)."""
        data = await self.read(value)
        image_format = await asyncio.to_thread(self.check, data)
        return f"data:{_MEDIA_TYPES[image_format]};base64,{base64.b64encode(data).decode()}"

    async def as_base64(self, value: Any) -> str:
        """A base64 or data URL input, checked, as bare base64 (for providers that fetch URLs
        themselves and take inline images as base64)."""
        if is_url(value):
            raise InvalidArgument("Image.image must be base64 or a data URL here, not a URL")
        data = await self.read(value)
        await asyncio.to_thread(self.check, data)
        return base64.b64encode(data).decode()

    async def read(self, value: Any) -> bytes:
        """The bytes of an image input: fetched, or decoded from a data URL or base64."""
        if not isinstance(value, str) or not value:
            raise InvalidArgument("Image.image must be a string: an http(s) URL, a data URL or base64 image bytes")
        if value.startswith("data:"):
            return _data_url_bytes(value, self.settings.image_max_bytes)
        if is_url(value):
            data, _ = await self.fetch(value)
            return data
        return _base64_bytes(value, self.settings.image_max_bytes)

    def decode(self, data: bytes) -> PILImage.Image:
        """Checked bytes decoded to an RGB image."""
        return self._open(data).convert("RGB")

    def check(self, data: bytes) -> str:
        """The format of checked (and fully decodable) image bytes."""
        image_format = self._open(data).format
        assert image_format is not None  # _open accepted it: a key of _MEDIA_TYPES
        return image_format

    def _open(self, data: bytes) -> PILImage.Image:
        limit = self.settings.image_max_bytes
        if len(data) > limit:
            raise InvalidArgument(f"Image is {len(data)} bytes, over the limit of {limit} (VECINFER_IMAGE_MAX_BYTES)")
        pixel_limit = self.settings.image_max_pixels
        try:
            # Only the allowed formats' parsers see the bytes; this reads the header only.
            image = PILImage.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
        except PILImage.DecompressionBombError as exc:  # PIL's own limit, far above a sane image
            found = _BOMB_PIXELS.search(str(exc))
            pixels = int(found.group(1)) if found else None
            if pixels is not None and pixels <= pixel_limit:  # VECINFER_IMAGE_MAX_PIXELS is set above PIL's
                raise InvalidArgument(f"Image is {pixels} pixels, over the image decoder's own limit of "
                                      f"{2 * (PILImage.MAX_IMAGE_PIXELS or 0)}") from None
            raise InvalidArgument(f"Image is {pixels or 'too many'} pixels, over the limit of {pixel_limit} "
                                  "(VECINFER_IMAGE_MAX_PIXELS)") from None
        except Exception:
            raise InvalidArgument(f"Image bytes are not a readable image: send {_FORMATS_TEXT}") from None
        if image.format not in _MEDIA_TYPES:
            raise InvalidArgument(f"Image format {image.format} is not accepted: send {_FORMATS_TEXT}")
        width, height = image.size
        if width * height > pixel_limit:
            raise InvalidArgument(
                f"Image is {width}x{height} = {width * height} pixels, over the limit of "
                f"{pixel_limit} (VECINFER_IMAGE_MAX_PIXELS)"
            )
        try:
            image.load()
        except Exception:
            raise InvalidArgument("Image data is corrupt or truncated: it could not be decoded") from None
        return image

    async def fetch(self, url: str) -> tuple[bytes, str]:
        """(bytes, content type) of an image URL, within the guards and limits."""
        seconds = self.settings.image_fetch_timeout_seconds
        try:
            target = URL(url)
        except ValueError:
            raise InvalidArgument(f"Image URL {short(url)} is not a valid URL") from None
        session = await self.http.session(public_only=not self.settings.image_allow_private_networks)
        try:
            async with asyncio.timeout(seconds):
                return await self._follow(url, target, session)
        except TimeoutError:
            raise InvalidArgument(f"Image URL {short(url)} did not answer within {seconds} s "
                                  "(VECINFER_IMAGE_FETCH_TIMEOUT_SECONDS)") from None

    async def _follow(self, url: str, target: URL, session: aiohttp.ClientSession) -> tuple[bytes, str]:
        most = self.settings.image_max_redirects
        for hop in range(most + 1):
            await self._check_hop(url, target, hop)
            try:
                async with session.get(target, allow_redirects=False) as response:
                    if response.status in _REDIRECTS:
                        target = _redirect_target(url, response)
                        continue
                    return await self._body(url, response)
            except TimeoutError:
                raise
            except aiohttp.ClientError as exc:
                if refused_address(exc):
                    raise InvalidArgument(_refused(url, target, hop, None)) from None
                raise InvalidArgument(f"Image URL {short(url)} could not be fetched: {type(exc).__name__}") from None
        raise InvalidArgument(f"Image URL {short(url)} redirected more than {most} times (VECINFER_IMAGE_MAX_REDIRECTS)")

    async def _check_hop(self, url: str, target: URL, hop: int) -> None:
        """Refuses one URL of a redirect chain (hop 0 is the client's) before it is requested."""
        where = _where(url, target, hop)
        if target.scheme not in ("http", "https"):
            raise InvalidArgument(f"{where} is not http or https: only those are fetched")
        host = target.raw_host
        if not host:
            raise InvalidArgument(f"{where} names no host")
        if self.settings.image_allow_private_networks:
            return
        try:
            address = await non_public_address(host, target.port or 0, self.resolve)
        except OSError:
            raise InvalidArgument(f"{where} names a host that does not resolve ({short(host, 60)})") from None
        if address is not None:
            raise InvalidArgument(_refused(url, target, hop, address))

    async def _body(self, url: str, response: aiohttp.ClientResponse) -> tuple[bytes, str]:
        limit = self.settings.image_max_bytes
        if response.status != 200:
            raise InvalidArgument(f"Image URL {short(url)} answered HTTP {response.status}")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not content_type.startswith("image/"):
            raise InvalidArgument(f"Image URL {short(url)} returned Content-Type {short(content_type, 60) or 'none'!r}, "
                                  "not image/*")
        if response.content_length is not None and response.content_length > limit:
            raise InvalidArgument(f"Image at {short(url)} is {response.content_length} bytes, over the limit of "
                                  f"{limit} (VECINFER_IMAGE_MAX_BYTES)")
        chunks, size = [], 0
        async for chunk in response.content.iter_chunked(1 << 16):
            size += len(chunk)
            if size > limit:
                raise InvalidArgument(f"Image at {short(url)} is over the limit of {limit} bytes (VECINFER_IMAGE_MAX_BYTES)")
            chunks.append(chunk)
        return b"".join(chunks), content_type


def _redirect_target(url: str, response: aiohttp.ClientResponse) -> URL:
    location = response.headers.get("Location")
    if not location:
        raise InvalidArgument(f"Image URL {short(url)} answered HTTP {response.status} without a Location")
    try:
        return response.url.join(URL(location))
    except ValueError:
        raise InvalidArgument(f"Image URL {short(url)} redirected to an invalid URL ({short(location)})") from None


def _where(url: str, target: URL, hop: int) -> str:
    """The subject of a message about one hop: the client's URL, and the hop if it is a redirect."""
    return f"Image URL {short(url)}" + (f" redirected to {short(str(target))}, which" if hop else "")


def _refused(url: str, target: URL, hop: int, address: str | None) -> str:
    where = _where(url, target, hop)
    at = f" ({short(address, 60)})" if address else ""
    return (f"{where} points at a private, loopback or link-local address{at}: refused. "
            "Set VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS=true to allow it")


def _base64_bytes(text: str, limit: int) -> bytes:
    text = text.strip()
    if len(text) > 4 * -(-limit // 3):  # more base64 than `limit` bytes can take
        raise InvalidArgument(f"Image is over the limit of {limit} bytes (VECINFER_IMAGE_MAX_BYTES)")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgument(
            "Image.image is neither an http(s) URL, a data URL nor valid base64: check the encoding"
        ) from None


def _data_url_bytes(url: str, limit: int) -> bytes:
    header, sep, payload = url.partition(",")
    if not sep:
        raise InvalidArgument("Image data URL has no ',' separating header and data: use data:image/png;base64,...")
    if not header.endswith(";base64"):
        raise InvalidArgument("Image data URL must be base64-encoded: data:image/<type>;base64,...")
    media = header[5:].split(";")[0]
    if media and not media.startswith("image/"):
        raise InvalidArgument(f"Image data URL has media type {short(media, 60)!r}, not image/*")
    return _base64_bytes(payload, limit)
