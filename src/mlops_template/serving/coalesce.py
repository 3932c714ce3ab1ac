"""Requests that arrive while the model is busy are answered by one model call.

Cleaning and the scikit-learn Pipeline cost about the same for one row as for a thousand
(per-call overhead dominates; see README "Benchmarks"), so under concurrency the service
predicts whatever has queued up during the previous call as one batch. Nothing ever
waits for a batch to fill: with one request in flight it runs at once, alone, so latency
at low load is that of a single call. This is the part of adaptive batching that pays
off here, without its timers (BentoML's own batching, measured in
benchmarks/serving.py, queued requests behind a latency model and lost throughput).

The model runs in one dedicated thread per worker process so that the event loop keeps
parsing and validating the next requests meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

logger = logging.getLogger(__name__)


@dataclass
class _Request(Generic[Item, Result]):
    items: Sequence[Item]
    future: asyncio.Future[list[Result]]


@dataclass
class Coalescer(Generic[Item, Result]):
    """Runs `run(items)` in a model thread, merging concurrent submissions up to `max_items`.

    `run` must return one result per item, in order. If a merged call fails, each request
    is retried alone, so a request that breaks the model fails only itself.
    With `max_items` 0 every submission is its own call (still off the event loop).
    """

    run: Callable[[list[Item]], Sequence[Result]]
    max_items: int
    _queue: list[_Request[Item, Result]] = field(default_factory=list)
    _drainer: asyncio.Task[None] | None = None
    _executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="model"))
    calls: int = 0

    async def submit(self, items: Sequence[Item]) -> list[Result]:
        loop = asyncio.get_running_loop()
        if self.max_items == 0:
            return await loop.run_in_executor(self._executor, self._call, list(items))
        request: _Request[Item, Result] = _Request(items, loop.create_future())
        self._queue.append(request)
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        return await request.future

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def _take(self) -> list[_Request[Item, Result]]:
        """The oldest requests whose items fit in `max_items` (at least one, however large)."""
        taken: list[_Request[Item, Result]] = []
        size = 0
        while self._queue and (not taken or size + len(self._queue[0].items) <= self.max_items):
            request = self._queue.pop(0)
            taken.append(request)
            size += len(request.items)
        return taken

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                batch = self._take()
                items = [item for request in batch for item in request.items]
                try:
                    results = await loop.run_in_executor(self._executor, self._call, items)
                except Exception as exc:
                    if len(batch) == 1:
                        _settle(batch[0].future, exc)
                        continue
                    logger.warning(
                        "a merged model call of %d requests failed (%s); retrying each alone", len(batch), exc
                    )
                    for request in batch:
                        try:
                            _settle(
                                request.future,
                                await loop.run_in_executor(self._executor, self._call, list(request.items)),
                            )
                        except Exception as alone:
                            _settle(request.future, alone)
                    continue
                start = 0
                for request in batch:
                    end = start + len(request.items)
                    _settle(request.future, results[start:end])
                    start = end
        finally:
            self._drainer = None

    def _call(self, items: list[Item]) -> list[Result]:
        self.calls += 1
        results = list(self.run(items))
        if len(results) != len(items):
            raise RuntimeError(f"the model returned {len(results)} results for {len(items)} rows")
        return results


def _settle(future: asyncio.Future[list[Result]], outcome: list[Result] | BaseException) -> None:
    """Resolve a request unless its client has gone (the future was cancelled)."""
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
