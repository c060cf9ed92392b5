"""Domain errors. Raised anywhere below the doors and mapped once per door: to gRPC status
codes in api/grpc/errors.py, to HTTP statuses in api/rest/errors.py."""

from __future__ import annotations


class VecinferError(Exception):
    """Base class; `message` is what the client reads in the status details."""

    # Set once the service core has counted the request this error ended.
    counted = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(VecinferError):
    """The request is malformed or does not fit the collection (INVALID_ARGUMENT / 400)."""


class StrictModeRefused(InvalidArgument):
    """The collection's strict mode forbids the request (INVALID_ARGUMENT / 400), in Qdrant's
    words: `Bad request: {what}. Help: {solution}`, or without the help for size limits."""


class ValidationFailed(InvalidArgument):
    """A well-formed request holds a value outside its allowed range, e.g. `limit: 0`
    (INVALID_ARGUMENT / 422). `field` names the offending field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"Validation error: {field}: {problem}")
        self.field = field
        self.problem = problem


class NotFound(VecinferError):
    """A collection or point the request names does not exist (NOT_FOUND / 404)."""


class AlreadyExists(VecinferError):
    """The object the request creates exists already (ALREADY_EXISTS / 409)."""


class PermissionDenied(VecinferError):
    """An upstream service refused the caller's credentials (PERMISSION_DENIED / 403)."""


class ResourceExhausted(VecinferError):
    """A limit was hit; `retry_after` seconds, when known, go to the client
    (gRPC trailing metadata / HTTP Retry-After)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(ResourceExhausted):
    """A collection's strict-mode read or write rate limit refused the request
    (RESOURCE_EXHAUSTED / 429); `retry_after` is None when waiting cannot help."""


class InsufficientStorage(ResourceExhausted):
    """The disk is full (RESOURCE_EXHAUSTED / 507); reads go on, writes may be retried."""


class Unavailable(VecinferError):
    """A service we depend on cannot be reached (UNAVAILABLE / 503)."""


class UpstreamFailed(Unavailable):
    """An external provider answered with an error of its own (UNAVAILABLE / 502)."""


class UpstreamTimeout(Unavailable):
    """An external provider did not answer in time (UNAVAILABLE / 504)."""


class UpstreamAnswered(VecinferError):
    """Gateway mode: the upstream refused the forwarded request; its status and message go back
    to the caller unchanged. `code` is the gRPC status name (e.g. "NOT_FOUND")."""

    def __init__(self, code: str, message: str, trailing: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.trailing = trailing


class DeadlineExceeded(VecinferError):
    """The request ran past the time the client allowed (DEADLINE_EXCEEDED / 408)."""


class Unimplemented(VecinferError):
    """A valid request asks for a feature vecinfer does not have yet (UNIMPLEMENTED / 501)."""

    def __init__(self, feature: str) -> None:
        super().__init__(f"Not implemented: {feature} is not supported by vecinfer yet")
        self.feature = feature


def clip(text: str, limit: int = 64) -> str:
    """A client's input as it may appear in an error message: a short prefix, never all of it."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def collection_not_found(name: str) -> NotFound:
    return NotFound(f"Not found: Collection `{clip(name)}` doesn't exist!")
