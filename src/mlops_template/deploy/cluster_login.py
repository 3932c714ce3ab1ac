"""Is a cluster configured for this environment, and connecting kubectl to it.

A fresh copy of the template has no cluster: its deploy workflow must still be green, the
release skipped with a job summary that says what to set. So each release job asks first
(`mlops deploy-ready`), inside the job of its GitHub environment, because environment
variables and secrets are visible only there. One of two ways, per environment:

- EKS through OIDC: `EKS_CLUSTER` (+ `AWS_REGION`) and a deploy role for the environment
  (`DEPLOY_STAGING_ROLE_ARN` / `DEPLOY_PRODUCTION_ROLE_ARN`, given to these commands as
  `DEPLOY_ROLE_ARN`); the workflow assumes the role, `aws eks update-kubeconfig` does the rest;
- any cluster: `KUBECONFIG_DATA`, a base64 kubeconfig in an environment secret.

Nothing set means "not configured" (skip, green); half set (a cluster without a role, a
role without a cluster) is a mistake and fails with what is missing.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from mlops_template.deploy.kubectl import DeployError
from mlops_template.external import CommandError, NotInstalledError, run

DOCS = "docs/deploy.md"
Method = Literal["eks", "kubeconfig", "none"]


def role_variable(env: str) -> str:
    return f"DEPLOY_{env.upper().replace('-', '_')}_ROLE_ARN"


def _set(name: str) -> str:
    return os.environ.get(name, "").strip()


@dataclass(frozen=True)
class Access:
    env: str
    method: Method
    problems: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.method != "none" and not self.problems


def access(env: str) -> Access:
    """How this environment reaches its cluster, from the variables the workflow passes."""
    cluster, role, kubeconfig = _set("EKS_CLUSTER"), _set("DEPLOY_ROLE_ARN"), _set("KUBECONFIG_DATA")
    problems = []
    if cluster:
        if not role:
            problems.append(f"EKS_CLUSTER is set but {role_variable(env)} is not: the job has no role to log in with")
        return Access(env, "eks", problems)
    if kubeconfig:
        try:
            base64.b64decode(kubeconfig, validate=True)
        except binascii.Error:
            problems.append("KUBECONFIG_DATA is not base64: store the output of `base64 -w0 kubeconfig`")
        return Access(env, "kubeconfig", problems)
    if role:
        problems.append(
            f"{role_variable(env)} is set but EKS_CLUSTER is not: name the cluster (or set KUBECONFIG_DATA)"
        )
        return Access(env, "eks", problems)
    return Access(env, "none")


def not_configured(env: str, image: str | None) -> str:
    """The job summary of a skipped release: exactly what to configure."""
    built = f"The image was built and pushed: `{image}`.\n\n" if image else ""
    return f"""## {env.capitalize()}: not deployed, no cluster is configured

{built}To release every merge to `{env}`, give the GitHub environment `{env}`
(Settings → Environments → {env}) one way to reach a Kubernetes cluster:

- **EKS through OIDC**: variables `EKS_CLUSTER` and `AWS_REGION`, and `{role_variable(env)}`, a role
  whose trust policy allows `repo:<owner>/<repo>:environment:{env}`;
- **any cluster**: secret `KUBECONFIG_DATA`, the output of `base64 -w0 <kubeconfig>`.

Optional: `{env.upper()}_URL` (the smoke test goes there instead of through `kubectl port-forward`),
secret `REGISTRY_PULL_TOKEN` (nodes pull the private GHCR image with it). Step by step: `{DOCS}`.
"""


def connect_kubectl() -> str:
    """Give kubectl the environment's cluster: `EKS_CLUSTER` through the AWS CLI (after the
    workflow's OIDC login), else `KUBECONFIG_DATA` written where kubectl reads it. Fails when
    neither is set: a deploy that goes on would only meet `localhost:8080 refused`."""
    cluster = _set("EKS_CLUSTER")
    if cluster:
        region = _set("AWS_REGION") or "us-east-1"
        aws = ["aws", "eks", "update-kubeconfig", "--name", cluster, "--region", region]
        try:
            run(aws, timeout=120)
        except NotInstalledError as exc:
            raise DeployError("the AWS CLI (`aws`) is not installed; it writes EKS's kubeconfig") from exc
        except CommandError as exc:
            hint = f"logging in to EKS cluster {cluster} ({region}): is the deploy role allowed?"
            raise DeployError(f"{exc}\n{hint}") from exc
        return f"kubectl uses EKS cluster {cluster} ({region})"
    data = _set("KUBECONFIG_DATA")
    if data:
        try:
            text = base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise DeployError("KUBECONFIG_DATA is not base64: store the output of `base64 -w0 kubeconfig`") from exc
        config = Path(os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or Path.home() / ".kube" / "config")
        config.parent.mkdir(parents=True, exist_ok=True)
        config.touch(mode=0o600)
        config.chmod(0o600)
        config.write_bytes(text)
        return f"kubectl uses the kubeconfig from KUBECONFIG_DATA ({config})"
    raise DeployError(
        "no cluster configured: set EKS_CLUSTER (with the environment's DEPLOY_<ENV>_ROLE_ARN) or "
        f"KUBECONFIG_DATA; see {DOCS}"
    )
