# Every CI step is a target here, and runs the same on a laptop. `make help` lists them.
# Set-up is automatic: any target that needs the environment installs it first.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Python writes no bytecode caches when this is set (it is on some CI images), which makes
# every command re-compile pandas and scikit-learn on import: several seconds a stage.
unexport PYTHONDONTWRITEBYTECODE

VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
# uv from PATH, or a private copy bootstrapped with pip when there is none.
UV := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help install run test test-swap test-fast lint format sample bench bench-drift monitoring-tools check-monitoring clean pull push-data check-model e2e container-tools base-image-standin report report-check post-report drift drift-issue drift-retrain keepalive changes ci-lint ci-local test-workflows

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

$(BIN)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-groups
	@touch $@

install: $(BIN)/.installed ## Install the locked environment (Python 3.11, uv)

run: install ## Run the whole pipeline (dvc repro) on the configured data: the embedded sample by default
	dvc repro

pull: install ## Pull data, cached outputs and the run-cache from the DVC remote (DVC_REMOTE_URL, else the configured default)
	$(if $(DVC_REMOTE_URL),dvc remote add --local --force --default ci "$(DVC_REMOTE_URL)")
	dvc pull --run-cache --allow-missing

push-data: install ## Push data, model and run-cache to the DVC remote (DVC_REMOTE_URL, else the configured default): main's job
	$(if $(DVC_REMOTE_URL),dvc remote add --local --force --default ci "$(DVC_REMOTE_URL)")
	dvc push --run-cache

report: install ## The PR report in reports/pr/: DVC's diff against REPORT_BASE (default main), plots, verdict
	mlops report

report-check: install ## Fail when the report's verdict fails (gate failed, pipeline stopped, model worse)
	mlops report-check

post-report: ## Post REPORT_DIR (default reports/pr) as the one sticky PR comment (cml, else gh); stdlib only, installs nothing
	PYTHONPATH=src python3 -m mlops_template.report.post

# Tests run on every core, a module per worker (module-scoped fixtures such as a reproduced
# repository or a running server are built once): about half the wall time on 2 cores.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadfile

# Which tests `make test` selects; the act tests narrow it when they run the PR workflow inside act.
TEST_MARKERS ?= not act

test: install lint monitoring-tools ## Lint, type-check and run the test suite (the act-based workflow tests: make test-workflows)
	pytest -m "$(TEST_MARKERS)" $(PYTEST_PARALLEL) --durations=10

test-swap: install ## `make test` in a clone with another dataset (TASK=regression|binary|multiclass): the two-file promise (minutes)
	python -m tests.swap $(or $(TASK),regression) --keep

test-fast: install ## The test suite without the slow end-to-end tests
	pytest -m "not slow" $(PYTEST_PARALLEL)

lint: install ## ruff (lint + format check) and mypy
	ruff check .
	ruff format --check .
	mypy

format: install ## Apply ruff's fixes and formatting
	ruff check --fix .
	ruff format .

sample: install ## Regenerate the embedded sample data from params.yaml data.sample
	mlops generate-sample

bench: install ## Run the benchmarks; each writes benchmarks/results/<script>.md (docs/benchmarks.md)
	python -m benchmarks.gate_throughput
	python -m benchmarks.pipeline_time
	python -m benchmarks.drift_speed
	python -m benchmarks.inference_log
	python -m benchmarks.preprocessing

drift: install ## Drift check: current data vs the training data -> reports/drift (exit 0 no drift, 3 drift, 4 could not check)
	mlops drift

drift-issue: install ## Publish reports/drift/drift.json on GitHub (gh): open or update the ONE drift issue; nothing on no drift
	mlops drift-issue

drift-retrain: install ## Add the labelled current batch as a new training input (data.extra_inputs), retrain, push branch drift-retrain, open its PR (gh)
	mlops drift-retrain

keepalive: install ## Keep the scheduled drift workflow enabled: re-enable it via the API once main is quiet (no commits)
	mlops keepalive

# Debian's `prometheus` package brings promtool and the server the monitoring tests run
# (deploy/monitoring/, tests/integration/test_monitoring.py); without root or apt they skip.
monitoring-tools: ## Install Prometheus + promtool (Debian's prometheus) when missing; says why when it cannot
	@if command -v promtool >/dev/null && command -v prometheus >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's prometheus package (promtool + server) for the monitoring tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	else \
		echo "monitoring-tools: promtool/prometheus missing and apt-get unusable here (not root, or not Debian):" \
			"the monitoring tests skip; install Prometheus 2.x to run them"; \
	fi

