"""Set-ups a user makes on a fresh copy, applied to a simulated repository (tests/workflows/act.py).

Each one is a commit on the session's repository, as the user would push it to main, so a
later run sees it the way GitHub would: from the repository, not from the test.
"""

from __future__ import annotations

from mlops_template.data.generate import GeneratorSettings, generate_raw, write_csv
from tests.workflows.act import ActSession

CURRENT_BATCH = "data/current/batch.csv"


def configure_drift_file(session: ActSession, *, rows: int = 3_000) -> str:
    """Point the drift check at a real export: `drift.file` = a labelled, drifted batch of new customers
    (ids the training data does not have), and no demo fallback in `drift.sources`."""
    batch = GeneratorSettings(rows=rows, seed=7, drift=1.0, first_id=500_000)
    write_csv(generate_raw(batch), session.repo / CURRENT_BATCH)
    params = (session.repo / "params.yaml").read_text(encoding="utf-8")
    edited = params.replace("  sources: [inference_log, file, sample]", "  sources: [file]", 1).replace(
        '  file: ""', f"  file: {CURRENT_BATCH}", 1
    )
    if edited.count(f"file: {CURRENT_BATCH}") != 1 or "  sources: [file]" not in edited:
        raise AssertionError('params.yaml no longer has `sources: [inference_log, file, sample]` and `file: ""`')
    return session.commit("Check drift on our monthly export", {"params.yaml": edited})
