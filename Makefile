# Two commands for a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.install-stamp
# Debian packages some targets use; installed with apt-get when it is there and we are root.
APT_INSTALL = DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends

.PHONY: install run test bench lint clean browser wrk

install: $(STAMP)

# Reinstall only when the package metadata changed; the editable install picks up code edits.
$(STAMP): setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $(STAMP)

run: install
	$(BIN)/cpap-server serve

test: install browser
	$(BIN)/python -m pytest

bench: install wrk
	$(BIN)/python -m bench

lint: install
	$(BIN)/flake8 cpap_server tests migrations bench tools

# Headless Chromium for tests/browser; without it those tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && $(APT_INSTALL) chromium chromium-driver >/dev/null) \
	      || echo "make: could not install chromium; browser tests will be skipped"; \
	  else echo "make: chromium missing and apt-get unavailable; browser tests will be skipped"; fi; }

# wrk drives the HTTP benchmarks; without it bench/ uses its own keep-alive load generator.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && $(APT_INSTALL) wrk >/dev/null) \
	      || echo "make: could not install wrk; using bench/loadgen.py"; \
	  else echo "make: wrk missing; using bench/loadgen.py"; fi; }

clean:
	rm -rf $(VENV) *.egg-info
