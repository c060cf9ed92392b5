"""Where a gRPC call runs. The door is a synchronous grpc.server: each call arrives on one of
its worker threads. Queries and writes are answered right there (no event loop, no thread hop:
the cheapest path through Python's gRPC), except the embedding of their inference objects,
which runs on the service's event loop (where the micro-batchers, provider calls and the REST
door live) while the worker waits. The other operations are coroutines of the service core,
run on the loop the same way."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Coroutine
from typing import Any, TypeVar

import grpc

from vecinfer import metrics
from vecinfer.api.grpc.context import request_context
from vecinfer.domain import points as ops
from vecinfer.domain.query import QueryRequest, ScoredPoint
from vecinfer.domain.results import Answer, UpdateResult
from vecinfer.service.points import PointOperations
from vecinfer.service.running import OnLoop

T = TypeVar("T")


class ServiceLoop:
    """The service's event loop, seen from the door's worker threads."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def run(self, context: grpc.ServicerContext, work: Coroutine[Any, Any, T]) -> T:
        """`work`'s result, run on the loop; a call that ends first (cancelled by its client,
        past its deadline) cancels it, so it stops costing CPU."""
        metrics.GRPC_LOOP_CALLS.inc()
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        context.add_callback(future.cancel)  # a no-op once the work is done
        return future.result()  # concurrent.futures.CancelledError once the call has ended

    def for_call(self, context: grpc.ServicerContext) -> OnLoop:
        """`run` for this call, as the service's thread paths take it."""
        return functools.partial(self.run, context)


def query(points: PointOperations, loop: ServiceLoop, context: grpc.ServicerContext, message: Any,
          request: QueryRequest) -> Answer[list[ScoredPoint]]:
    return points.query_now(request_context(context, message), message.collection_name, request,
                            loop.for_call(context))


def query_batch(points: PointOperations, loop: ServiceLoop, context: grpc.ServicerContext, message: Any,
                requests: list[QueryRequest]) -> Answer[list[list[ScoredPoint]]]:
    return points.query_batch_now(request_context(context, message), message.collection_name, requests,
                                  loop.for_call(context))


def write(points: PointOperations, loop: ServiceLoop, context: grpc.ServicerContext, message: Any,
          operation: ops.CollectionOperation, wait: bool) -> Answer[UpdateResult]:
    return points.write_one_now(request_context(context, message), message.collection_name, operation, wait,
                                loop.for_call(context))


def write_batch(points: PointOperations, loop: ServiceLoop, context: grpc.ServicerContext, message: Any,
                operations: list[ops.CollectionOperation], wait: bool) -> Answer[list[UpdateResult]]:
    return points.update_batch_now(request_context(context, message), message.collection_name, operations, wait,
                                   loop.for_call(context))
