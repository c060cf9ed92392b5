"""How every operation runs: timed, counted, bounded by the client's deadline."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, Protocol, TypeVar

from vecinfer import metrics
from vecinfer.domain.errors import DeadlineExceeded, VecinferError
from vecinfer.domain.results import Answer
from vecinfer.service.context import RequestContext

T = TypeVar("T")


class OnLoop(Protocol):
    """Runs a coroutine on the service's event loop from another thread and returns its result
    (the gRPC door's, which also cancels it when the call ends)."""

    def __call__(self, work: Coroutine[Any, Any, T], /) -> T: ...
# The usage of work that embeds nothing.
NO_USAGE: dict[str, int] = {}


def no_check() -> None:
    return None


async def within_deadline(ctx: RequestContext, what: str, work: Awaitable[T]) -> T:
    """`work`, given up at the client's deadline (DeadlineExceeded)."""
    remaining = ctx.remaining()
    if remaining is None:
        return await work
    if remaining <= 0:
        raise DeadlineExceeded(f"Timeout: {what} had no time left before the request's deadline")
    try:
        return await asyncio.wait_for(work, remaining)
    except TimeoutError:
        raise DeadlineExceeded(f"Timeout: {what} did not finish within the request's timeout") from None


async def answer(ctx: RequestContext, operation: str, work: Callable[[], Awaitable[tuple[T, dict[str, int]]]],
                 bounded: bool = True, check: Callable[[], None] = no_check) -> Answer[T]:
    """Check the request's bounds, run `work` (which returns the result and the tokens it
    spent) and wrap it in an Answer. `bounded` work stops waiting at the client's deadline;
    writes are not bounded once they reach storage (the request applies whole), only their
    inference is."""
    with _counted(ctx, operation) as started:
        check()
        if bounded:
            result, usage = await within_deadline(ctx, operation, work())
        else:
            result, usage = await work()
        return Answer(result, time.perf_counter() - started, usage)


def answer_now(ctx: RequestContext, operation: str, work: Callable[[], tuple[T, dict[str, int]]],
               bounded: bool = True, check: Callable[[], None] = no_check) -> Answer[T]:
    """`answer` for work run in the calling thread (the gRPC door's workers): no event loop,
    no thread hop. A deadline already passed refuses the work. Work cannot be stopped midway
    here: `bounded` work that overruns the deadline answers DeadlineExceeded when it ends (the
    call's own deadline has ended the call by then; a shorter `timeout` in the message is
    answered as Qdrant does)."""
    with _counted(ctx, operation) as started:
        check()
        remaining = ctx.remaining()
        if remaining is not None and remaining <= 0:
            raise DeadlineExceeded(f"Timeout: {operation} had no time left before the request's deadline")
        result, usage = work()
        remaining = ctx.remaining()
        if bounded and remaining is not None and remaining < 0:
            raise DeadlineExceeded(f"Timeout: {operation} did not finish within the request's timeout")
        return Answer(result, time.perf_counter() - started, usage)


@contextlib.contextmanager
def _counted(ctx: RequestContext, operation: str) -> Iterator[float]:
    """Counts the operation and its outcome, and times it."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield started
    except VecinferError as exc:
        outcome = type(exc).__name__
        exc.counted = True
        raise
    except (asyncio.CancelledError, concurrent.futures.CancelledError):
        outcome = "cancelled"
        raise
    except Exception:
        outcome = "internal"
        raise
    finally:
        metrics.REQUESTS.labels(ctx.door, operation, outcome).inc()
        metrics.REQUEST_SECONDS.labels(ctx.door, operation).observe(time.perf_counter() - started)
