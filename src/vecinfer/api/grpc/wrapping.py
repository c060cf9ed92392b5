"""Interceptors that wrap some methods' handlers: each handler is wrapped once, when its method
is first called, since a method's handler never changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc


class HandlerWrapper(grpc.ServerInterceptor):
    def __init__(self) -> None:
        self._wrapped: dict[str, Any] = {}

    def wraps(self, handler: Any) -> bool:
        """Whether this interceptor changes `handler` (a method's own)."""
        raise NotImplementedError

    def wrap(self, method: str, handler: Any) -> Any:
        raise NotImplementedError

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        method: str = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler = continuation(handler_call_details)
        if handler is None or not self.wraps(handler):
            return handler
        # Methods a client made up have no handler and never get here: the cache stays bounded.
        wrapped = self._wrapped[method] = self.wrap(method, handler)
        return wrapped
