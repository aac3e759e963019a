# Deployment and offline infrastructure checks, included from the top-level Makefile.
# The including Makefile defines VENV := .venv and PY := $(VENV)/bin/python.
TOOLS_VENV   ?= .venv-tools
TOOLS_PYTHON ?= python3
TOOLS_STAMP  := $(TOOLS_VENV)/.installed
SAM          := $(TOOLS_VENV)/bin/sam
CFN_LINT     := $(TOOLS_VENV)/bin/cfn-lint

.PHONY: tools
# aws-sam-cli pins its own boto3/botocore, so it lives in its own venv, never in $(VENV).
tools: $(TOOLS_STAMP)
$(TOOLS_STAMP): infrastructure/tools-requirements.txt
	$(TOOLS_PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS_VENV)/bin/python -m pip install --quiet -r infrastructure/tools-requirements.txt
	touch $@
