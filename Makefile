# Joule — two commands matter: `make demo` (run it) and `make test` (check it).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test check fmt lint types contracts pytest clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Joule needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

## Run Joule on the embedded default (SQLite, in-process bus) with a demo fleet.
demo: $(STAMP)
	JOULE_ADMIN_EMAIL=$${JOULE_ADMIN_EMAIL:-admin@joule.local} \
	JOULE_ADMIN_PASSWORD=$${JOULE_ADMIN_PASSWORD:-joule-demo-admin} \
	$(BIN)/joule serve --demo 25

## The one check command: format, lint, types, import contracts, tests (SQLite and PostgreSQL at once).
test check: $(STAMP)
	$(BIN)/python scripts/check.py

fmt: $(STAMP)
	$(BIN)/ruff format src tests scripts
	$(BIN)/ruff check --fix src tests scripts

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
