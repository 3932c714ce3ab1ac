"""Promotion by pull request: production gets exactly the digest staging tested, once a human merged it.

After a release passed staging's smoke test, `promote` writes that image's digest and model
version into `deploy/overlays/<env>/kustomization.yaml` (kustomize `images:` with `digest:`,
and the `mlops-template/model-version` annotation), commits it on the branch
`promote/<env>` and opens (or updates) its pull request. Reviewing and merging it is the
approval; it works on every GitHub plan, is kept in the history and is undone by a revert.
Merging deploys (.github/workflows/production.yml), and the same commit is what Argo CD or
Flux watching the overlay would sync. The edit is made in a temporary git worktree, so a
laptop's checkout is left as it was.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlops_template.deploy import manifests as mf
from mlops_template.deploy.kubectl import DeployError, kubectl
from mlops_template.external import CommandError, run

BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
NOT_PERMITTED = "not permitted to create or approve pull requests"


def _run(*args: str, cwd: Path | None = None) -> str:
    try:
        return run(args, cwd=cwd)
    except CommandError as exc:
        message = str(exc)
        if NOT_PERMITTED in exc.output:
            message += (
                "\nTurn on Settings → Actions → General → 'Allow GitHub Actions to create and approve pull "
                "requests', or give the workflow a PROMOTION_TOKEN (docs/github-setup.md)"
            )
        raise DeployError(message) from exc


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line strings (kustomize patches) as `|` blocks, as they were written."""


_LiteralDumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None),
)


def pin(text: str, image: str, model_version: str) -> str:
    """The kustomization `text` with `images:` pinned to `image`'s digest and the model version
    annotated; the comment at its top is kept."""
    if not mf.has_digest(image):
        raise DeployError(f"{image!r} is not pinned by digest: promote the image staging tested (name@sha256:…)")
    name, digest = image.split("@", 1)
    document: dict[str, Any] = yaml.safe_load(text) or {}
    others = [i for i in document.get("images", []) if i.get("name") != mf.PLACEHOLDER_IMAGE]
    document["images"] = [*others, {"name": mf.PLACEHOLDER_IMAGE, "newName": name, "digest": digest}]
    document.setdefault("commonAnnotations", {})[mf.MODEL_VERSION] = model_version
    header = "".join(itertools.takewhile(lambda line: line.startswith("#"), text.splitlines(keepends=True)))
    body = yaml.dump(document, Dumper=_LiteralDumper, sort_keys=False, default_flow_style=False, width=120)
    return header + body


@dataclass(frozen=True)
class Promotion:
    env: str
    image: str
    branch: str
    commit: str | None
    pull_request: str | None

    def describe(self) -> str:
        if self.commit is None:
            return f"{self.env} already pins {self.image}: nothing to promote"
        where = self.pull_request or f"branch {self.branch} (not pushed)"
        return f"promotion of {self.image} to {self.env}: {where}"


def body(env: str, image: str, model_version: str, run_url: str | None) -> str:
    tested = f"in [this run]({run_url})" if run_url else "before this pull request was opened"
    return f"""## Promote to {env}

Staging released this image and it passed its smoke test {tested}:

- image: `{image}`
- model: `{model_version}`

Merging this pull request is the approval: the merge deploys exactly this digest to `{env}`
(`.github/workflows/production.yml`), smoke-tests it and rolls back if it fails. A newer
staging release updates this pull request. To undo a promotion later, revert its merge.
"""


def promote(
    env: str, image: str, model_version: str, *, base: str = "main", push: bool = True, run_url: str | None = None
) -> Promotion:
    """Pin `env`'s overlay to `image` on branch promote/<env> and open or update its pull request."""
    branch = f"promote/{env}"
    relative = mf.overlay(env) / "kustomization.yaml"
    with tempfile.TemporaryDirectory(prefix="mlops-promote-") as folder:
        tree = Path(folder) / "tree"
        _run("git", "worktree", "add", "--force", "-B", branch, str(tree), "HEAD")
        try:
            target = tree / relative
            before = target.read_text(encoding="utf-8")
            target.write_text(pin(before, image, model_version), encoding="utf-8")
            rendered = [d for d in yaml.safe_load_all(kubectl("kustomize", str(target.parent))) if d]
            _check_rendered(rendered, image, model_version, target)
            if _run("git", "status", "--porcelain", cwd=tree).strip() == "":
                return Promotion(env, image, branch, None, None)
            identity = [] if _run("git", "config", "--default", "", "user.email").strip() else [
                "-c", f"user.name={BOT[0]}", "-c", f"user.email={BOT[1]}"]  # fmt: skip
            message = f"Promote {model_version} to {env}\n\nStaging released and smoke-tested {image}."
            _run("git", *identity, "commit", "--quiet", "--no-verify", "-m", message, "--", str(relative), cwd=tree)
            commit = _run("git", "rev-parse", "HEAD", cwd=tree).strip()
            if not push:
                return Promotion(env, image, branch, commit, None)
            _run("git", "-c", "credential.helper=", "-c", "credential.helper=!gh auth git-credential",
                 "push", "--force", "origin", f"HEAD:refs/heads/{branch}", cwd=tree)  # fmt: skip
        finally:
            _run("git", "worktree", "remove", "--force", str(tree))
    return Promotion(
        env, image, branch, commit, _pull_request(env, branch, base, body(env, image, model_version, run_url))
    )


def _check_rendered(documents: list[dict[str, Any]], image: str, model_version: str, path: Path) -> None:
    """The overlay, as kustomize renders it, runs the promoted digest: or nothing is pushed."""
    images = [
        c["image"]
        for d in documents
        if d.get("kind") == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
        if c["name"] == mf.SERVICE_CONTAINER
    ]
    versions = [
        d["spec"]["template"].get("metadata", {}).get("annotations", {}).get(mf.MODEL_VERSION)
        for d in documents
        if d.get("kind") == "Deployment"
    ]
    name, digest = image.split("@", 1)
    if len(images) != 1 or not images[0].startswith(name) or not images[0].endswith(digest):
        raise DeployError(f"{path}: after the edit the service runs {images}, not {image}; fix the overlay by hand")
    if versions != [model_version]:
        raise DeployError(f"{path}: after the edit the pods carry model version {versions}, not {model_version}")


def _pull_request(env: str, branch: str, base: str, text: str) -> str:
    listed = json.loads(_run("gh", "pr", "list", "--head", branch, "--state", "open", "--json", "number,url"))
    with tempfile.NamedTemporaryFile("w", suffix=".md", encoding="utf-8", delete=False) as handle:
        handle.write(text)
    try:
        if listed:
            number = str(listed[0]["number"])
            _run("gh", "pr", "comment", number, "--body-file", handle.name)
            return f"updated pull request #{number} {listed[0].get('url') or ''}".strip()
        title = f"Promote the staging release to {env}"
        return _run("gh", "pr", "create", "--base", base, "--head", branch, "--title", title,
                    "--body-file", handle.name).strip()  # fmt: skip
    finally:
        Path(handle.name).unlink(missing_ok=True)
