"""The one place where errors become HTTP answers, in Qdrant's error envelope and codes."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from vecinfer import metrics
from vecinfer.api.rest.json_input import JsonFormatError
from vecinfer.domain import errors

log = logging.getLogger(__name__)

# Checked in order: subclasses before their bases.
_STATUSES: tuple[tuple[type[errors.VecinferError], int], ...] = (
    (errors.ValidationFailed, 422),
    (errors.InvalidArgument, 400),
    (errors.NotFound, 404),
    (errors.AlreadyExists, 409),
    (errors.PermissionDenied, 403),
    (errors.InsufficientStorage, 507),
    (errors.RateLimited, 429),  # strict mode's read/write rate limits; Retry-After when waiting helps
    (errors.ResourceExhausted, 429),
    (errors.UpstreamFailed, 502),
    (errors.UpstreamTimeout, 504),
    (errors.Unavailable, 503),
    (errors.DeadlineExceeded, 408),
    (errors.Unimplemented, 501),
)


def status_of(exc: errors.VecinferError) -> int:
    for kind, status in _STATUSES:
        if isinstance(exc, kind):
            return status
    return 500


def error_response(status: int, message: str, started: float, headers: dict[str, str] | None = None) -> web.Response:
    body = {"status": {"error": message}, "time": time.perf_counter() - started}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json", headers=headers)


def message_of(exc: errors.VecinferError) -> str:
    if isinstance(exc, errors.ValidationFailed):
        return f"Validation error in JSON body: [{exc.field}: {exc.problem}]"
    return exc.message


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    try:
        return await handler(request)
    except JsonFormatError as exc:
        metrics.REJECTED.labels("rest", "400").inc()
        return error_response(400, f"Format error in JSON body: {exc}", started)
    except errors.VecinferError as exc:
        if not exc.counted:
            metrics.REJECTED.labels("rest", str(status_of(exc))).inc()
        headers = None
        if isinstance(exc, errors.ResourceExhausted) and exc.retry_after is not None:
            headers = {"Retry-After": str(math.ceil(exc.retry_after))}
        return error_response(status_of(exc), message_of(exc), started, headers)
    except RecursionError:
        metrics.REJECTED.labels("rest", "400").inc()
        return error_response(400, "Format error in JSON body: the body is nested too deeply", started)
    except web.HTTPRequestEntityTooLarge:
        return error_response(400, f"Format error in JSON body: the body is larger than "
                                   f"{request.app._client_max_size} bytes (VECINFER_REST_MAX_REQUEST_MB)", started)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return error_response(500, "Service internal error: see server log", started)
