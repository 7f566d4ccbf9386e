# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3

.PHONY: run test install install-dev check compile

install: compile
	$(PYTHON) -m pip install -q -r requirements.txt

install-dev: compile
	$(PYTHON) -m pip install -q -r requirements-dev.txt
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
	  { echo "installing Debian chromium and poppler-utils (browser tests, chart images, PDF checks)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; }
	@command -v pdftoppm >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; }

# Installs, builds the demo store when there is none (the app says so on every page), warms
# every page's default view (ui/serve.py), serves.
run: install
	$(PYTHON) -m ui.serve

# Lint, the import rule, then the whole test suite (unit, golden, AppTest, browser).
check:
	$(PYTHON) -m ruff check .
	lint-imports
	$(PYTHON) -m pytest

test: install-dev check

# The project's own modules compiled once, as pip compiles an installed package's: where bytecode
# is not written at run time (PYTHONDONTWRITEBYTECODE, common in containers) every command and
# server start would compile them again (0.05-0.1 s a process).
compile:
	$(PYTHON) -m compileall -q dashboard.py analytics ui pages >/dev/null
