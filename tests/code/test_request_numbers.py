"""A category or an id whose values are numbers may be sent as JSON numbers (a store code
7 rather than "7"): the request model reads them as the gate reads a CSV cell."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mlops_template.features import contract
from mlops_template.serving.request import record_model
from tests.contract_data import raw_record

TEXT_COLUMNS = [c.name for c in contract().columns if (c.kind == "category" and c.is_feature) or c.role == "id"]


@pytest.mark.parametrize("column", TEXT_COLUMNS)
@pytest.mark.parametrize(("sent", "read"), [(7, "7"), (2.0, "2"), (2.5, "2.5"), ("07", "07")])
def test_a_number_sent_for_text_is_read_as_its_text(column: str, sent: object, read: str) -> None:
    record = record_model().model_validate(raw_record() | {column: sent})
    assert getattr(record, column) == read


@pytest.mark.parametrize("column", TEXT_COLUMNS)
def test_a_boolean_sent_for_text_is_refused_naming_the_field(column: str) -> None:
    with pytest.raises(ValidationError, match=rf"{column}\n.*expected text, got a boolean"):
        record_model().model_validate(raw_record() | {column: True})
