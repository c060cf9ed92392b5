"""Micro-batching: concurrent requests for one model are queued briefly and run together.

Each run goes to a worker thread (onnxruntime releases the GIL), so throughput under load
approaches the model's batch throughput while one request alone waits at most `max_wait`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

# What a batch function returns for a batch: one result per item, in item order (a list, or
# an array whose rows are the results).
BatchResults = Sequence[Any] | np.ndarray
# One queued request chunk and the future that receives its share of the batch's results.
_Chunk = tuple[list[Any], asyncio.Future[BatchResults]]


class MicroBatcher:
    def __init__(self, run: Callable[[list[Any]], BatchResults], max_batch: int, max_wait: float, workers: int,
                 name: str) -> None:
        self._run = run
        self._max_batch = max_batch
        self._max_wait = max_wait
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"infer-{name}")
        self._workers = workers
        self._queue: asyncio.Queue[_Chunk] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def _start(self) -> asyncio.Queue[_Chunk]:
        queue: asyncio.Queue[_Chunk] = asyncio.Queue()
        self._queue = queue
        self._tasks = [asyncio.get_running_loop().create_task(self._worker(queue)) for _ in range(self._workers)]
        return queue

    async def submit(self, items: Sequence[Any]) -> list[Any]:
        """Results for `items`, in order. Large requests are split across batches."""
        queue = self._queue if self._queue is not None else self._start()
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[BatchResults]] = []
        for start in range(0, len(items), self._max_batch):
            chunk = list(items[start : start + self._max_batch])
            future: asyncio.Future[BatchResults] = loop.create_future()
            await queue.put((chunk, future))
            futures.append(future)
        results: list[Any] = []
        for part in await asyncio.gather(*futures):
            results.extend(part)
        return results

    async def _worker(self, queue: asyncio.Queue[_Chunk]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            chunk, future = await queue.get()
            batch, owners = list(chunk), [(future, len(chunk))]
            deadline = loop.time() + self._max_wait
            while len(batch) < self._max_batch:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    more, more_future = await asyncio.wait_for(queue.get(), timeout)
                except TimeoutError:
                    break
                if len(batch) + len(more) > self._max_batch:
                    # Keep request chunks whole: put it back for the next batch.
                    queue.put_nowait((more, more_future))
                    break
                batch.extend(more)
                owners.append((more_future, len(more)))
            try:
                results = await loop.run_in_executor(self._executor, self._run, batch)
            except Exception as exc:  # every waiter of this batch gets the error
                for owner, _ in owners:
                    if not owner.done():
                        owner.set_exception(exc)
                continue
            offset = 0
            for owner, count in owners:
                if not owner.done():
                    owner.set_result(results[offset : offset + count])
                offset += count

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
