"""Train/test split: stratified on the target, or by time for a temporal holdout."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from mlops_template.features import contract
from mlops_template.files import write_parquet
from mlops_template.params import Params, ParamsError, SplitParams


def split(clean: pd.DataFrame, params: SplitParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`stratified` keeps each class's share equal in both parts (a regression target is
    split at random); `time` tests on the newest rows (by `split.time_column`), which is
    how the model will meet the future."""
    spec = contract()
    target = spec.target.name
    if params.method == "time":
        if params.time_column not in clean.columns:
            raise ParamsError(
                f"split.time_column in params.yaml: {params.time_column!r} is not a column of the prepared data; "
                f"columns: {', '.join(clean.columns)}"
            )
        ordered = clean.sort_values([params.time_column], kind="stable")
        cut = round(len(ordered) * (1 - params.test_size))
        return ordered.iloc[:cut].reset_index(drop=True), ordered.iloc[cut:].reset_index(drop=True)
    strata = None if spec.task == "regression" else clean[target]
    train, test = train_test_split(clean, test_size=params.test_size, random_state=params.seed, stratify=strata)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def run(params: Params) -> tuple[int, int]:
    """Stage `split`: prepared data → train and test files."""
    train, test = split(pd.read_parquet(params.paths.prepared), params.split)
    write_parquet(params.paths.train, train)
    write_parquet(params.paths.test, test)
    return len(train), len(test)
