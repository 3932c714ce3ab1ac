"""A user's own contract, regression: scikit-learn's diabetes data (bundled with
scikit-learn), ten baseline measurements of 442 patients and the disease's progression one
year later, the number to predict. `sex` is a category whose values are numbers (1, 2).

The swap test copies this file over src/mlops_template/schema.py in a clone and changes only
params.yaml besides; nothing else in the template names a column.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Category, Series  # type: ignore[attr-defined]

from mlops_template.checks import category, number, raw_category, raw_number, role, target_number

SEXES = ["1", "2"]
PROGRESSION = (0, 400)
AGE = (0, 110)
BMI = (10, 60)
BLOOD_PRESSURE = (40, 200)
SERUM = (0, 400)


class RawRecords(pa.DataFrameModel):
    """One row per patient at baseline, with the progression measured a year later."""

    patient_id: Series[str] = pa.Field(nullable=False, metadata=role("id"))
    age: Series[float] = raw_number(AGE)
    sex: Series[Category] = raw_category(SEXES)
    bmi: Series[float] = raw_number(BMI)
    bp: Series[float] = raw_number(BLOOD_PRESSURE)
    s1: Series[float] = raw_number(SERUM)
    s2: Series[float] = raw_number(SERUM)
    s3: Series[float] = raw_number(SERUM)
    s4: Series[float] = raw_number(SERUM)
    s5: Series[float] = raw_number(SERUM)
    s6: Series[float] = raw_number(SERUM)
    progression: Series[float] = target_number(PROGRESSION)

    class Config:
        strict = True
        coerce = True


class CleanRecords(RawRecords):
    patient_id: Series[str] = pa.Field(unique=True, metadata=role("id"))
    age: Series[float] = number(AGE)
    sex: Series[Category] = category(SEXES)
    bmi: Series[float] = number(BMI)
    bp: Series[float] = number(BLOOD_PRESSURE)
    s1: Series[float] = number(SERUM)
    s2: Series[float] = number(SERUM)
    s3: Series[float] = number(SERUM)
    s4: Series[float] = number(SERUM)
    s5: Series[float] = number(SERUM)
    s6: Series[float] = number(SERUM)
    progression: Series[float] = number(PROGRESSION, nullable=False)

    class Config:
        strict = True
        coerce = False
