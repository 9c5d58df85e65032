# Developer commands. Each target installs what it needs first (scripts/setup.sh), project-locally.
# Run `make help` for the list.

SHELL := /usr/bin/env bash
export PATH := $(CURDIR)/.venv/bin:$(PATH)

PORT ?= 4000
DYNAMODB_PORT ?= 8000
DYNAMODB_DATA ?= .local/dynamodb
INVOKE_PORT ?= 9000
# The local Cognito (moto) of `make dev`, and the file where it writes the pool's ids.
COGNITO_PORT ?= 9229
COGNITO_ENV ?= .local/cognito.env
# Where `make dev` keeps the local pool's users (passwords, subs, groups) across restarts.
COGNITO_USERS ?= .local/cognito/users.json
# The local Polly of `make dev` (espeak-ng + lame behind Polly's SynthesizeSpeech API).
POLLY_PORT ?= 9230
# The web client of `make dev`: its port (its own origin, one of the default allowed origins) and
# where `make dev` writes the page's local configuration (served as /config.js).
WEB_PORT ?= 8080
DEV_WEB_CONFIG ?= .local/web/config.js
# Where `make web-config` writes a deployed stack's configuration for the page (web/config.js,
# not tracked), which `make web-dist` ships.
WEB_CONFIG ?= web/config.js
# `make web-config`: the deployed stack whose outputs configure the page (samconfig.toml's name).
STACK ?= serverless-notes-rust
# `make deploy`: the samconfig.toml environment to deploy (default, dev or prod).
CONFIG_ENV ?= default
# `make web-dist`: where the files to upload to a static host are gathered.
WEB_DIST ?= target/web-dist
# The front door `make dev` serves: rest (the REST API, TOKEN authorizer) or http (the HTTP API,
# API Gateway's JWT authorizer, payload format 2.0).
API ?= rest
FN ?= list
EVENT ?= events/list-notes.json

# Where `make dev` writes its functions' environment (its DynamoDB Local, moto's Cognito pool and
# S3, the local Polly): `make watch` runs the functions with exactly that environment.
FUNCTIONS_ENV ?= .local/functions.env

# Every binary the dev commands run (notes-dev and the functions) comes from one cargo command,
# the same the tests build with (crates/local-lambda/src/binaries.rs, DEV_BUILD_ARGS): one set of
# features, so nothing is compiled twice. make runs it only when a source is newer than the last
# build (then with cargo's progress in the terminal); otherwise `make token` starts at once.
DEV_BUILD = cargo build --workspace --exclude notes-bench --bins --all-features
DEV_BIN_DIR := $(or $(CARGO_TARGET_DIR),target)/debug
NOTES_DEV := $(DEV_BIN_DIR)/notes-dev
DEV_STAMP := $(DEV_BIN_DIR)/.dev-binaries
DEV_SOURCES := Cargo.toml Cargo.lock $(shell find crates -name '*.rs' -o -name Cargo.toml -o -name build.rs 2>/dev/null)

.PHONY: help dev dev-binaries setup test dynamodb watch invoke build deploy token fuzz authorize drills bench \
	web-config web-dist publish-web screenshots \
	build-AuthorizerFunction build-ListFunction build-CreateUpdateFunction build-DeleteFunction build-PostFunction \
	build-DictateFunction build-AccountFunction build-PurgeFunction

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

dev: setup $(DEV_STAMP) ## Run the web client on 127.0.0.1:WEB_PORT and the whole backend locally on 127.0.0.1:PORT, Cognito and S3 (moto) on COGNITO_PORT, Polly on POLLY_PORT (API=http, IN_MEMORY=1, API_KEY=..., CACHE_TTL=..., RATE_LIMIT=..., ORIGINS=...)
	@exec $(NOTES_DEV) dev --port $(PORT) --dynamodb-port $(DYNAMODB_PORT) \
		--cognito-port $(COGNITO_PORT) --polly-port $(POLLY_PORT) --cognito-env '$(COGNITO_ENV)' \
		--web-port $(WEB_PORT) --web-config '$(DEV_WEB_CONFIG)' \
		--functions-env '$(FUNCTIONS_ENV)' --api $(API) \
		$(if $(IN_MEMORY),--in-memory,--data-dir '$(DYNAMODB_DATA)' --users-file '$(COGNITO_USERS)') $(if $(API_KEY),--api-key $(API_KEY)) $(if $(CACHE_TTL),--cache-ttl $(CACHE_TTL)) $(if $(RATE_LIMIT),--rate-limit $(RATE_LIMIT)) $(if $(ORIGINS),--allowed-origins '$(ORIGINS)')

