"""POST JSON to a provider: retries for 429 / 5xx / connection errors with backoff that
honours Retry-After, all within the request's deadline; failures mapped to domain errors that
name provider and model. The API key travels only in the headers and never in a message."""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from typing import Any

import aiohttp

from vecinfer.config import Settings
from vecinfer.domain.errors import (
    DeadlineExceeded,
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    Unavailable,
    UpstreamFailed,
    UpstreamTimeout,
)
from vecinfer.inference.backend import InferenceContext

_BACKOFF_START = 0.25
_BACKOFF_CAP = 8.0


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _message(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:500] or "no message"
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        for key in ("message", "detail", "error"):
            if data.get(key):
                return str(data[key]) if not isinstance(data[key], (dict, list)) else json.dumps(data[key])[:500]
    return json.dumps(data)[:500]


class _Retryable(Exception):
    def __init__(self, error: Exception, retry_after: float | None) -> None:
        self.error = error
        self.retry_after = retry_after


async def post_json(session: aiohttp.ClientSession, url: str, headers: dict[str, str], body: dict[str, Any],
                    settings: Settings, context: InferenceContext, who: str) -> dict:
    """`who` names provider and model in errors, e.g. "openai model text-embedding-3-small"."""
    attempt = 0
    while True:
        attempt += 1
        remaining = context.remaining()
        if remaining is not None and remaining <= 0:
            raise DeadlineExceeded(f"Timeout: {who}: no time left within the request's deadline")
        # When the client's deadline comes before the provider timeout, running out of time is
        # the client's timeout (408 / DEADLINE_EXCEEDED), not the provider's fault (504).
        bounded_by_client = remaining is not None and remaining < settings.provider_timeout_seconds
        timeout = settings.provider_timeout_seconds if remaining is None else min(settings.provider_timeout_seconds, remaining)
        try:
            return await _once(session, url, headers, body, timeout, who)
        except _Retryable as retry:
            if bounded_by_client and isinstance(retry.error, UpstreamTimeout):
                raise DeadlineExceeded(f"Timeout: {who} did not answer within the request's deadline") from None
            wait = retry.retry_after
            if wait is None:
                wait = min(_BACKOFF_CAP, _BACKOFF_START * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
            remaining = context.remaining()
            if attempt >= settings.provider_max_attempts or (remaining is not None and wait >= remaining):
                raise retry.error from None
            await asyncio.sleep(wait)


async def _once(session: aiohttp.ClientSession, url: str, headers: dict[str, str], body: dict[str, Any],
                timeout: float, who: str) -> dict:
    try:
        async with session.post(url, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            text = await response.text()
            status = response.status
            retry_after = _retry_after(response.headers.get("Retry-After"))
    except TimeoutError:
        raise _Retryable(UpstreamTimeout(f"{who}: the provider did not answer within {timeout:.1f} s"), None) from None
    except aiohttp.ClientError as exc:
        raise _Retryable(Unavailable(f"{who}: cannot reach the provider ({type(exc).__name__})"), None) from None
    if status == 200:
        try:
            return json.loads(text)
        except ValueError:
            raise UpstreamFailed(f"{who}: the provider answered with something that is not JSON") from None
    message = _message(text)
    if status == 429:
        raise _Retryable(ResourceExhausted(f"{who}: rate limited by the provider: {message}", retry_after), retry_after)
    if status >= 500:
        raise _Retryable(UpstreamFailed(f"{who}: provider error {status}: {message}"), retry_after)
    if status in (401, 403):
        raise PermissionDenied(f"{who}: the provider refused the API key ({status}): {message}")
    raise InvalidArgument(f"{who}: the provider rejected the request ({status}): {message}")
