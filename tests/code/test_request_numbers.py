"""A category or an id whose values are numbers may be sent as JSON numbers (a store code
7 rather than "7"): the record model reads them as the gate reads a CSV cell, and a batch
(records or columns, whichever reader runs) reads them the same way."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from mlops_template.features import contract
from mlops_template.serving.batch import columns_from_json
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


def _batch(shape: str, records: list[dict[str, object]]) -> bytes:
    names = list(dict.fromkeys(name for record in records for name in record))
    columns = {name: [record.get(name) for record in records] for name in names}
    return json.dumps({shape: records if shape == "records" else columns}).encode()


@pytest.mark.parametrize("shape", ["records", "columns"])
@pytest.mark.parametrize("column", TEXT_COLUMNS)
def test_a_batch_reads_a_number_sent_for_text_as_its_text(shape: str, column: str) -> None:
    records = [raw_record() | {column: sent} for sent in (7, 2.0, 2.5, "07")]
    assert columns_from_json(_batch(shape, records), max_rows=10)[column].tolist() == ["7", "2", "2.5", "07"]


@pytest.mark.parametrize("shape", ["records", "columns"])
@pytest.mark.parametrize("column", TEXT_COLUMNS)
def test_a_batch_refuses_a_boolean_sent_for_text_naming_where(shape: str, column: str) -> None:
    records = [raw_record(), raw_record() | {column: True}]
    with pytest.raises(ValidationError) as error:
        columns_from_json(_batch(shape, records), max_rows=10)
    (first,) = error.value.errors()
    assert first["loc"] == (("records", 1, column) if shape == "records" else ("columns", column, 1))
    assert "expected text, got a boolean" in first["msg"]