dev-binaries: $(DEV_STAMP) ## Build what the dev commands run (notes-dev and the functions), if a source changed
	@:

$(DEV_STAMP): $(DEV_SOURCES)
	@echo "==> building the dev binaries (notes-dev and the functions): $(DEV_BUILD)" >&2
	@$(DEV_BUILD)
	@touch '$@'

setup: ## Install the development tools (.venv, node_modules, rustup components)
	@scripts/setup.sh

test: ## Run every check and test (what CI runs)
	@scripts/test.sh

dynamodb: setup $(DEV_STAMP) ## Start DynamoDB Local on DYNAMODB_PORT with the template's tables (data in DYNAMODB_DATA)
	@exec $(NOTES_DEV) dynamodb --port $(DYNAMODB_PORT) --data-dir '$(DYNAMODB_DATA)' 

watch: setup ## Serve the functions on the Lambda Runtime API (cargo lambda watch, port INVOKE_PORT) with make dev's services
	@test -s '$(FUNCTIONS_ENV)' || { echo "make watch runs the functions against make dev's services: start make dev first (it writes $(FUNCTIONS_ENV))" >&2; exit 1; }
	@cargo lambda watch --invoke-port $(INVOKE_PORT) --env-file '$(FUNCTIONS_ENV)'

invoke: ## Invoke function FN with the fixture EVENT through `make watch` (e.g. FN=createUpdate EVENT=events/create-note.json)
	@scripts/invoke.sh '$(FN)' $(INVOKE_PORT) --data-file '$(EVENT)'

.PHONY: setup-deploy

setup-deploy: ## Install only what deploying needs (Rust target, cargo-lambda, zig, SAM CLI, AWS CLI): no Java, browser or test tools
	@scripts/setup.sh deploy

build: setup-deploy ## cargo lambda build --release for the stack's architecture (template.yaml), every bootstrap's ELF header checked
	@$(LAMBDA_BUILD)

deploy: build ## Build, check, set the account's API Gateway logging role if missing, sam deploy (CONFIG_ENV=dev|prod for a stage)
	@scripts/deploy.sh $(if $(filter-out default,$(CONFIG_ENV)),--config-env $(CONFIG_ENV))

# `sam build` and `sam sync` (template.yaml: BuildMethod makefile, run in this directory) call
# build-<LogicalId> with ARTIFACTS_DIR set. Each target runs the same `cargo lambda build` as the
# deploy flow (after the first, a no-op), checks that function's bootstrap is built for the
# template's architecture, and only then copies it, so every path deploys the very same checked
# binaries. The architecture is template.yaml's alone: CargoLambda.toml must agree
# (scripts/check-bootstraps.sh config), and no variable or parameter overrides it.
LAMBDA_BUILD = scripts/check-bootstraps.sh config && cargo lambda build --release && scripts/check-bootstraps.sh
sam_artifact = $(LAMBDA_BUILD) target/lambda/$(1)/bootstrap && cp target/lambda/$(1)/bootstrap "$(ARTIFACTS_DIR)/bootstrap"

build-AuthorizerFunction: ; $(call sam_artifact,authorizer)
build-ListFunction: ; $(call sam_artifact,list)
build-CreateUpdateFunction: ; $(call sam_artifact,createUpdate)
build-DeleteFunction: ; $(call sam_artifact,delete)
build-PostFunction: ; $(call sam_artifact,post)
build-DictateFunction: ; $(call sam_artifact,dictate)
build-AccountFunction: ; $(call sam_artifact,account)
build-PurgeFunction: ; $(call sam_artifact,purge)

