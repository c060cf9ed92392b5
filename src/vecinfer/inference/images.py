"""Image inputs: http(s) URL (guarded fetch), base64 or data URL -> decoded RGB image."""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import ipaddress
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from PIL import Image as PILImage

from vecinfer.config import Settings
from vecinfer.domain.errors import InvalidArgument
from vecinfer.inference.http import HttpClients, RefusedAddress, is_public_address

ALLOWED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"}


class ImageLoader:
    def __init__(self, settings: Settings, http: HttpClients) -> None:
        self.settings = settings
        self.http = http

    async def load(self, value: Any) -> PILImage.Image:
        if not isinstance(value, str) or not value:
            raise InvalidArgument("Image.image must be a string: an http(s) URL, a data URL or base64 image bytes")
        if value.startswith("data:"):
            data = _data_url_bytes(value)
        elif value.startswith(("http://", "https://")):
            data, _ = await self.fetch(value)
        else:
            data = _base64_bytes(value)
        return await asyncio.to_thread(self.decode, data)

    def decode(self, data: bytes) -> PILImage.Image:
        limit = self.settings.image_max_bytes
        if len(data) > limit:
            raise InvalidArgument(f"Image is {len(data)} bytes, over the limit of {limit} (VECINFER_IMAGE_MAX_BYTES)")
        try:
            image = PILImage.open(io.BytesIO(data))
        except Exception:
            raise InvalidArgument("Image bytes are not a readable image: send JPEG, PNG, GIF, WEBP, BMP or TIFF") from None
        if image.format not in ALLOWED_FORMATS:
            raise InvalidArgument(f"Image format {image.format} is not accepted: send JPEG, PNG, GIF, WEBP, BMP or TIFF")
        width, height = image.size
        if width * height > self.settings.image_max_pixels:
            raise InvalidArgument(
                f"Image is {width}x{height} = {width * height} pixels, over the limit of "
                f"{self.settings.image_max_pixels} (VECINFER_IMAGE_MAX_PIXELS)"
            )
        try:
            image.load()
            return image.convert("RGB")
        except Exception:
            raise InvalidArgument("Image data is corrupt or truncated: it could not be decoded") from None

    async def as_data_url(self, value: Any) -> str:
        """Any accepted image input as a base64 data URL (for providers that take only those)."""
        if not isinstance(value, str) or not value:
            raise InvalidArgument("Image.image must be a string: an http(s) URL, a data URL or base64 image bytes")
        if value.startswith("data:"):
            _data_url_bytes(value)  # validates
            return value
        if value.startswith(("http://", "https://")):
            data, content_type = await self.fetch(value)
        else:
            data = _base64_bytes(value)
            content_type = None
        await asyncio.to_thread(self.decode, data)  # validates format and limits
        if not content_type:
            image_format = PILImage.open(io.BytesIO(data)).format
            assert image_format is not None  # decode() accepted it: one of ALLOWED_FORMATS
            content_type = f"image/{image_format.lower()}"
        return f"data:{content_type};base64,{base64.b64encode(data).decode()}"

    async def fetch(self, url: str) -> tuple[bytes, str]:
        """(bytes, content type) of an image URL, within the guards and limits."""
        allow_private = self.settings.image_allow_private_networks
        host = urlsplit(url).hostname or ""
        if not allow_private and _is_literal_private(host):
            raise InvalidArgument(_refused(url, host))
        session = await self.http.session(public_only=not allow_private)
        timeout = aiohttp.ClientTimeout(total=self.settings.image_fetch_timeout_seconds)
        limit = self.settings.image_max_bytes
        try:
            async with session.get(url, timeout=timeout, allow_redirects=True,
                                   max_redirects=self.settings.image_max_redirects) as response:
                if response.status != 200:
                    raise InvalidArgument(f"Image URL {url} answered HTTP {response.status}")
                content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if not content_type.startswith("image/"):
                    raise InvalidArgument(f"Image URL {url} returned Content-Type {content_type or 'none'!r}, not image/*")
                if response.content_length is not None and response.content_length > limit:
                    raise InvalidArgument(f"Image at {url} is {response.content_length} bytes, over the limit of {limit}")
                chunks, size = [], 0
                async for chunk in response.content.iter_chunked(1 << 16):
                    size += len(chunk)
                    if size > limit:
                        raise InvalidArgument(f"Image at {url} is over the limit of {limit} bytes")
                    chunks.append(chunk)
                return b"".join(chunks), content_type
        except RefusedAddress:
            raise InvalidArgument(_refused(url, host)) from None
        except aiohttp.TooManyRedirects:
            raise InvalidArgument(f"Image URL {url} redirected more than {self.settings.image_max_redirects} times") from None
        except TimeoutError:
            raise InvalidArgument(f"Image URL {url} did not answer within {self.settings.image_fetch_timeout_seconds} s") from None
        except aiohttp.ClientError as exc:
            if isinstance(exc.__cause__, RefusedAddress) or "non-public address" in str(exc):
                raise InvalidArgument(_refused(url, host)) from None
            raise InvalidArgument(f"Image URL {url} could not be fetched: {type(exc).__name__}") from None


def _refused(url: str, host: str) -> str:
    return (f"Image URL {url} points at a private, loopback or link-local address ({host}): refused. "
            "Set VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS=true to allow it")


def _is_literal_private(host: str) -> bool:
    if host in ("localhost",) or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return not is_public_address(host)


def _base64_bytes(text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgument(
            "Image.image is neither an http(s) URL, a data URL nor valid base64: check the encoding"
        ) from None


def _data_url_bytes(url: str) -> bytes:
    header, sep, payload = url.partition(",")
    if not sep:
        raise InvalidArgument("Image data URL has no ',' separating header and data: use data:image/png;base64,...")
    if not header.endswith(";base64"):
        raise InvalidArgument("Image data URL must be base64-encoded: data:image/<type>;base64,...")
    media = header[5:].split(";")[0]
    if media and not media.startswith("image/"):
        raise InvalidArgument(f"Image data URL has media type {media!r}, not image/*")
    return _base64_bytes(payload)
