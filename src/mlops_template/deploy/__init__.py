"""Deploying the service image to Kubernetes, checking it, promoting it and taking it back.

One module per job, in the order a release runs them:

- `cluster_login`  is a cluster configured for this environment, and connect kubectl to it
                   (EKS through the workflow's OIDC login, or a kubeconfig from a secret);
- `manifests`      render `deploy/overlays/<env>` (kustomize) and pin the service image;
- `kubectl`        the one way to the cluster: kubectl calls and `port-forward`;
- `pull_secret`    the image pull secret a private GHCR package needs;
- `rollout`        apply, wait, record the last good release, roll the whole workload back;
- `smoke`          the smoke test of a running service (standard library only: `make smoke`);
- `release`        deploy + smoke test (by URL or through port-forward) + rollback on failure;
- `promote`        the promotion pull request that pins production to the digest staging tested;
- `summary`        what a run tells GitHub: job summary, annotations, step outputs.

Only kubectl talks to the cluster, with the context and credentials of its environment, so
the same commands work from a laptop, from CI and against the tests' stand-in kubectl.
"""
