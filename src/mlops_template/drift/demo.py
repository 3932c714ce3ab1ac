"""The demo source of the drift check: a drifted batch from the sample generator.

A fresh clone has no inference log and no current file, so `drift.sources` may end with
`sample`, which this module answers. It is kept apart from `sources.py` (the production
sources) and imported only when `sample` is reached, so checking real data never loads
the generator of synthetic churn data.
"""

from __future__ import annotations

from mlops_template.data.generate import GeneratorSettings, generate_raw, not_the_example
from mlops_template.drift.sources import CannotCheckError, CurrentBatch
from mlops_template.features import contract
from mlops_template.params import Params


def demo_batch(params: Params) -> CurrentBatch:
    """The generator's drifted batch (`drift.sample`), of new customers; only while the
    contract is the example's, since the generator makes churn data and nothing else."""
    why = not_the_example(tuple(c.name for c in contract().columns))
    if why:
        raise CannotCheckError(
            f"drift.sources names `sample`, the demo of the example dataset, but {why}: remove `sample` "
            "from drift.sources in params.yaml and set drift.file to a CSV/Parquet file (a path, an http(s) "
            "URL or a DVC-tracked file) of recent records, or let the service fill the inference log "
            "(docs/drift.md)"
        )
    sample = params.drift.sample
    settings = GeneratorSettings(
        rows=sample.rows,
        seed=sample.seed,
        defect_rate=params.data.sample.defect_rate,
        drift=sample.drift,
        first_id=200_000 + sample.seed * sample.rows,  # new customers, not the reference's ids again
    )
    return CurrentBatch(
        raw=generate_raw(settings),
        kind="sample",
        description=f"sample generator (seed {sample.seed}, drift {sample.drift}, {sample.rows:,} customers)",
    )