token: $(DEV_STAMP) ## Print an ID token of make dev's user pool (user created if new): make token USER=alice [GROUPS=a,b] [ACCESS=1]
	@$(NOTES_DEV) token --pool '$(COGNITO_ENV)' --user "$(USER)" $(if $(GROUPS),--groups $(GROUPS)) $(if $(ACCESS),--access)

web-config: setup-deploy ## Write web/config.js for a deployed stack from its outputs: make web-config [STACK=name] [API=http] [API_KEY=...] [OUTPUTS=saved-describe-stacks.json]
	@cargo run --quiet -p notes-dev --bin notes-dev -- web-config \
		$(if $(OUTPUTS),--outputs '$(OUTPUTS)',--stack '$(STACK)') --api $(API) --out '$(WEB_CONFIG)' \
		$(if $(API_KEY),--api-key '$(API_KEY)')

publish-web: setup-deploy ## Upload web/ with the stack's config.js to the stack's own hosting (HostWebClient) and invalidate CloudFront: make publish-web [STACK=name] [API=http] [API_KEY=...]
	@python scripts/publish-web.py --stack '$(STACK)' --api $(API) $(if $(API_KEY),--api-key '$(API_KEY)')

web-dist: ## Gather the web client for another static host into WEB_DIST (web/, its config.js, the Cognito library)
	@test -s '$(WEB_CONFIG)' || { echo "no $(WEB_CONFIG): run make web-config (a deployed stack) first" >&2; exit 1; }
	@grep -q '"cognitoEndpoint": null' '$(WEB_CONFIG)' || { echo "$(WEB_CONFIG) points at a local Cognito: run make web-config for the deployed stack" >&2; exit 1; }
	@! grep -nE 'localhost|127\.0\.0\.1' web/index.html '$(WEB_CONFIG)' || { echo "the page above names a loopback address: it must not ship" >&2; exit 1; }
	@# Only the page's Cognito library (package-lock.json): npm, no Java or browser (scripts/setup.sh's test tools).
	@test -s node_modules/amazon-cognito-identity-js/dist/amazon-cognito-identity.min.js || npm ci --no-audit --no-fund --loglevel=error
	@rm -rf '$(WEB_DIST)' && mkdir -p '$(WEB_DIST)/vendor'
	@cp -R web/. '$(WEB_DIST)/' && cp '$(WEB_CONFIG)' '$(WEB_DIST)/config.js'
	@cp node_modules/amazon-cognito-identity-js/dist/amazon-cognito-identity.min.js '$(WEB_DIST)/vendor/'
	@echo "$(WEB_DIST): upload it to any static host, e.g. aws s3 sync $(WEB_DIST) s3://YOUR-BUCKET/ --delete"
	@echo "and have the host send the page's Content-Security-Policy header (docs/web-client.md): the page carries none"

screenshots: setup ## Regenerate the README's screenshots of the web client (docs/screenshots/), from the browser tests
	@scripts/screenshots.sh

bench: ## Benchmark the release functions against Python and Node baselines (bench/results, README)
	@scripts/bench.sh

drills: ## Run the reliability drills and write their figures to docs/reliability.md
	@scripts/drills-report.sh

fuzz: ## Fuzz every cargo-fuzz target for FUZZ_SECONDS (default 60) each
	@scripts/fuzz.sh

METHOD_ARN := arn:aws:execute-api:us-east-1:123456789012:abcdef123/Prod/GET/notes

authorize: $(DEV_STAMP) ## Invoke the authorizer (through make watch) with a fresh token of make dev's pool for USER
	@token=$$($(NOTES_DEV) token --pool '$(COGNITO_ENV)' --user '$(USER)') && \
		scripts/invoke.sh authorizer $(INVOKE_PORT) --data-ascii "{\"type\":\"TOKEN\",\"authorizationToken\":\"Bearer $$token\",\"methodArn\":\"$(METHOD_ARN)\"}"
