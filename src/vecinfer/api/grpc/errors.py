"""The one place where domain errors become gRPC status codes."""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import math
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

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


def abort_with(context: grpc.ServicerContext, exc: errors.VecinferError) -> NoReturn:
    """End the call with the status of `exc` (and its trailers: retry-after, or the upstream's)."""
    if not exc.counted:
        metrics.REJECTED.labels("grpc", status_of(exc).name).inc()
    if isinstance(exc, errors.ResourceExhausted) and exc.retry_after is not None:
        context.set_trailing_metadata((("retry-after", str(math.ceil(exc.retry_after))),))
    if isinstance(exc, errors.UpstreamAnswered) and exc.trailing:
        context.set_trailing_metadata(exc.trailing)
    context.abort(status_of(exc), exc.message)
    raise AssertionError("grpc's abort raises")  # pragma: no cover


def call_ended(context: grpc.ServicerContext) -> NoReturn:
    """The status of a call whose work was cancelled because the call itself ended (its client
    cancelled, or its deadline passed): nobody is left to read it."""
    context.abort(grpc.StatusCode.CANCELLED, "the call ended before its work finished")
    raise AssertionError("grpc's abort raises")  # pragma: no cover


S = TypeVar("S")
Req = TypeVar("Req")
Resp = TypeVar("Resp")


def grpc_errors(
    method: Callable[[S, Req, grpc.ServicerContext], Resp],
) -> Callable[[S, Req, grpc.ServicerContext], Resp]:
    """Decorator for servicer methods: domain errors -> status, anything else -> INTERNAL."""

    @functools.wraps(method)
    def wrapper(self: S, request: Req, context: grpc.ServicerContext) -> Any:
        try:
            return method(self, request, context)
        except errors.VecinferError as exc:
            abort_with(context, exc)
        except concurrent.futures.CancelledError:
            call_ended(context)
        except Exception:
            log.exception("unexpected error in %s", method.__qualname__)
            context.abort(grpc.StatusCode.INTERNAL, f"Service internal error in {method.__name__}: see server log")

    return wrapper
