# peakday — set-up, demo and tests. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := $(abspath .tools/bin)
TOXIPROXY_VERSION := 2.12.0
export PATH := $(TOOLS):$(abspath $(BIN)):$(PATH)
export PEAKDAY_TOOLS_DIR := $(TOOLS)

.PHONY: help demo test test-fast check lint typecheck format tools compose prometheus venv bench clean

help:
	@echo "make demo   - set everything up, then run the Cyber Monday login-outage rehearsal"
	@echo "make test   - set everything up, then run the whole test suite (integration included)"
	@echo "make check  - lint, type-check and test"
	@echo "make tools  - install toxiproxy-server/toxiproxy-cli v$(TOXIPROXY_VERSION) into .tools/bin"
	@echo "make compose - install the Docker Compose v2 plugin when 'docker compose' is missing"
	@echo "make prometheus - Debian's prometheus (monitoring: prometheus, its integration tests)"
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

# The Compose v2 plugin (built from its Go module and cached by .ci/install-compose), needed by the
# compose platform and its tests; only where a docker CLI is installed, and only when missing.
compose:
	@if ! command -v docker >/dev/null 2>&1; then exit 0; fi; \
	if docker compose version >/dev/null 2>&1; then exit 0; fi; \
	echo "'docker compose' is missing: installing the Compose v2 plugin with .ci/install-compose"; \
	.ci/install-compose

# Debian's prometheus 2.42 for `monitoring: prometheus`: the tools folder, then PATH, else apt-get
# (as root). peakday starts its own server on a free loopback port, so the system service the
# package may start is stopped and disabled (it would hold port 9090 for nothing).
prometheus:
	@if [ -x "$(TOOLS)/prometheus" ] || command -v prometheus >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "apt-get install prometheus"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null && \
	  { systemctl disable --now prometheus >/dev/null 2>&1 || service prometheus stop >/dev/null 2>&1 || true; }; \
	else \
	  echo "note: prometheus is not installed; monitoring: prometheus and its tests need it." >&2; \
	  echo "Hint: sudo apt-get install prometheus (then: sudo systemctl disable --now prometheus)." >&2; \
	fi

demo: venv tools
	@$(BIN)/peakday run cyber-monday-login-outage; \
	status=$$?; \
	case $$status in 0|1|4|5|6) \
	  echo; echo "Results: the folder named on the 'Results:' line above (open its report.html)";; \
	*) exit $$status;; esac

test: venv tools compose prometheus
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
