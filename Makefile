# newsapi: train in notebooks, serve with FastAPI.  `make serve` and `make test` are all a
# newcomer needs; both create .venv and install the project into it on first use.
#
# The corpus folder comes from the environment: NEWSAPI_DATA_HOME, else SCIKIT_LEARN_DATA
# (scikit-learn's own variable). Unset, scikit-learn downloads the corpus when it can.

PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp
MODEL   := artifacts/newsgroups_model.joblib
RUN_DIR := artifacts/runs/$(shell date -u +%Y%m%dT%H%M%SZ)
PARAMS  ?=
EVAL_PARAMS ?=
HOST    ?= 127.0.0.1
PORT    ?= 8000
WORKERS ?= 1
PYTEST_ARGS ?=
SOAK_SECONDS ?= 60

.PHONY: install serve train notebooks test lint soak bench bench-smoke tools clean sweep bench-sweep

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's wrk drives the load in bench/ and the soak test.
tools:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "installing wrk from Debian's packages"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq wrk >/dev/null; }

## serve: train once if there is no model yet, then run the API
serve: $(STAMP)
	@[ -f $(MODEL) ] || $(MAKE) train
	$(BIN)/uvicorn newsapi.app:app --host $(HOST) --port $(PORT) --workers $(WORKERS)

## train: run both notebooks with papermill into artifacts/runs/<timestamp>/ (+ HTML)
train: $(STAMP)
	mkdir -p $(RUN_DIR)
	$(BIN)/papermill --progress-bar --cwd notebooks notebooks/01_train.ipynb $(RUN_DIR)/01_train.ipynb $(PARAMS)
	$(BIN)/papermill --progress-bar --cwd notebooks notebooks/02_evaluate.ipynb $(RUN_DIR)/02_evaluate.ipynb $(EVAL_PARAMS)
	$(BIN)/jupyter nbconvert --log-level WARN --to html $(RUN_DIR)/01_train.ipynb $(RUN_DIR)/02_evaluate.ipynb
	@echo "model, manifest and confusion_matrix.png in artifacts/; executed notebooks in $(RUN_DIR)/"

## sweep: cross-validate 03_sweep.ipynb's grid, store the winner with the executed notebook,
## refresh artifacts/index.html; PARAMS="-p grid '{...}' -p cv 5 ..." overrides, --promote serves it
sweep: $(STAMP)
	$(BIN)/newsapi sweep $(PARAMS)

## notebooks: re-execute the committed notebooks in place with their default parameters
notebooks: $(STAMP)
	$(BIN)/papermill --cwd notebooks notebooks/01_train.ipynb notebooks/01_train.ipynb
	$(BIN)/papermill --cwd notebooks notebooks/02_evaluate.ipynb notebooks/02_evaluate.ipynb

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## test: lint, then the whole suite, with nbval over a copy of notebooks/ (so that the run
## writes its model into build/, not over yours)
test: $(STAMP) tools lint
	rm -rf build/nbval && mkdir -p build/nbval && cp -r notebooks build/nbval/
	$(BIN)/pytest tests build/nbval/notebooks --nbval --nbval-sanitize-with notebooks/sanitize.cfg $(PYTEST_ARGS)

## soak: the 60 s load test (make test runs a 10 s version)
soak: $(STAMP) tools
	NEWSAPI_SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/pytest -m soak tests $(PYTEST_ARGS)

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

clean:
	rm -rf build .cache .pytest_cache .mypy_cache .ruff_cache bench/results
