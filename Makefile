# The one interface: the README, CI and people call these targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CDK_CLI := aws-cdk@2.1148.1
export PYTHONPATH := functions:layers/kidstory/python:.
# Local synthesis (run, test, synth, bench) works on Node.js 20; jsii's end-of-life banner for it
# is kept for `make deploy` only, where the README asks for Node.js 22 or 24.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20

.PHONY: setup run demo test test-clock-ahead test-unit test-infra test-e2e lint key synth deploy diagram lock-layers bench browser book-tools reader-screenshot clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.txt requirements-dev.txt layers/deps/constraints.txt $(wildcard layers/deps/*/requirements.txt) package.json package-lock.json
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

run: setup ## the whole product on http://127.0.0.1:8000 (offline providers, emulated AWS)
	$(BIN)/python -m infra.local.run

demo: setup ## one story through the running local API (start `make run` first)
	$(BIN)/python -m infra.local.demo

test: setup browser book-tools ## every test: unit, infra (CDK template), end-to-end (HTTP API on emulated AWS)
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory test-clock-ahead

test-clock-ahead: setup ## the unit tier again with the wall clock a year ahead: no test may depend on today's date
	$(BIN)/python -m pytest tests/unit -q --clock-ahead-days 365

test-unit: setup book-tools
	$(BIN)/python -m pytest tests/unit

test-infra: setup
	$(BIN)/python -m pytest tests/infra

test-e2e: setup browser book-tools
	$(BIN)/python -m pytest tests/e2e

lint: setup
	$(BIN)/ruff check infra functions layers tests app.py
	$(BIN)/ruff format --check infra functions layers tests app.py
	$(BIN)/mypy infra functions/*/ layers/kidstory/python/kidstory app.py
	$(BIN)/lint-imports  # .importlinter: configuration is a leaf, no import cycles, the product never imports infra
	$(BIN)/python -m infra.deploy_checks  # cfn-lint and asl-validator on every stage's synthesized template

key: setup ## issue a client key on the local stack: make key NAME="Reading app"
	$(BIN)/python -m kidstory.clients.key_admin --local create --name "$(NAME)"

synth: setup ## synthesize the dev stage offline into cdk.out/ (cdk-nag checks run)
	$(BIN)/python -m infra.local.synth $(or $(STAGE),dev)

deploy: setup ## deploy a stage to the AWS account of your shell (STAGE=dev or prod; CI adds CDK_DEPLOY_ARGS)
	env -u JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION PATH="$(CURDIR)/$(BIN):$$PATH" npx --yes $(CDK_CLI) deploy -c stage=$(or $(STAGE),dev) $(CDK_DEPLOY_ARGS)

diagram: setup ## regenerate the state machine diagram (docs/state-machine.md) from the synthesized definition
	$(BIN)/python -m infra.diagram

lock-layers: setup ## re-resolve layers/deps/constraints.txt after changing a layer's requirements
	$(BIN)/python -m infra.bundling

bench: setup ## print performance figures
	$(BIN)/python -m tests.bench.run

SUDO = $(if $(filter 0,$(shell id -u)),,sudo)
# The package, not the file: /usr/bin/chromium can be another build (GitHub's Ubuntu runners link
# it to a downloaded one), which the browser test must not run on.
browser: ## Debian's chromium package for the web reader's browser test (apt-get, only when missing)
	@test "$$(dpkg-query -W -f='$${Status}' chromium 2>/dev/null)" = "install ok installed" || \
		{ $(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

# The W3C's EPUBCheck (run as `java -jar /usr/share/java/epubcheck.jar`) and poppler's pdfinfo,
# pdffonts and pdfimages: the books' tests check every EPUB and PDF with them.
book-tools: ## Debian's epubcheck and poppler-utils for the books' tests (apt-get, only when missing)
	@test "$$(dpkg-query -W -f='$${Status}' epubcheck 2>/dev/null)" = "install ok installed" && \
		test "$$(dpkg-query -W -f='$${Status}' poppler-utils 2>/dev/null)" = "install ok installed" || \
		{ $(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends epubcheck poppler-utils; }

reader-screenshot: setup browser ## refresh docs/reader.png (the README's picture of the web reader)
	READER_SCREENSHOT=docs/reader.png $(BIN)/python -m pytest tests/e2e/test_reader.py -q -k written

clean:
	rm -rf .local cdk.out .pytest_cache .mypy_cache .ruff_cache node_modules
