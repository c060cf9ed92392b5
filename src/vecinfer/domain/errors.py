"""Domain errors. Raised anywhere below api/, mapped to gRPC status codes in api/errors.py."""


class VecinferError(Exception):
    """Base class; `message` is what the client reads in the status details."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgument(VecinferError):
    """The request is malformed or does not fit the collection (INVALID_ARGUMENT)."""


class NotFound(VecinferError):
    """A collection or point the request names does not exist (NOT_FOUND)."""


class AlreadyExists(VecinferError):
    """The object the request creates exists already (ALREADY_EXISTS)."""


class PermissionDenied(VecinferError):
    """An upstream service refused the caller's credentials (PERMISSION_DENIED)."""


class ResourceExhausted(VecinferError):
    """A limit was hit; `retry_after` seconds, when known, go to the client as metadata."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(VecinferError):
    """An upstream service is down or timed out (UNAVAILABLE)."""


def collection_not_found(name: str) -> NotFound:
    return NotFound(f"Not found: Collection `{name}` doesn't exist!")
