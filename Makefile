# genrelab: `make repro` runs the whole study and builds the book; `make test` runs the tests.
# Both bootstrap .venv from requirements.lock when it is missing (needs only Python 3.11 and pip).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The venv's tools first, so papermill's python3 kernel is the venv's Python.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1
export TF_CPP_MIN_LOG_LEVEL := 3
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# The CPU pins (dvc.yaml's ${cpu} sets the same for a plain `dvc repro`). Libraries pick their
# kernels by the CPU and split work by its core count, and each choice rounds differently, which
# moved 11 scores between an AMD and an Intel AVX-512 machine (benchmarks/bench_cpu_determinism.py
# simulates another CPU). OpenBLAS: one kernel that every x86-64 CPU with AVX runs (Haswell's moves
# the mel spectrograms' last digits, then HOG scores and logreg_none by a test clip or two), and one
# thread (its threaded paths round otherwise; the stages' workers already run one each). NumPy's
# SIMD loops: the AVX2 paths on every AVX-512 CPU (numpy 2.4's names; naming a feature the CPU
# lacks is harmless). TensorFlow: oneDNN's kernels capped at AVX2 (bit-identical on an AVX2-only
# one-core simulation, and 2-3x faster than TensorFlow's Eigen kernels at the CNNs' sizes), and two
# intra-op threads (a product is split by them). A CPU without AVX2 still runs other paths.
export OPENBLAS_CORETYPE := Sandybridge
export OPENBLAS_NUM_THREADS := 1
export NPY_DISABLE_CPU_FEATURES := X86_V4,AVX512_ICL,AVX512_SPR
export TF_ENABLE_ONEDNN_OPTS := 1
export ONEDNN_MAX_CPU_ISA := AVX2
export TF_NUM_INTRAOP_THREADS := 2

.PHONY: help setup data repro book readme test test-fast lock clean check-data plots-template

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(STAMP)  ## create .venv from requirements.lock (offline-safe once installed)

$(STAMP): requirements.lock requirements-nodeps.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m genrelab.numba_cache  # librosa's kernels compiled once, serially (numba #10128)
	@touch $@

data: $(STAMP)  ## fill data/raw: dvc pull where a remote is set, else the demo corpus
	@if [ -d data/raw ] && [ -n "$$(ls -A data/raw 2>/dev/null)" ]; then \
		echo "data/raw is present: using it"; \
	elif [ -n "$$($(BIN)/dvc remote list 2>/dev/null)" ]; then \
		$(BIN)/dvc pull data.dvc; \
	else \
		echo "data/raw is missing and no DVC remote is set: generating the demo corpus pinned by data.dvc"; \
		$(BIN)/python -m genrelab.data.datacheck data.dvc --generate data/raw; \
	fi

repro: data  ## run the whole study (dvc repro) and build the book; each stage's time to results/stage_times.json
	$(BIN)/python -m genrelab.report.stage_times -- $(BIN)/dvc repro
	@echo "The book: $(CURDIR)/book/_build/html/index.html"

book: $(STAMP)  ## rebuild only the book from the executed notebooks
	$(BIN)/dvc repro book

readme: $(STAMP)  ## regenerate README.md's result numbers from results/ and metrics/
	$(BIN)/python -m genrelab.report.readme

plots-template:  ## rebuild dvc_plots/template.html (dvc plots show, offline) from the pinned npm packages (needs npm)
	$(PYTHON) dvc_plots/build_template.py

check-data: $(STAMP)  ## regenerate the demo corpus and fail if data.dvc would change
	$(BIN)/python -m genrelab.data.datacheck data.dvc

TEST_JOBS ?= auto
test: $(STAMP)  ## run the whole test suite (unit + end-to-end pipeline on a tiny corpus), on every core
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadgroup --max-worker-restart=0 --durations=15

test-fast: $(STAMP)  ## unit tests only (skips the end-to-end pipeline)
	$(BIN)/python -m pytest -m "not slow"

lock:  ## re-resolve requirements.in into requirements.lock (needs network)
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.in
	.lock-venv/bin/pip freeze --exclude-editable > requirements.lock && rm -rf .lock-venv

clean:  ## remove generated outputs (keeps .venv, data/raw, the DVC cache and the committed results/ and metrics/)
	rm -rf data/interim data/features data/spectrograms book/_build book/chapters book/_generated
	git clean -fdXq results metrics models  # ignored files only: the tracked baselines stay
