"""The one place where domain errors become gRPC status codes."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from vecinfer import metrics
from vecinfer.domain import errors

log = logging.getLogger(__name__)

# Checked in order: subclasses before their bases.
_CODES: tuple[tuple[type[errors.VecinferError], grpc.StatusCode], ...] = (
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.RateLimited, grpc.StatusCode.RESOURCE_EXHAUSTED),  # strict mode's rate limits; retry-after trailer
    (errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
    (errors.Unimplemented, grpc.StatusCode.UNIMPLEMENTED),
)


def status_of(exc: errors.VecinferError) -> grpc.StatusCode:
    if isinstance(exc, errors.UpstreamAnswered):
        return grpc.StatusCode[exc.code] if exc.code in grpc.StatusCode.__members__ else grpc.StatusCode.UNKNOWN
    for kind, code in _CODES:
        if isinstance(exc, kind):
            return code
    return grpc.StatusCode.INTERNAL


async def abort_with(context: grpc.aio.ServicerContext, exc: errors.VecinferError) -> None:
    """End the call with the status of `exc` (and its trailers: retry-after, or the upstream's)."""
    if not exc.counted:
        metrics.REJECTED.labels("grpc", status_of(exc).name).inc()
    if isinstance(exc, errors.ResourceExhausted) and exc.retry_after is not None:
        context.set_trailing_metadata((("retry-after", str(math.ceil(exc.retry_after))),))
    if isinstance(exc, errors.UpstreamAnswered) and exc.trailing:
        context.set_trailing_metadata(exc.trailing)
    await context.abort(status_of(exc), exc.message)


S = TypeVar("S")
Req = TypeVar("Req")
Resp = TypeVar("Resp")


def grpc_errors(
    method: Callable[[S, Req, grpc.aio.ServicerContext], Awaitable[Resp]],
) -> Callable[[S, Req, grpc.aio.ServicerContext], Awaitable[Resp]]:
    """Decorator for servicer methods: domain errors -> status, anything else -> INTERNAL."""

    @functools.wraps(method)
    async def wrapper(self: S, request: Req, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await method(self, request, context)
        except errors.VecinferError as exc:
            await abort_with(context, exc)
        except grpc.aio.AbortError:
            raise
        except Exception:
            log.exception("unexpected error in %s", method.__qualname__)
            await context.abort(grpc.StatusCode.INTERNAL, f"Service internal error in {method.__name__}: see server log")

    return wrapper
