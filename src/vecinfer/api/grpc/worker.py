"""Where a gRPC call runs. The door is a synchronous grpc.server: each call arrives on one of
its worker threads. Queries and writes that embed nothing are answered right there (no event
loop, no thread hop: the cheapest path through Python's gRPC); everything else is a coroutine of
the service core, run on the service's event loop (where inference, provider calls and the REST
door live) while the worker waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import grpc

from vecinfer import metrics
from vecinfer.api.grpc.context import request_context
from vecinfer.domain import points as ops
from vecinfer.domain.query import QueryRequest, ScoredPoint
from vecinfer.domain.results import Answer, UpdateResult
from vecinfer.service.points import PointOperations

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


def query(points: PointOperations, loop: ServiceLoop, context: grpc.ServicerContext, message: Any,
          request: QueryRequest) -> Answer[list[ScoredPoint]]:
    ctx = request_context(context, message)
    answer = points.query_now(ctx, message.collection_name, request)
    if answer is None:
        answer = loop.run(context, points.query(ctx, message.collection_name, request))
    return answer


def query_batch(points: PointOperations, loop: ServiceLoop, context: grpc.ServicerContext, message: Any,
                requests: list[QueryRequest]) -> Answer[list[list[ScoredPoint]]]:
    ctx = request_context(context, message)
    answer = points.query_batch_now(ctx, message.collection_name, requests)
    if answer is None:
        answer = loop.run(context, points.query_batch(ctx, message.collection_name, requests))
    return answer


def write(points: PointOperations, loop: ServiceLoop, context: grpc.ServicerContext, message: Any,
          operation: ops.CollectionOperation, wait: bool) -> Answer[UpdateResult]:
    ctx = request_context(context, message)
    answer = points.write_one_now(ctx, message.collection_name, operation, wait)
    if answer is None:
        answer = loop.run(context, points.write_one(ctx, message.collection_name, operation, wait))
    return answer


def write_batch(points: PointOperations, loop: ServiceLoop, context: grpc.ServicerContext, message: Any,
                operations: list[ops.CollectionOperation], wait: bool) -> Answer[list[UpdateResult]]:
    ctx = request_context(context, message)
    answer = points.update_batch_now(ctx, message.collection_name, operations, wait)
    if answer is None:
        answer = loop.run(context, points.update_batch(ctx, message.collection_name, operations, wait))
    return answer
