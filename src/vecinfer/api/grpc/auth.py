"""API keys on the gRPC door: an interceptor that answers UNAUTHENTICATED or PERMISSION_DENIED
before a servicer runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from vecinfer.api.auth import INVALID, MISSING, OPEN_GRPC_METHODS, READ_GRPC_METHODS, READ_ONLY, Access, AccessKeys


def _refusal(handler: Any, code: grpc.StatusCode, message: str) -> Any:
    """A handler of the same shape as `handler` that only aborts."""

    def unary(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(code, message)

    def streaming(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(code, message)
        yield  # pragma: no cover - makes this a generator

    kwargs = {"request_deserializer": handler.request_deserializer,
              "response_serializer": handler.response_serializer}
    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(streaming, **kwargs)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(unary, **kwargs)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(streaming, **kwargs)
    return grpc.unary_unary_rpc_method_handler(unary, **kwargs)


class ApiKeyInterceptor(grpc.ServerInterceptor):
    def __init__(self, keys: AccessKeys) -> None:
        self._keys = keys

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        method: str = handler_call_details.method
        handler = continuation(handler_call_details)
        if method in OPEN_GRPC_METHODS or handler is None:
            return handler
        metadata = {key.lower(): value for key, value in (handler_call_details.invocation_metadata or ())
                    if isinstance(value, str)}
        api_key, authorization = metadata.get("api-key"), metadata.get("authorization")
        if api_key is None and authorization is None:
            return _refusal(handler, grpc.StatusCode.UNAUTHENTICATED, MISSING)
        access = self._keys.check(api_key, authorization)
        if access is None:
            return _refusal(handler, grpc.StatusCode.UNAUTHENTICATED, INVALID)
        if access is Access.READ and method not in READ_GRPC_METHODS:
            return _refusal(handler, grpc.StatusCode.PERMISSION_DENIED, READ_ONLY)
        return handler
