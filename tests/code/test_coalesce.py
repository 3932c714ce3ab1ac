"""Requests ready together share one model call, each keeps its own answer, and one that
breaks the model or whose client has gone holds up no other (serving/coalesce.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from mlops_template.serving.coalesce import Coalescer


def batch(*ages: float) -> dict[str, np.ndarray]:
    return {"age": np.array(ages, dtype=float)}


def calls_of(coalescer_rows: int, sizes: list[int], fail_on: float | None = None) -> tuple[list[Any], list[int]]:
    """The answers of requests of `sizes` rows submitted together, and the rows of each model call."""
    calls: list[int] = []

    def predict(columns: dict[str, np.ndarray]) -> np.ndarray:
        calls.append(len(columns["age"]))
        if fail_on in columns["age"]:
            raise ValueError("bad row")
        return columns["age"] * 10

    async def scenario() -> list[Any]:
        coalescer = Coalescer(predict, coalescer_rows)
        submitted = [coalescer.submit(batch(*range(100 * i, 100 * i + n))) for i, n in enumerate(sizes)]
        return list(await asyncio.gather(*submitted, return_exceptions=True))

    return asyncio.run(scenario()), calls


def test_requests_ready_together_share_one_model_call_and_keep_their_own_answers() -> None:
    answers, calls = calls_of(100, [1, 2, 1])
    assert calls == [4]
    assert [a.tolist() for a in answers] == [[0.0], [1000.0, 1010.0], [2000.0]]


def test_a_request_alone_is_predicted_alone() -> None:
    answers, calls = calls_of(100, [3])
    assert calls == [3]
    assert answers[0].tolist() == [0.0, 10.0, 20.0]


def test_coalescing_respects_the_row_limit_but_never_splits_a_request() -> None:
    answers, calls = calls_of(3, [2, 1, 2, 5, 1])
    assert calls == [3, 2, 5, 1]  # 2+1 fit in 3, 2+5 would not, the 5 goes alone
    assert [len(a) for a in answers] == [2, 1, 2, 5, 1]


def test_a_request_whose_client_has_gone_does_not_hold_up_the_others() -> None:
    async def scenario() -> list[float]:
        coalescer = Coalescer(lambda columns: columns["age"] * 10, 100)
        gone, waiting = (asyncio.ensure_future(coalescer.submit(batch(age))) for age in (1, 2))
        await asyncio.sleep(0)  # both submitted; the shared call comes next
        gone.cancel()
        answer: np.ndarray = await asyncio.wait_for(waiting, 5)
        return list(answer)

    assert asyncio.run(scenario()) == [20.0]


def test_a_request_that_breaks_the_model_fails_alone() -> None:
    answers, calls = calls_of(100, [1, 1, 1], fail_on=100.0)
    assert calls == [3, 1, 1, 1]  # the merged call failed: each request again, alone
    assert answers[0].tolist() == [0.0]
    assert isinstance(answers[1], ValueError)
    assert answers[2].tolist() == [2000.0]


def test_rows_of_scores_are_shared_out_as_rows() -> None:
    """Multi-class scores: a row of class probabilities per record, split by request."""

    async def scenario() -> list[np.ndarray]:
        coalescer = Coalescer(lambda columns: np.outer(columns["age"], [1.0, 2.0]), 100)
        return list(await asyncio.gather(coalescer.submit(batch(1.0)), coalescer.submit(batch(2.0, 3.0))))

    first, second = asyncio.run(scenario())
    assert first.tolist() == [[1.0, 2.0]]
    assert second.tolist() == [[2.0, 4.0], [3.0, 6.0]]


def test_a_failure_outside_the_model_call_answers_every_request_it_took() -> None:
    """Requests whose columns cannot be put together (here: other names) fail, with the
    reason, rather than wait for an answer that never comes."""

    async def scenario() -> list[Any]:
        coalescer = Coalescer(lambda columns: columns["age"] * 10, 100)
        odd = {"height": np.array([1.0])}
        submitted = [coalescer.submit(batch(1.0)), coalescer.submit(odd)]
        return list(await asyncio.wait_for(asyncio.gather(*submitted, return_exceptions=True), 5))

    answers = asyncio.run(scenario())
    assert [type(answer) for answer in answers] == [KeyError, KeyError]
