"""A user's own contract, binary with labels that are not yes/no: scikit-learn's Wisconsin
breast-cancer data (bundled with scikit-learn), a few of its columns and a derived size band,
the diagnosis spelled `malignant`/`benign`.

The swap test copies this file over src/mlops_template/schema.py in a clone and changes only
params.yaml besides; nothing else in the template names a column.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Category, Series  # type: ignore[attr-defined]

from mlops_template.checks import category, number, raw_category, raw_number, role, target_binary

SIZE_BANDS = ["small", "medium", "large"]
RADIUS = (0, 40)
TEXTURE = (0, 50)
PERIMETER = (0, 250)
AREA = (0, 3_000)
SMOOTHNESS = (0, 0.3)
CONCAVITY = (0, 0.5)
WORST_AREA = (0, 5_000)


class RawRecords(pa.DataFrameModel):
    """One row per biopsy, as exported."""

    sample_id: Series[str] = pa.Field(nullable=False, metadata=role("id"))
    mean_radius: Series[float] = raw_number(RADIUS)
    mean_texture: Series[float] = raw_number(TEXTURE)
    mean_perimeter: Series[float] = raw_number(PERIMETER)
    mean_area: Series[float] = raw_number(AREA)
    mean_smoothness: Series[float] = raw_number(SMOOTHNESS)
    mean_concavity: Series[float] = raw_number(CONCAVITY)
    worst_area: Series[float] = raw_number(WORST_AREA)
    size_band: Series[Category] = raw_category(SIZE_BANDS)
    diagnosis: Series[Category] = target_binary(positive="malignant", labels=["benign", "malignant"])

    class Config:
        strict = True
        coerce = True


class CleanRecords(RawRecords):
    sample_id: Series[str] = pa.Field(unique=True, metadata=role("id"))
    mean_radius: Series[float] = number(RADIUS)
    mean_texture: Series[float] = number(TEXTURE)
    mean_perimeter: Series[float] = number(PERIMETER)
    mean_area: Series[float] = number(AREA)
    mean_smoothness: Series[float] = number(SMOOTHNESS)
    mean_concavity: Series[float] = number(CONCAVITY)
    worst_area: Series[float] = number(WORST_AREA)
    size_band: Series[Category] = category(SIZE_BANDS)
    diagnosis: Series[bool] = pa.Field(nullable=False)

    class Config:
        strict = True
        coerce = False
