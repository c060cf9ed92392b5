"""How every operation runs: timed, counted, bounded by the client's deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from vecinfer import metrics
from vecinfer.domain.errors import DeadlineExceeded, VecinferError
from vecinfer.domain.results import Answer
from vecinfer.service.context import RequestContext

T = TypeVar("T")


async def answer(ctx: RequestContext, operation: str, work: Callable[[], Awaitable[tuple[T, dict[str, int]]]],
                 bounded: bool = True) -> Answer[T]:
    """Run `work` (which returns the result and the tokens it spent) and wrap it in an Answer.
    `bounded` work stops waiting at the client's deadline; writes are not bounded once
    they reach storage (the request applies whole), only their inference is."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        remaining = ctx.remaining()
        if bounded and remaining is not None:
            if remaining <= 0:
                raise DeadlineExceeded(f"Timeout: {operation} had no time left before its deadline")
            try:
                result, usage = await asyncio.wait_for(work(), remaining)
            except TimeoutError:
                raise DeadlineExceeded(f"Timeout: {operation} did not finish within the request's timeout") from None
        else:
            result, usage = await work()
        return Answer(result, time.perf_counter() - started, usage)
    except VecinferError as exc:
        outcome = type(exc).__name__
        exc.counted = True
        raise
    except asyncio.CancelledError:
        outcome = "cancelled"
        raise
    except Exception:
        outcome = "internal"
        raise
    finally:
        metrics.REQUESTS.labels(ctx.door, operation, outcome).inc()
        metrics.REQUEST_SECONDS.labels(ctx.door, operation).observe(time.perf_counter() - started)
