"""Micro-batching: concurrent requests for one model are queued briefly and run together.

Each run goes to a worker thread (onnxruntime releases the GIL), so throughput under load
approaches the model's batch throughput while one request alone waits at most `max_wait`.

Fairness: every request waits in its own queue, and a batch is formed round-robin across the
waiting requests, each taking an equal share of the batch's room in turn. One request alone
fills whole batches (its throughput is unchanged); a request that arrives behind a big one
goes into the next batch instead of behind all of it. That next batch holds only requests that
had nothing run yet (so a small query is not padded out with a big request's items), unless
the batch before was such a batch too: a stream of small requests cannot starve a big one.

Cancellation: a request whose caller stopped waiting (cancelled, past its deadline, or failed
in an earlier batch) is dropped from the queues; batches already running finish.

Counted per batcher (GET /metrics): batches started, inputs in them, inputs dropped unrun.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from vecinfer import metrics

# What a batch function returns for a batch: one result per item, in item order (a list, or
# an array whose rows are the results).
BatchResults = Sequence[Any] | np.ndarray


class _Request:
    """One submit(): its items, how far batches have taken them, and its results."""

    __slots__ = ("items", "taken", "results", "pending", "future")

    def __init__(self, items: list[Any], future: asyncio.Future[list[Any]]) -> None:
        self.items = items
        self.taken = 0  # items[:taken] are in batches (running or done)
        self.results: list[Any] = [None] * len(items)
        self.pending = len(items)  # results still to come
        self.future = future


# A slice items[start:end] of one request, placed in a batch.
_Part = tuple[_Request, int, int]


class MicroBatcher:
    def __init__(self, run: Callable[[list[Any]], BatchResults], max_batch: int, max_wait: float, workers: int,
                 name: str, cost: Callable[[Any], int] | None = None, max_cost: int | None = None,
                 run_alone: Callable[[list[Any]], BatchResults] | None = None) -> None:
        """`cost`/`max_cost`, when given, also bound a batch by the summed cost of its items
        (a batch always holds at least one item). `run_alone`, when given, runs a batch that
        starts while every other worker is idle and nothing waits (a lone query: it may use
        every core, where `run` uses one core beside other batches)."""
        self._run = run
        self._run_alone = run_alone
        self._max_batch = max(1, max_batch)
        self._max_wait = max_wait
        self._cost = cost
        self._max_cost = max_cost
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"infer-{name}")
        self._workers = workers
        self._batches = metrics.BATCHES.labels(name)
        self._batch_inputs = metrics.BATCH_INPUTS.labels(name)
        self._batches_alone = metrics.BATCHES_ALONE.labels(name)
        self._dropped = metrics.DROPPED_INPUTS.labels(name)
        # Requests with items not yet in a batch, in round-robin order.
        self._ring: deque[_Request] = deque()
        # Idle workers, each waiting on its own future: an arrival wakes exactly one.
        self._idle: deque[asyncio.Future[None]] = deque()
        self._tasks: list[asyncio.Task[None]] = []
        self._last_held_back = False  # the last batch left requests with items running aside

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._worker()) for _ in range(self._workers)]

    def _wake_one(self) -> None:
        while self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _sleep(self, timeout: float | None = None) -> None:
        """Until work arrives (or `timeout` passes: TimeoutError). A worker topping up a
        batch is woken before idle ones, so arrivals join the batch about to run."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if timeout is None:
            self._idle.append(waiter)
        else:
            self._idle.appendleft(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        finally:
            if not waiter.done():
                waiter.cancel()
            try:
                self._idle.remove(waiter)
            except ValueError:
                pass

    async def submit(self, items: Sequence[Any]) -> list[Any]:
        """Results for `items`, in order. Large requests are spread over several batches."""
        if not items:
            return []
        if not self._tasks:
            self._start()
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        request = _Request(list(items), future)
        self._ring.append(request)
        self._wake_one()
        try:
            return await future
        finally:
            if not future.done():  # cancelled while waiting (the await cancels the future too)
                future.cancel()
            self._drop(request)

    def _drop(self, request: _Request) -> None:
        """Forget the items of a request that no longer waits for them."""
        left = len(request.items) - request.taken
        if left:
            self._dropped.inc(left)
            request.taken = len(request.items)
        try:
            self._ring.remove(request)
        except ValueError:
            pass

    def _take(self, room: int, budget: int | None, parts: list[_Part], held: set[int]) -> tuple[int, int | None]:
        """Move items from the waiting requests into `parts`, round-robin, each request taking
        at most an equal share of the room left, except requests in `held` (ids); returns the
        room and cost budget left."""
        ring = self._ring
        aside: list[_Request] = []
        while room > 0 and ring and (budget is None or budget > 0 or not parts):
            request = ring.popleft()
            if request.future.done():  # its caller is gone: drop, never run
                self._drop(request)
                continue
            if id(request) in held:
                aside.append(request)
                continue
            share = -(-room // (len(ring) + 1))  # ceil(room / requests waiting)
            start = request.taken
            end = min(len(request.items), start + share)
            if budget is not None and self._cost is not None:
                stop = start
                while stop < end:
                    weight = self._cost(request.items[stop])
                    if weight > budget and (parts or stop > start):
                        break
                    budget -= weight
                    stop += 1
                end = stop
            if end == start:  # out of cost budget: it keeps its turn for the next batch
                ring.appendleft(request)
                break
            parts.append((request, start, end))
            request.taken = end
            room -= end - start
            if end < len(request.items):
                ring.append(request)  # back of the line for its next share
        ring.extendleft(reversed(aside))  # they keep their places, first in line
        return room, budget

    def _held_back(self) -> set[int]:
        """Requests that sit out the next batch: those with items run already, when others
        have had nothing run yet, and the last batch did not hold anyone back."""
        if self._last_held_back or all(request.taken for request in self._ring):
            held: set[int] = set()
        else:
            held = {id(request) for request in self._ring if request.taken}
        self._last_held_back = bool(held)
        return held

    async def _batch(self) -> list[_Part]:
        """The next batch: whatever is waiting, topped up for up to `max_wait` if not full."""
        loop = asyncio.get_running_loop()
        parts: list[_Part] = []
        room, budget = self._max_batch, self._max_cost
        while True:
            held = self._held_back()
            room, budget = self._take(room, budget, parts, held)
            if parts:
                break
            if not self._ring:  # (if only held-back requests are left, the next round takes them)
                await self._sleep()
        # Top up for a moment, unless the batch is full, requests wait that it cannot take, or
        # another worker is idle: then an arrival would run at once beside this batch, and the
        # wait would only delay this one (a lone query waited the whole max_wait for nothing).
        deadline = loop.time() + self._max_wait
        while room > 0 and (budget is None or budget > 0) and not self._ring and not self._idle:
            timeout = deadline - loop.time()
            if timeout <= 0:
                break
            try:
                await self._sleep(timeout)
            except TimeoutError:
                break
            room, budget = self._take(room, budget, parts, held)
        return parts

    async def _worker(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            parts = await self._batch()
            if self._ring:
                self._wake_one()  # more is waiting: let an idle worker form the next batch now
            batch = [item for request, start, end in parts for item in request.items[start:end]]
            self._batches.inc()
            self._batch_inputs.inc(len(batch))
            run = self._run
            if self._run_alone is not None and not self._ring and len(self._idle) >= self._workers - 1:
                run = self._run_alone
                self._batches_alone.inc()
            try:
                results = await loop.run_in_executor(self._executor, run, batch)
            except Exception as exc:  # every request in this batch gets the error
                for request, _, _ in parts:
                    if not request.future.done():
                        request.future.set_exception(exc)
                continue
            offset = 0
            for request, start, end in parts:
                count = end - start
                if not request.future.done():
                    request.results[start:end] = list(results[offset : offset + count])
                    request.pending -= count
                    if request.pending == 0:
                        request.future.set_result(request.results)
                offset += count

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
