"""Drift: is the data the model meets still the data it was trained on?

`check.run` (the `mlops drift` command) compares a current batch with the deployed
model's training data, feature by feature as the contract types them, and writes
`drift.json`, `drift.md` and plots; `github` turns a result into one deduplicated issue
and, optionally, a retraining pull request, and keeps the scheduled workflow enabled.
"""
