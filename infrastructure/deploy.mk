# Deployment and offline infrastructure checks, included from the top-level Makefile, which
# defines VENV := .venv and PY := $(VENV)/bin/python.
#
#   make tools          .venv-tools/ with aws-sam-cli and cfn-lint (kept apart: SAM pins boto3)
#   make skill-package  infrastructure/skill-package/ from interaction_model/ + infrastructure/skill.json
#                       (HTTPS_ENDPOINT=https://... [SSL_CERTIFICATE_TYPE=Trusted|Wildcard|SelfSigned]
#                       for the self-hosted Flask endpoint; NO_ENDPOINT=1 to create the skill)
#   make lint-template  cfn-lint + sam validate --lint, offline
#   make sam-build      sam build, offline (no Docker)
#   make deploy         AWS: sam build + sam deploy (guided the first time), fills the function ARN
#                       into the skill package and prints the ask-cli next step.
#                       STAGE=dev|prod, SKILL_ID=..., LOG_LEVEL=..., GUIDED=auto|yes|no
#
# Only `deploy` talks to AWS. The offline targets run SAM without credentials and with the EC2
# metadata lookup disabled, so nothing can reach AWS even by accident.

TOOLS_VENV   ?= .venv-tools
TOOLS_PYTHON ?= python3
TOOLS_STAMP  := $(TOOLS_VENV)/.installed
SAM          := $(TOOLS_VENV)/bin/sam
CFN_LINT     := $(TOOLS_VENV)/bin/cfn-lint

STAGE     ?= dev
SKILL_ID  ?=
LOG_LEVEL ?=
GUIDED    ?= auto
HTTPS_ENDPOINT       ?=
SSL_CERTIFICATE_TYPE ?=
NO_ENDPOINT          ?=

OFFLINE_AWS_ENV := env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
	-u AWS_PROFILE AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0

.PHONY: tools skill-package lint-template sam-build deploy

tools: $(TOOLS_STAMP)
$(TOOLS_STAMP): infrastructure/tools-requirements.txt
	$(TOOLS_PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-r infrastructure/tools-requirements.txt
	touch $@

skill-package:
	$(PY) infrastructure/skill_package.py \
		$(if $(HTTPS_ENDPOINT),--https-url "$(HTTPS_ENDPOINT)") \
		$(if $(SSL_CERTIFICATE_TYPE),--ssl-certificate-type $(SSL_CERTIFICATE_TYPE)) \
		$(if $(NO_ENDPOINT),--no-endpoint)

lint-template: $(TOOLS_STAMP)
	$(OFFLINE_AWS_ENV) $(CFN_LINT) template.yaml
	$(OFFLINE_AWS_ENV) $(SAM) validate --lint --template-file template.yaml

sam-build: $(TOOLS_STAMP)
	$(OFFLINE_AWS_ENV) $(SAM) build --template-file template.yaml

deploy: $(TOOLS_STAMP)
	$(PY) infrastructure/deploy.py --sam $(SAM) --stage $(STAGE) --guided $(GUIDED) \
		$(if $(SKILL_ID),--skill-id $(SKILL_ID)) \
		$(if $(LOG_LEVEL),--log-level $(LOG_LEVEL))