check-monitoring: monitoring-tools ## The alert rules are valid and their unit tests pass (promtool, deploy/monitoring/)
	promtool check rules deploy/monitoring/alert-rules.yaml
	promtool test rules deploy/monitoring/alert-rules.test.yaml

bench-drift: install ## Time the drift statistics on 1M rows x 20 features -> benchmarks/results/drift_speed.md
	python -m benchmarks.drift_speed

clean: ## Remove pipeline outputs and caches (not the DVC cache)
	rm -rf data/raw data/prepared data/split models metrics plots reports .pytest_cache .mypy_cache .ruff_cache

# A pull request that changes only these needs no tests and no report (pr.yml's `changes` job).
DOCS_ONLY := ^(docs/.*|.*\.md|LICENSE|\.github/dependabot\.yml|)$$
CHANGES_BASE ?= origin/main

changes: ## More than docs changed since CHANGES_BASE (default origin/main)? Prints code=true|false (a step output in CI)
	@files="$$(git diff --name-only "$(CHANGES_BASE)...HEAD")"; \
	code_files="$$(grep -vE '$(DOCS_ONLY)' <<< "$$files" || true)"; \
	code=$$([ -n "$$code_files" ] && echo true || echo false); \
	echo "changed since $(CHANGES_BASE): $$(grep -c . <<< "$$files" || true) file(s), beyond documentation:" \
		"$$(grep -c . <<< "$$code_files" || true)"; \
	echo "code=$$code"; \
	if [ -n "$${GITHUB_OUTPUT:-}" ]; then echo "code=$$code" >> "$$GITHUB_OUTPUT"; fi

