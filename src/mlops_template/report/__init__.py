"""The pull-request report: what DVC says changed between main and a PR, judged and drawn.

`build` makes it (`mlops report`, `make report`); `post` puts it on the pull request as one
comment (`make post-report`, in the pr-report workflow). `post` uses the standard library
only, so the workflow that posts can run it without installing (or running) the PR's code.
"""
