"""The workflows pass every offline linter (`make ci-lint`): actionlint with shellcheck,
check-jsonschema against GitHub's schemas, and zizmor at the regular and pedantic levels."""

from __future__ import annotations

import subprocess

from tests.workflows.act import ROOT, local_repositories


def test_make_ci_lint_has_no_findings() -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "ci-lint"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("No findings to report") == 2


def test_every_remote_action_has_an_act_stub() -> None:
    """act maps each pinned `uses:` to tests/workflows/stubs/<repo>; a missing one would reach for github.com."""
    mappings = local_repositories(ROOT)
    assert mappings, "no remote actions found under .github/"
    for mapping in mappings:
        action, _, _stub = mapping.partition("=")
        ref = action.rpartition("@")[2]
        assert len(ref) == 40, f"{action}: pin remote actions by full commit SHA"
