# The two commands in the README are the contract: `make demo` and `make test`.
# Both create .venv (Python 3.12) and install the locked requirements when needed.

PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
# Two test processes (pytest-xdist): the suite takes half the time on a 2-core machine.
PYTEST_ARGS ?= -n 2

.PHONY: demo serve test lint format lock bench bench-deps linkage clean

$(VENV)/.installed: requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "syncfirm needs Python 3.12 or newer; set PYTHON=/path/to/python3.12")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	@mkdir -p var staticfiles
	@touch $@

# The customer matcher's hot modules compiled by mypyc, and its native core in C
# (sync/linkage/_native.c; decision 0028), rebuilt when one of them changes (~20 s). The
# package uses the build only while its stamp is the sources' fingerprint; without a C
# compiler the matcher runs as plain Python, with the same decisions
# (tests/test_linkage_compiled.py fails in CI when the build is missing).
LINKAGE_STAMP := build/linkage/STAMP
linkage: $(LINKAGE_STAMP)
$(LINKAGE_STAMP): $(VENV)/.installed $(wildcard sync/linkage/*.py) sync/linkage/_native.c \
    scripts/build_linkage.py
	-$(PY) scripts/build_linkage.py

demo: $(VENV)/.installed $(LINKAGE_STAMP)
	@mkdir -p var
	DJANGO_SETTINGS_MODULE=syncfirm.settings.development $(PY) manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=syncfirm.settings.development $(PY) manage.py migrate --noinput --database sandbox
	DJANGO_SETTINGS_MODULE=syncfirm.settings.development $(PY) manage.py seed_demo
	DJANGO_SETTINGS_MODULE=syncfirm.settings.development $(PY) manage.py serve_demo --port $(PORT)

test: $(VENV)/.installed $(LINKAGE_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@DATABASE_URL="$$($(PY) scripts/test_database_url.py)" && export DATABASE_URL && \
	  DJANGO_SETTINGS_MODULE=syncfirm.settings.test $(PY) manage.py check && \
	  DJANGO_SETTINGS_MODULE=syncfirm.settings.test $(PY) manage.py makemigrations --check --dry-run && \
	  $(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The production stack on this machine (README, "Running in production").
serve: $(VENV)/.installed $(LINKAGE_STAMP)
	PY=$(PY) scripts/serve_production.sh

# Re-resolve the newest versions allowed by pyproject.toml and pin them.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip
	.venv-lock/bin/python -c "import tomllib; print('\\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > .venv-lock/requirements.in
	.venv-lock/bin/pip install --quiet -r .venv-lock/requirements.in --group dev
	.venv-lock/bin/pip freeze --exclude syncfirm > requirements.lock
	rm -rf .venv-lock

# The benchmark peers (splink, recordlinkage) in their own venv beside the product's locked
# one: bench/linkage.py runs there, `make test` never needs them.
BENCH_VENV := .bench-venv
bench-deps: $(BENCH_VENV)/.installed
$(BENCH_VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -r requirements.lock --group bench
	@touch $@

clean:
	rm -rf $(VENV) var/*.sqlite3 staticfiles build
