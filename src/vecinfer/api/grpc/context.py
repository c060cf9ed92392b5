"""What a gRPC call carries besides its message: provider keys in metadata, the deadline."""

from __future__ import annotations

import grpc

from vecinfer.service.context import RequestContext, credentials_from


def request_context(context: grpc.aio.ServicerContext) -> RequestContext:
    pairs = [(k, v) for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)]
    return RequestContext.within("grpc", credentials_from(pairs), context.time_remaining())
