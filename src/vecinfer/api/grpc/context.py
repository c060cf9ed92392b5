"""What a gRPC call carries besides its message: provider keys in metadata, the deadline."""

from __future__ import annotations

import grpc
from google.protobuf.message import Message

from vecinfer.service.context import RequestContext, credentials_from

# Remaining times beyond this (about 31 years) mean "no deadline".
_NO_DEADLINE = 1e9


def request_context(context: grpc.ServicerContext, request: Message | None = None) -> RequestContext:
    """Provider keys from metadata; the deadline is the call's, shortened by the message's own
    `timeout` field (seconds) where it has one."""
    pairs = [(k, v) for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)]
    seconds = context.time_remaining()
    if seconds is not None and seconds > _NO_DEADLINE:
        seconds = None  # the synchronous server's way of saying the call has no deadline (~2**63 s)
    # Messages without the field (and a 0, proto3's "not set") leave it None.
    timeout = int(getattr(request, "timeout", 0) or 0) or None
    if timeout is not None:
        seconds = timeout if seconds is None else min(seconds, timeout)
    return RequestContext.within("grpc", credentials_from(pairs), seconds, timeout)
