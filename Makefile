# Two commands matter: `make run` (talk to the skill) and `make test` (the whole suite).
VENV   := .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3
# Two stamps: `make run` needs the runtime only; test, lint and bench add the dev extras.
STAMP  := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# The venv's own pip is new enough (PEP 660 editable installs); upgrading it only adds noise.
PIP    := $(PY) -m pip --quiet --disable-pip-version-check
DYNALITE := tests/dynalite/node_modules/dynalite/cli.js
VIRTUAL_ALEXA := tests/virtual_alexa/node_modules/virtual-alexa/package.json

.PHONY: run test lint serve chat-script voice bench content clean
.DEFAULT_GOAL := run

$(STAMP): pyproject.toml
	@echo "installing the skill's runtime into $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install -e .
	@touch $@

$(DEV_STAMP): $(STAMP)
	@echo "adding the test and lint tools to $(VENV)"
	@$(PIP) install -e '.[dev]'
	@touch $@

$(DYNALITE): tests/dynalite/package.json tests/dynalite/package-lock.json
	npm ci --prefix tests/dynalite --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(VIRTUAL_ALEXA): tests/virtual_alexa/package.json tests/virtual_alexa/package-lock.json
	npm ci --prefix tests/virtual_alexa --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

## run: .venv with the runtime only (no test tools), then the console on the embedded (SQLite) store
run: $(STAMP)
	@$(VENV)/bin/foot-routine chat

## chat-script: the console on a file of utterances (SCRIPT=examples/full-routine.txt)
SCRIPT ?= examples/full-routine.txt
chat-script: $(STAMP)
	$(VENV)/bin/foot-routine chat --script $(SCRIPT)

## voice: install espeak-ng (apt) if needed, then the console playing every reply (words, ticks, chimes)
voice: $(STAMP)
	@command -v espeak-ng >/dev/null || { command -v apt-get >/dev/null && \
		$$( [ "$$(id -u)" -eq 0 ] || echo sudo ) apt-get install -y espeak-ng; } || \
		echo "install espeak-ng with your package manager (macOS: brew install espeak-ng)"
	$(VENV)/bin/foot-routine chat --voice

## serve: the self-hosted HTTPS endpoint on 127.0.0.1:5000, embedded store
serve: $(STAMP)
	$(VENV)/bin/foot-routine serve

## content: after editing content YAML: compiled.json, and every voice model's slot values
content: $(STAMP)
	$(PY) -m skill.content.yamlfile
	$(PY) infrastructure/locales.py

## lint: ruff, as CI runs it
lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .

## test: install everything the suite needs, then run it (lint included)
test: $(DEV_STAMP) $(DYNALITE) $(VIRTUAL_ALEXA) tools
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

## bench: measure against same-run baselines; prints the table, writes bench/results.json
bench: $(DEV_STAMP) $(DYNALITE)
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) .venv-tools tests/dynalite/node_modules tests/virtual_alexa/node_modules .foot-routine .aws-sam

include infrastructure/deploy.mk
