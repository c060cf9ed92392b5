"""The one place where domain errors become gRPC status codes."""

from __future__ import annotations

import functools
import logging
import math

import grpc

from vecinfer.domain import errors

log = logging.getLogger(__name__)

_CODES = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
}


def grpc_errors(method):
    """Decorator for servicer methods: domain errors -> status, anything else -> INTERNAL."""

    @functools.wraps(method)
    async def wrapper(self, request, context: grpc.aio.ServicerContext):
        try:
            return await method(self, request, context)
        except errors.VecinferError as exc:
            if isinstance(exc, errors.ResourceExhausted) and exc.retry_after is not None:
                context.set_trailing_metadata((("retry-after", str(math.ceil(exc.retry_after))),))
            await context.abort(_CODES.get(type(exc), grpc.StatusCode.INTERNAL), exc.message)
        except grpc.aio.AbortError:
            raise
        except Exception:
            log.exception("unexpected error in %s", method.__qualname__)
            await context.abort(grpc.StatusCode.INTERNAL, f"Service internal error in {method.__name__}: see server log")

    return wrapper
