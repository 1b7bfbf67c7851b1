# rupture-nlp: everything a fresh clone needs, installed by this file alone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODEL := models/rupture-default.joblib
SEED ?= 0
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: install test lint format model demo evaluate bench bench-quick datacard speaker-roles browser clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,dask]'
	touch $@

install: $(BIN)/.installed

## The README's test command: lint, then every test (doctests and the notebook included).
test: install
	$(BIN)/ruff check rupture_nlp tests scripts benchmarks
	$(BIN)/ruff format --check rupture_nlp tests scripts benchmarks
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check rupture_nlp tests scripts benchmarks
	$(BIN)/ruff format --check rupture_nlp tests scripts benchmarks

format: install
	$(BIN)/ruff format rupture_nlp tests scripts benchmarks
	$(BIN)/ruff check --fix rupture_nlp tests scripts benchmarks

## The default model, deterministically from the corpus's train split (the same file for the same JOBS;
## the same model, coefficient for coefficient, for any).
$(MODEL): data/corpus.csv data/splits.json $(BIN)/.installed $(wildcard rupture_nlp/*.py)
	$(BIN)/rupture train data/ -o $@ --seed $(SEED) --jobs $(JOBS)

model: $(MODEL)

## The README's main job: tag and scan the sample transcripts with the default model.
demo: $(MODEL)
	mkdir -p out
	$(BIN)/rupture tag data/samples/ -o out/samples-tagged.csv
	$(BIN)/rupture scan data/samples/ -o out/samples-episodes.csv --report out/samples-report.html
	@echo "open out/samples-report.html in a browser"

## Baselines and the project's model side by side on the same splits, writers held out, and a
## learning curve, written into the README; REAL=FILE adds a labelled set of real sessions.
REAL ?=
evaluate: install
	$(BIN)/python scripts/compare_models.py --data data/ --out out/compare.json --write README.md --jobs $(JOBS) \
		$(if $(REAL),--real $(REAL))

## Data card figures (counts, agreement) from the corpus files.
datacard: install
	$(BIN)/python scripts/data_card.py --data data/ --write data/README.md

## The speaker-role model (rupture_nlp/speaker_roles.json) from the train split, and its
## figures in the README.
speaker-roles: install
	$(BIN)/python scripts/fit_speaker_roles.py --data data/ --write README.md

## Debian's Chromium, for the report's browser tests (they are skipped without it); needs root.
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

## Speed and memory against the tokenizer, written into the README's Performance section;
## BENCH_ARGS='--only dask' to re-measure one section; make bench-quick is a smoke run that
## leaves the README alone.
BENCH_ARGS ?=
bench: install
	$(BIN)/python benchmarks/bench.py --write README.md $(BENCH_ARGS)

bench-quick: install
	$(BIN)/python benchmarks/bench.py --quick

clean:
	rm -rf out bench-out .pytest_cache
