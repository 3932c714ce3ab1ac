"""The model's preprocessing: ContractEncoder against the scikit-learn parts it replaces.

The encoder exists for speed (benchmarks/preprocessing.py measures it against the
ColumnTransformer it replaces, `column_transformer` there); these tests hold it to what
that ColumnTransformer produces, so the speed costs nothing in meaning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.preprocessing import column_transformer
from mlops_template.cleaning import clean_columns, clean_features
from mlops_template.features import contract
from mlops_template.prepare import prepare
from mlops_template.preprocessing import ContractEncoder, feature_columns


@pytest.fixture(scope="module")
def clean(raw_sample: pd.DataFrame) -> pd.DataFrame:
    cleaned, _ = prepare(raw_sample, drop_duplicates=True)
    return cleaned[feature_columns()]


@pytest.mark.parametrize("scale_numbers", [False, True], ids=["trees", "linear"])
def test_the_encoder_gives_the_matrix_scikit_learns_parts_give(clean: pd.DataFrame, scale_numbers: bool) -> None:
    fit, new = clean.iloc[:2_000], clean.iloc[2_000:]
    expected = column_transformer(scale_numbers=scale_numbers).fit(fit).transform(new)
    encoder = ContractEncoder(scale_numbers=scale_numbers).fit(fit)
    got = encoder.transform(new)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    assert len(encoder.get_feature_names_out()) == got.shape[1]


def test_missing_and_unknown_values_are_imputed_and_zero_encoded(clean: pd.DataFrame) -> None:
    encoder = ContractEncoder().fit(clean)
    empty = clean.iloc[:1].copy()
    for column in contract().features():
        empty[column.name] = None
    empty = clean_features(empty)[feature_columns()]
    row = encoder.transform(empty)[0]
    names = list(encoder.get_feature_names_out())
    numbers = [i for i, n in enumerate(names) if n.startswith("number__")]
    one_hot = [i for i, n in enumerate(names) if n.startswith("category__")]
    np.testing.assert_array_equal(row[numbers], encoder.medians_)
    assert not row[one_hot].any()
    assert np.isnan(row[[i for i, n in enumerate(names) if n.startswith("date__")]]).all()


def test_columns_and_a_table_are_encoded_alike(clean: pd.DataFrame, raw_sample: pd.DataFrame) -> None:
    """The service's path (numpy columns) and training's (a DataFrame) meet in one matrix."""
    encoder = ContractEncoder().fit(clean)
    raw = raw_sample.head(500)
    as_table = encoder.transform(clean_features(raw)[feature_columns()])
    as_columns = encoder.transform(clean_columns({k: raw[k].to_numpy() for k in raw.columns}, len(raw)))
    np.testing.assert_array_equal(as_columns, as_table)
