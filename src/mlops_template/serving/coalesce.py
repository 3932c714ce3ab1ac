"""Requests that are ready together are predicted together, in one model call.

While the model predicts, other requests arrive; those the event loop takes up in the same
turn are read, checked and wait here for the end of it, and one model call answers them all
(up to `max_rows` rows): its fixed cost (cleaning and the Pipeline go column by column) is
paid once. A request alone is predicted at once: nothing waits for a batch to fill. What it
gains: benchmarks/results/serving.md, "no coalescing".
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

import numpy as np

from mlops_template.serving.request import Columns


def rows(columns: Columns) -> int:
    return len(next(iter(columns.values())))


class Coalescer:
    """`await submit(columns)`: `predict(columns)`, shared with the requests ready in the same turn."""

    def __init__(self, predict: Callable[[Columns], np.ndarray], max_rows: int) -> None:
        self.predict, self.max_rows = predict, max_rows
        self.waiting: deque[tuple[Columns, asyncio.Future[np.ndarray]]] = deque()

    async def submit(self, columns: Columns) -> np.ndarray:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[np.ndarray] = loop.create_future()
        self.waiting.append((columns, answer))
        if len(self.waiting) == 1:
            loop.call_soon(self._run)  # after the requests the loop has already taken up in this turn
        return await answer

    def _run(self) -> None:
        taken = [self.waiting.popleft()]
        taken_rows = rows(taken[0][0])
        while self.waiting and taken_rows + rows(self.waiting[0][0]) <= self.max_rows:
            taken_rows += rows(self.waiting[0][0])
            taken.append(self.waiting.popleft())
        if self.waiting:
            asyncio.get_running_loop().call_soon(self._run)
        try:
            self._share(taken)
        except Exception as exc:  # whatever went wrong, no request is left waiting for an answer
            for _, answer in taken:
                _settle(answer, exc)

    def _share(self, taken: list[tuple[Columns, asyncio.Future[np.ndarray]]]) -> None:
        alone = len(taken) == 1
        scores = self._predict(
            taken[0][0] if alone else {name: np.concatenate([c[name] for c, _ in taken]) for name in taken[0][0]}
        )
        start = 0
        for columns, answer in taken:
            if isinstance(scores, Exception):  # one request must not fail the others: each alone
                _settle(answer, scores if alone else self._predict(columns))
            else:
                _settle(answer, scores[start : start + rows(columns)])
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
