# Every target makes the virtual environment first when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# llama.cpp tuned for the build machine's exact CPU uses AMX instructions that crash
# on these machines; build a portable AVX2 binary instead (once; pip caches the wheel).
# LLAVA_BUILD=OFF skips the multimodal library (llama.cpp's tools/mtmd: 51 of 178
# compile units), which relaystack never loads.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF

.PHONY: install serve test faults fuzz lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: install
	$(BIN)/relaystack serve $(if $(CONFIG),--config $(CONFIG))

test: install
	$(BIN)/python -m pytest --ignore=tests/faults $(PYTEST_ARGS)

# The fault-injection suite: real serve processes over a broken upstream, a full or
# read-only SQLite disk, a PostgreSQL restart, kill -9, clients hanging up (a few minutes).
faults: install
	$(BIN)/python -m pytest tests/faults $(PYTEST_ARGS)

# Property-based fuzzing (schemathesis over /openapi.json, hypothesis); part of make test.
fuzz: install
	$(BIN)/python -m pytest tests/fuzz $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
