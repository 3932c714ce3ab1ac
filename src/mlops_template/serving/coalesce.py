"""Requests that arrive while the model is busy are answered by one model call.

Cleaning and the scikit-learn Pipeline cost about the same for one row as for a thousand
(per-call overhead dominates; see README "Benchmarks"), so under concurrency the service
predicts whatever has queued up during the previous call as one batch. Nothing ever
waits for a batch to fill: with one request in flight it runs at once, alone, so latency
at low load is that of a single call. This is the part of adaptive batching that pays
off here, without its timers (BentoML's own batching, measured in
benchmarks/serving.py, queued requests behind a latency model and lost throughput).

The model runs in one dedicated thread per worker process, so that the event loop keeps
receiving and answering requests meanwhile; a batch request's body is read and checked in
that thread too (`in_model_thread`), so that one thread per worker does the CPU work and
no two of them fight over the GIL. That thread is limited to one OpenMP
thread: the limit the service sets at start-up holds only for the thread that set it, and
a new thread would otherwise run scikit-learn's trees on every core, its spinning OpenMP
threads fighting the event loop (the batch endpoint lost two thirds of its throughput).

A small request that is the only one in its worker (`alone`) skips that thread: handing
it over and back cost more than its prediction, and predicting it on the event loop blocks
nobody. Single rows one at a time gained ~20 % requests/s (benchmarks/serving.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from threadpoolctl import threadpool_limits

Batch = TypeVar("Batch")
Result = TypeVar("Result")
T = TypeVar("T")

logger = logging.getLogger(__name__)

# Up to this many rows, a request alone in its worker is predicted on the caller's thread
# (about 2 ms); a larger one would hold up the event loop, probes included, for longer.
INLINE_ROWS = 64


@dataclass
class _Request(Generic[Batch, Result]):
    batch: Batch
    rows: int
    future: asyncio.Future[list[Result]]


@dataclass
class Coalescer(Generic[Batch, Result]):
    """Runs `run(batches)` in a model thread, merging concurrent submissions up to `max_rows`.

    `run` gets the waiting batches (of rows) in order and must return one result per row,
    in that order. If a merged call fails, each request is retried alone, so a request that
    breaks the model fails only itself. With `max_rows` 0 every submission is its own call
    (still off the event loop).
    """

    run: Callable[[list[Batch]], Sequence[Result]]
    max_rows: int
    _queue: list[_Request[Batch, Result]] = field(default_factory=list)
    _drainer: asyncio.Task[None] | None = None
    _executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(
            1, thread_name_prefix="model", initializer=threadpool_limits, initargs=(1,)
        )
    )
    calls: int = 0
    _inline_threads: set[int] = field(default_factory=set)

    async def submit(self, batch: Batch, rows: int, *, alone: Callable[[], bool] | None = None) -> list[Result]:
        """The results for the `rows` rows of `batch`, in order. `alone()` says whether no
        other request is in flight in this process: then a small batch runs right here."""
        loop = asyncio.get_running_loop()
        if alone is not None and rows <= INLINE_ROWS and self._drainer is None:
            # Requests received together start one after the other, each running until it
            # first waits: yield once, so that those already received are counted too.
            await asyncio.sleep(0)
            if alone() and self._drainer is None:
                return self._call_here([batch], rows)
        if self.max_rows == 0:
            return await loop.run_in_executor(self._executor, self._call, [batch], rows)
        request: _Request[Batch, Result] = _Request(batch, rows, loop.create_future())
        self._queue.append(request)
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        return await request.future

    async def in_model_thread(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` run in the model thread, between model calls: for a request's own
        CPU work (reading and checking a batch).

        Python threads take turns holding the GIL, and one that lets it go (scikit-learn's
        trees do, many times per call) waits up to the switch interval to get it back while
        another thread computes. Parsing batches in a thread pool beside the model thread
        made the two wait on each other: one worker answered 41 requests/s of 1,000 records
        that way and 51 with the parsing in the model thread (README, "How it is made fast")."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def _take(self) -> list[_Request[Batch, Result]]:
        """The oldest requests whose rows fit in `max_rows` (at least one, however large)."""
        taken: list[_Request[Batch, Result]] = []
        size = 0
        while self._queue and (not taken or size + self._queue[0].rows <= self.max_rows):
            request = self._queue.pop(0)
            taken.append(request)
            size += request.rows
        return taken

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                taken = self._take()
                batches, rows = [request.batch for request in taken], sum(request.rows for request in taken)
                try:
                    results = await loop.run_in_executor(self._executor, self._call, batches, rows)
                except Exception as exc:
                    if len(taken) == 1:
                        _settle(taken[0].future, exc)
                        continue
                    logger.warning(
                        "a merged model call of %d requests failed (%s); retrying each alone", len(taken), exc
                    )
                    for request in taken:
                        try:
                            _settle(
                                request.future,
                                await loop.run_in_executor(self._executor, self._call, [request.batch], request.rows),
                            )
                        except Exception as alone:
                            _settle(request.future, alone)
                    continue
                start = 0
                for request in taken:
                    end = start + request.rows
                    _settle(request.future, results[start:end])
                    start = end
        finally:
            self._drainer = None

    def _call_here(self, batches: list[Batch], rows: int) -> list[Result]:
        """`_call` on the caller's thread, held to one OpenMP thread like the model thread."""
        if threading.get_ident() not in self._inline_threads:
            threadpool_limits(1)  # for this thread only, and for good
            self._inline_threads.add(threading.get_ident())
        return self._call(batches, rows)

    def _call(self, batches: list[Batch], rows: int) -> list[Result]:
        self.calls += 1
        results = list(self.run(batches))
        if len(results) != rows:
            raise RuntimeError(f"the model returned {len(results)} results for {rows} rows")
        return results


def _settle(future: asyncio.Future[list[Result]], outcome: list[Result] | BaseException) -> None:
    """Resolve a request unless its client has gone (the future was cancelled)."""
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
