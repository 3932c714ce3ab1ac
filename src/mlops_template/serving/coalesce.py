"""Requests that are ready together are predicted together, in one model call.

Every request is read, checked and predicted on its worker's event loop. While the model
predicts, others arrive; when the loop takes them up, each is read and checked and then
waits here for the end of that turn of the loop, and one model call answers all of them
(up to `max_rows` rows): a call's fixed cost (cleaning and the Pipeline go column by
column) is paid once, not once per request. A request alone is predicted at once: nothing
waits for a batch to fill. What it gains: benchmarks/results/serving.md, "no coalescing".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from mlops_template.serving.request import Columns


def rows(columns: Columns) -> int:
    return len(next(iter(columns.values())))


class Coalescer:
    """`await submit(columns)`: `predict(columns)`, shared with the requests ready in the same turn."""

    def __init__(self, predict: Callable[[Columns], np.ndarray], max_rows: int) -> None:
        self.predict, self.max_rows = predict, max_rows
        self.waiting: list[tuple[Columns, asyncio.Future[np.ndarray]]] = []

    async def submit(self, columns: Columns) -> np.ndarray:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[np.ndarray] = loop.create_future()
        self.waiting.append((columns, answer))
        if len(self.waiting) == 1:
            loop.call_soon(self._run)  # after the requests the loop has already taken up in this turn
        return await answer

    def _run(self) -> None:
        taken = [self.waiting.pop(0)]
        while self.waiting and sum(rows(c) for c, _ in taken) + rows(self.waiting[0][0]) <= self.max_rows:
            taken.append(self.waiting.pop(0))
        if self.waiting:
            asyncio.get_running_loop().call_soon(self._run)
        if len(taken) == 1:
            _settle(taken[0][1], self._predict(taken[0][0]))
            return
        probability = self._predict({name: np.concatenate([c[name] for c, _ in taken]) for name in taken[0][0]})
        start = 0
        for columns, answer in taken:
            if isinstance(probability, Exception):  # one request must not fail the others: each alone
                _settle(answer, self._predict(columns))
            else:
                _settle(answer, probability[start : start + rows(columns)])
                start += rows(columns)

    def _predict(self, columns: Columns) -> np.ndarray | Exception:
        try:
            return self.predict(columns)
        except Exception as exc:
            return exc


def _settle(answer: asyncio.Future[np.ndarray], outcome: np.ndarray | Exception) -> None:
    """Resolve a request unless its client has gone (its future was cancelled)."""
    if answer.done():
        return
    if isinstance(outcome, Exception):
        answer.set_exception(outcome)
    else:
        answer.set_result(outcome)
