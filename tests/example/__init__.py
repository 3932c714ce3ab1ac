"""Tests of the example dataset: the churn generator, the embedded sample and its MD5, the
example's columns (`region`, `contract`, ...), its model's behaviour and its drift world.

They hold only while schema.py is the example's contract. After you swap in your own
dataset they skip themselves, saying why (`example_only`); the tests elsewhere derive their
data from the contract (tests/contract_data.py) and keep running. Replace these with
expectations about your own data when you like.
"""

from __future__ import annotations

import pytest

from mlops_template.data.generate import not_the_example
from mlops_template.features import contract

WHY_NOT = not_the_example(tuple(c.name for c in contract().columns))
example_only = pytest.mark.skipif(WHY_NOT is not None, reason=f"describes the example churn dataset, and {WHY_NOT}")
