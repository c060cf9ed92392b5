"""Requests that do not decode: INVALID_ARGUMENT naming the method, instead of the UNKNOWN
grpcio answers when a deserializer raises before any servicer runs."""

from __future__ import annotations

from typing import Any

import grpc

from vecinfer.api.grpc.wrapping import HandlerWrapper


class _Undecodable:
    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem


class DecodeGuard(HandlerWrapper):
    def wraps(self, handler: Any) -> bool:
        return not (handler.request_streaming or handler.response_streaming or handler.request_deserializer is None)

    def wrap(self, method: str, handler: Any) -> Any:
        return _guard(method, handler)


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
