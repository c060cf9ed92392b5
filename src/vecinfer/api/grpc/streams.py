"""A bound on open streaming calls (health Watch, server reflection). The door's worker threads
each serve one call at a time and a stream holds its thread for as long as the client keeps it
open, so without a bound a few idle streams could leave no thread for queries and writes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from vecinfer.api.grpc.wrapping import HandlerWrapper


class StreamBound(HandlerWrapper):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self._limit = limit
        self._open = threading.BoundedSemaphore(limit)

    def wraps(self, handler: Any) -> bool:
        return bool(handler.request_streaming or handler.response_streaming)

    def wrap(self, method: str, handler: Any) -> Any:
        return self._bound(method, handler)

    def _bound(self, method: str, handler: Any) -> Any:
        kwargs = {"request_deserializer": handler.request_deserializer,
                  "response_serializer": handler.response_serializer}
        if handler.request_streaming and handler.response_streaming:
            return grpc.stream_stream_rpc_method_handler(self._streaming(method, handler.stream_stream), **kwargs)
        if handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(self._streaming(method, handler.unary_stream), **kwargs)
        return grpc.stream_unary_rpc_method_handler(self._unary(method, handler.stream_unary), **kwargs)

    def _admit(self, method: str, context: grpc.ServicerContext) -> None:
        if not self._open.acquire(blocking=False):
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                          f"{method}: {self._limit} streaming calls are open, the most this server keeps "
                          "(VECINFER_GRPC_MAX_STREAMS); close idle ones or retry later")

    def _streaming(self, method: str, behavior: Callable[[Any, grpc.ServicerContext], Iterator[Any]]) -> Any:
        def bounded(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            self._admit(method, context)
            try:
                yield from behavior(request, context)
            finally:
                self._open.release()

        return bounded

    def _unary(self, method: str, behavior: Callable[[Any, grpc.ServicerContext], Any]) -> Any:
        def bounded(request: Any, context: grpc.ServicerContext) -> Any:
            self._admit(method, context)
            try:
                return behavior(request, context)
            finally:
                self._open.release()

        return bounded