# ---- Workflows, proven offline (no GitHub, no docker): see tests/workflows/ --------------
ACT := python -m tests.workflows.act
EVENTS := tests/workflows/events
WORKFLOWS := $(wildcard .github/workflows/*.yml)

ci-lint: install ## Lint .github offline: actionlint (+shellcheck), check-jsonschema, zizmor (regular + pedantic)
	actionlint
	$(if $(WORKFLOWS),check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS))
	check-jsonschema --builtin-schema vendor.github-actions .github/actions/*/action.yml tests/workflows/stubs/*/action.yml
	check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	zizmor --offline .github tests/workflows/stubs
	zizmor --offline --persona pedantic .github tests/workflows/stubs

ci-local: install ## Run the workflows for real with act: a pull request, the comment it gets, a deploy on merge
	$(ACT) --fresh pull_request -W .github/workflows/pr.yml -e $(EVENTS)/pull_request.json
	$(ACT) workflow_run -W .github/workflows/pr-report.yml -e $(EVENTS)/workflow_run.json
	$(ACT) --comments
	# drift.yml on a fresh copy: the synthetic demo batch, so nothing is posted (the log says what to configure)
	$(ACT) --fresh schedule -W .github/workflows/drift.yml -e $(EVENTS)/schedule.json
	$(ACT) --comments
	# deploy.yml and production.yml from a fresh copy to a merged promotion (docker and kubectl stand-ins)
	pytest tests/workflows/test_deploy_workflow.py

# The deploy ships what the pull request's report reviewed: the model whose hash the committed
# dvc.lock records. After `make pull` + `make run` on the merge commit, a rebuilt model that
# differs (non-deterministic training, a changed dependency) rewrites dvc.lock or leaves the
# train stage changed: either stops the deploy.
check-model: install ## Stop unless the built model (paths.model_dir) is the one whose hash the committed dvc.lock records
	@git diff --quiet HEAD -- dvc.lock || { echo "check-model: dvc.lock differs from the commit's: the pipeline built something other than what was reviewed" >&2; git diff --stat HEAD -- dvc.lock >&2; exit 1; }
	@status="$$(dvc status train --json)"; if [ "$$status" != "{}" ]; then \
		echo "check-model: the built model does not match the hash in the committed dvc.lock (dvc status train: $$status); run \`make pull\` and \`make run\` on this commit" >&2; exit 1; fi
	@echo "check-model: the built model is the one the committed dvc.lock records ($$(dvc status train --json) = no change)"

e2e: install monitoring-tools $(if $(CONTAINER),container-tools) ## A day in the life on 127.0.0.1: S3 (moto), Prometheus, the service, drift, retraining PR (minutes; OUTAGE=1 stops S3 mid-traffic; CONTAINER=1 serves the image from a local registry)
	python -m tests.e2e.day_in_the_life $(if $(OUTAGE),--outage) $(if $(CONTAINER),--container "$(BASE_IMAGE)")

# The container variant's engine and registry, and debootstrap for the base image's stand-in.
container-tools: ## Install Debian's docker.io, docker-registry and debootstrap when missing (root + apt); says why when it cannot
	@if command -v dockerd >/dev/null && command -v docker-registry >/dev/null && command -v debootstrap >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's docker.io, docker-registry and debootstrap for make e2e CONTAINER=1"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io docker-registry debootstrap >/dev/null; \
	else \
		echo "container-tools: dockerd/docker-registry missing and apt-get unusable here (not root, or not Debian)"; \
	fi

# Where Docker Hub is out of reach: Debian's Python 3.11 in a minimal Debian, with a virtual
# environment on PATH (BentoML's build runs pip, which Debian's own Python refuses) and the
# host's CA bundle, which pip and uv are pointed at (a build behind a TLS-inspecting proxy).
STANDIN_ROOT ?= build/base-image-root
base-image-standin: container-tools ## Build local/bento-base:py3.11 (debootstrap, docker import): BASE_IMAGE where Docker Hub is out of reach
	rm -rf "$(STANDIN_ROOT)"
	debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$(STANDIN_ROOT)" http://deb.debian.org/debian
	chroot "$(STANDIN_ROOT)" python3 -m venv /opt/venv
	cp /etc/ssl/certs/ca-certificates.crt "$(STANDIN_ROOT)/etc/ssl/certs/ca-certificates.crt"
	tar -C "$(STANDIN_ROOT)" -c . | docker import \
		--change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
		- local/bento-base:py3.11
	rm -rf "$(STANDIN_ROOT)"

test-workflows: install ## The act-based workflow tests (minutes): PR, pushes, bad data, CML failing, fork, docs-only; drift, retraining PR
	pytest -m act

# ---- The service: serve, Bento, container, smoke, deploy (docs/service.md, docs/deploy.md) --
export BENTOML_DO_NOT_TRACK := true
# The container's base image: python:3.11-slim wherever Docker Hub answers (GitHub). Where it
# does not, a local stand-in with the same Python, e.g. BASE_IMAGE=local/bento-base:py3.11.
BASE_IMAGE ?= python:3.11-slim
IMAGE ?= mlops-template-service
GIT_SHA ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
PORT ?= 3000
# An empty URL (a workflow passing an unset variable) still means the local service.
override URL := $(or $(URL),http://127.0.0.1:$(PORT))
ENV ?= staging
# A release: the image pinned by digest (empty: the one deploy/overlays/ENV pins, as production's
# promotion sets it), the model version it must answer with, and the service's public URL
# (empty: the smoke test goes through kubectl port-forward). `make push` writes the first two
# of a build to build/image-ref and build/model-version.
IMAGE_REF ?=
MODEL_VERSION ?=
SERVICE_URL ?=
SMOKE_WAIT ?= 60
PARAMS ?= params.yaml
# BentoML builds with BuildKit, which a docker CLI runs through its buildx plugin; a CLI
# without the plugin builds with the classic builder instead (same image, slower).
DOCKER_BUILDKIT ?= $(shell docker buildx version >/dev/null 2>&1 && echo 1 || echo 0)
# Build steps reach the package index through the host's network (a no-op on GitHub's runners).
CONTAINER_BUILD_OPTS ?= --opt network=host
SERVICE := mlops_template.serving.service:PredictionService
BENTO_TAG = $$(cat build/bento-tag)
BENTO_VERSION = $$(cut -d: -f2 build/bento-tag)

.PHONY: bento-model serve bento container push smoke test-container kubeconfig deploy-ready deploy rollback release promote bench-serving hey

bento-model: install ## Save the trained model (paths.model_dir) in the BentoML model store, with its lineage
	mlops register --params "$(PARAMS)"

serve: bento-model ## Serve the model on 127.0.0.1:PORT (default 3000) with BentoML
	bentoml serve $(SERVICE) --host 127.0.0.1 --port $(PORT)

bento: bento-model ## Build the Bento (service, model, requirements from uv.lock); its tag goes to build/bento-tag
	@mkdir -p build
	$(UV) export --frozen --no-dev --no-hashes --no-emit-project --quiet \
		--prune dvc --prune matplotlib --prune typer --output-file build/bento-requirements.txt
	bentoml build --arg base_image=$(BASE_IMAGE) --label git_commit=$(GIT_SHA) --output tag \
		| sed -n 's/^__tag__://p' > build/bento-tag
	bentoml get "$(BENTO_TAG)" --output json \
		| python -c 'import json, sys; print(json.load(sys.stdin)["services"][0]["models"][0]["tag"])' \
		> build/model-version
	@echo "built Bento $(BENTO_TAG) with model $$(cat build/model-version) (base image $(BASE_IMAGE))"

container: bento ## Build the image IMAGE:GIT_SHA, also tagged with the Bento version (docker)
	DOCKER_BUILDKIT=$(DOCKER_BUILDKIT) bentoml containerize "$(BENTO_TAG)" --image-tag "$(IMAGE):$(GIT_SHA)" \
		$(CONTAINER_BUILD_OPTS)
	docker tag "$(IMAGE):$(GIT_SHA)" "$(IMAGE):$(BENTO_VERSION)"

push: ## Push IMAGE:GIT_SHA and IMAGE:<Bento version>; the pushed digest goes to build/image-ref (after `docker login`)
	docker push "$(IMAGE):$(GIT_SHA)"
	docker push "$(IMAGE):$(BENTO_VERSION)"
	docker inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$(IMAGE):$(GIT_SHA)" \
		| awk -v image="$(IMAGE)@sha256:" 'index($$0, image) == 1 && !found { print; found = 1 }' > build/image-ref
	@test -s build/image-ref || { echo "no digest of $(IMAGE) after the push"; exit 1; }
	@echo "pushed $$(cat build/image-ref)"

# The serving benchmark's HTTP load comes from `hey` (Debian's package of the same name).
hey: ## Install the load generator `hey` (Debian's hey) when missing; says why when it cannot
	@if command -v hey >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's hey package for the serving benchmark"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends hey >/dev/null; \
	else \
		echo "hey: missing and apt-get unusable here (not root, or not Debian): install hey to run the serving benchmark"; \
	fi

bench-serving: install hey ## The service vs FastAPI vs in-process, c=1/8/32, 1 row and 1,000 rows as records and as columns (minutes)
	python -m benchmarks.serving_profile
	python -m benchmarks.serving

smoke: install ## Smoke-test the service at URL: /livez, /readyz, one valid and one invalid request
	mlops smoke --url "$(URL)" --wait $(SMOKE_WAIT)

test-container: install ## Build the image, run it as a non-root user and smoke it (docker engine; BASE_IMAGE)
	BASE_IMAGE="$(BASE_IMAGE)" pytest -m container

kubeconfig: install ## Connect kubectl to ENV's cluster: EKS_CLUSTER (aws eks, after OIDC) or KUBECONFIG_DATA (base64); fails if neither
	mlops kubeconfig

deploy-ready: install ## Is a cluster configured for ENV? (step outputs ready/method; a job summary saying what to set)
	mlops deploy-ready --env "$(ENV)" --image "$(IMAGE_REF)"

deploy: install ## Deploy IMAGE_REF (default: the overlay's pinned image) to ENV with kubectl; wait for the rollout
	mlops deploy --env "$(ENV)" $(if $(IMAGE_REF),--image "$(IMAGE_REF)")

rollback: install ## Put ENV back on its last release that passed the smoke test (the whole workload)
	mlops rollback --env "$(ENV)"

release: install ## Deploy IMAGE_REF to ENV, smoke-test it (SERVICE_URL or port-forward) for MODEL_VERSION; roll back on failure
	mlops release --env "$(ENV)" $(if $(IMAGE_REF),--image "$(IMAGE_REF)") --url "$(SERVICE_URL)" \
		--expect-version "$(MODEL_VERSION)" --smoke-wait $(SMOKE_WAIT)

promote: install ## Open the pull request that pins production to IMAGE_REF (digest) and MODEL_VERSION; merging deploys it
	mlops promote --env production --image "$(IMAGE_REF)" --model-version "$(MODEL_VERSION)"
