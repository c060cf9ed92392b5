"""Requests that do not decode: INVALID_ARGUMENT naming the method, instead of the UNKNOWN
grpcio answers when a deserializer raises before any servicer runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc


class _Undecodable:
    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem


class DecodeGuard(grpc.ServerInterceptor):
    def __init__(self) -> None:
        # A method's handler never changes: wrap it once, not on every call.
        self._guarded: dict[str, Any] = {}

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        method: str = handler_call_details.method
        guarded = self._guarded.get(method)
        if guarded is not None:
            return guarded
        handler = continuation(handler_call_details)
        if (handler is None or handler.request_streaming or handler.response_streaming
                or handler.request_deserializer is None):
            return handler
        guarded = self._guarded[method] = _guard(method, handler)
        return guarded


def _guard(method: str, handler: Any) -> Any:
    """The unary handler, with a deserializer that never raises."""
    deserialize = handler.request_deserializer
    behavior = handler.unary_unary

    def safe_deserialize(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception as exc:
            return _Undecodable(type(exc).__name__)

    def guarded(request: Any, context: grpc.ServicerContext) -> Any:
        if isinstance(request, _Undecodable):
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"The request does not decode as the message {method} takes ({request.problem}): "
                "corrupt bytes, a string that is not UTF-8, or messages nested deeper than 100 levels",
            )
        return behavior(request, context)

    return grpc.unary_unary_rpc_method_handler(guarded, request_deserializer=safe_deserialize,
                                               response_serializer=handler.response_serializer)
