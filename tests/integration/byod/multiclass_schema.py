"""A user's own contract, multi-class: scikit-learn's wine data (bundled with scikit-learn),
thirteen measurements of wines from three cultivars, the cultivar to predict.

The swap test copies this file over src/mlops_template/schema.py in a clone and changes only
params.yaml besides; nothing else in the template names a column.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Category, Series  # type: ignore[attr-defined]

from mlops_template.checks import category, number, raw_number, role, target_classes

CULTIVARS = ["barolo", "grignolino", "barbera"]
M = {
    "alcohol": (8, 18),
    "malic_acid": (0, 10),
    "ash": (0, 5),
    "alcalinity_of_ash": (0, 50),
    "magnesium": (0, 250),
    "total_phenols": (0, 6),
    "flavanoids": (0, 8),
    "nonflavanoid_phenols": (0, 1),
    "proanthocyanins": (0, 5),
    "color_intensity": (0, 20),
    "hue": (0, 3),
    "od280_od315": (0, 6),
    "proline": (0, 3_000),
}


class RawRecords(pa.DataFrameModel):
    """One row per wine sample, as the laboratory exports it."""

    wine_id: Series[str] = pa.Field(nullable=False, metadata=role("id"))
    alcohol: Series[float] = raw_number(M["alcohol"])
    malic_acid: Series[float] = raw_number(M["malic_acid"])
    ash: Series[float] = raw_number(M["ash"])
    alcalinity_of_ash: Series[float] = raw_number(M["alcalinity_of_ash"])
    magnesium: Series[float] = raw_number(M["magnesium"])
    total_phenols: Series[float] = raw_number(M["total_phenols"])
    flavanoids: Series[float] = raw_number(M["flavanoids"])
    nonflavanoid_phenols: Series[float] = raw_number(M["nonflavanoid_phenols"])
    proanthocyanins: Series[float] = raw_number(M["proanthocyanins"])
    color_intensity: Series[float] = raw_number(M["color_intensity"])
    hue: Series[float] = raw_number(M["hue"])
    od280_od315: Series[float] = raw_number(M["od280_od315"])
    proline: Series[float] = raw_number(M["proline"])
    cultivar: Series[Category] = target_classes(CULTIVARS)

    class Config:
        strict = True
        coerce = True


class CleanRecords(RawRecords):
    wine_id: Series[str] = pa.Field(unique=True, metadata=role("id"))
    alcohol: Series[float] = number(M["alcohol"])
    malic_acid: Series[float] = number(M["malic_acid"])
    ash: Series[float] = number(M["ash"])
    alcalinity_of_ash: Series[float] = number(M["alcalinity_of_ash"])
    magnesium: Series[float] = number(M["magnesium"])
    total_phenols: Series[float] = number(M["total_phenols"])
    flavanoids: Series[float] = number(M["flavanoids"])
    nonflavanoid_phenols: Series[float] = number(M["nonflavanoid_phenols"])
    proanthocyanins: Series[float] = number(M["proanthocyanins"])
    color_intensity: Series[float] = number(M["color_intensity"])
    hue: Series[float] = number(M["hue"])
    od280_od315: Series[float] = number(M["od280_od315"])
    proline: Series[float] = number(M["proline"])
    cultivar: Series[Category] = category(CULTIVARS, nullable=False)

    class Config:
        strict = True
        coerce = False
