# studygraph: the README's two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.studygraph-installed
# llama.cpp built with default flags segfaults on these CPUs (ggml_backend_amx_mul_mat): pin the ISA.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
WORKSPACE ?= data/workspace
HOST ?= 127.0.0.1
PORT ?= 8501

.PHONY: install run test test-fast browser-deps lint bench clean

install: $(STAMP)

# Re-runs only when the dependency declarations change; the project itself is installed editable.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install -c constraints.txt -e '.[all]'
	touch $(STAMP)

run: install
	$(BIN)/studygraph ingest data/notes --workspace $(WORKSPACE)
	$(BIN)/studygraph ui --workspace $(WORKSPACE) --host $(HOST) --port $(PORT)

# Everything: lint, then every test tier (slow, llm, browser included); prints the 25 slowest tests.
# browser-deps comes first, so a machine that cannot get chromium says so before the long install.
test: browser-deps install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest --durations=25

# The edit loop: no real models, no browser, no subprocess kill sweeps, no long fuzzing (markers in pyproject.toml).
test-fast: install
	$(BIN)/python -m pytest -m "not slow and not llm and not browser" --durations=10

# Debian's chromium and a CJK font for the browser test, installed with apt-get when possible (also run by .ci/run).
browser-deps:
	@scripts/ensure-browser-deps

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/llm.py

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
