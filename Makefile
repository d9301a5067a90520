# peakday — set-up, demo and tests. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := $(abspath .tools/bin)
TOXIPROXY_VERSION := 2.12.0
export PATH := $(TOOLS):$(abspath $(BIN)):$(PATH)
export PEAKDAY_TOOLS_DIR := $(TOOLS)

.PHONY: help demo test test-fast check lint typecheck format tools venv bench clean

help:
	@echo "make demo   - set everything up, then run the Cyber Monday login-outage rehearsal"
	@echo "make test   - set everything up, then run the whole test suite (integration included)"
	@echo "make check  - lint, type-check and test"
	@echo "make tools  - install toxiproxy-server/toxiproxy-cli v$(TOXIPROXY_VERSION) into .tools/bin"
	@echo "make bench  - run the benchmarks in bench/"

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# toxiproxy-server and toxiproxy-cli v$(TOXIPROXY_VERSION) into .tools/bin: the same code path a user
# of the installed tool runs (`peakday tools install`: go install, or where to download them).
tools: venv
	@$(BIN)/peakday tools install --dir "$(TOOLS)"

demo: venv tools
	@$(BIN)/peakday run cyber-monday-login-outage; \
	status=$$?; \
	case $$status in 0|1|4|5|6) \
	  echo; echo "Results: the folder named on the 'Results:' line above (open its report.html)";; \
	*) exit $$status;; esac

test: venv tools
	$(BIN)/pytest

test-fast: venv
	$(BIN)/pytest -m "not integration and not docker and not slow"

lint: venv
	$(BIN)/ruff format --check src tests locustfiles bench examples
	$(BIN)/ruff check src tests locustfiles bench examples

typecheck: venv
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format src tests locustfiles bench examples
	$(BIN)/ruff check --fix src tests locustfiles bench examples

check: lint typecheck test

bench: venv tools
	$(BIN)/python bench/overhead.py

clean:
	rm -rf results .pytest_cache .mypy_cache .ruff_cache
