# KARL: the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
GO ?= go
KARLGEN := $(GO) run ./gen/cmd/karlgen
GEN_FLAGS := --schema schema/karl.yaml --go-out app/events --go-package events --ts-out tsclient/src/generated
TESTAPI_FLAGS := --schema runtime/internal/testapi/schema.yaml --go-out runtime/internal/testapi --go-package testapi
ECHOAPI_FLAGS := --schema bench/internal/echoapi/schema.yaml --go-out bench/internal/echoapi --go-package echoapi
LOBBY_FLAGS := --schema examples/lobby/schema.yaml --go-out examples/lobby/events --go-package events --ts-out examples/lobby/client/generated

.PHONY: test-gen-long run build generate check-generated lint-schema diff-schema unit test test-go test-examples test-interop test-ts test-rn test-e2e test-docs test-schema-json deps deps-browser deps-db deps-prometheus bench bench-quick clean

## run: build the demo page and the server, serve both on :3000 with ./karl.db
run: build
	./bin/karl-server --addr :3000 --db karl.db --static tsclient/demo/dist

build: tsclient/demo/dist/index.html
	$(GO) build -o bin/karl-server ./app/cmd/karl-server

tsclient/node_modules/.package-lock.json: tsclient/package-lock.json
	cd tsclient && npm ci --no-audit --no-fund

tsclient/demo/dist/index.html: tsclient/node_modules/.package-lock.json $(shell find tsclient/src tsclient/demo -type f -not -path '*/dist/*' 2>/dev/null)
	cd tsclient && npm run build:demo

## generate: regenerate the Go and TypeScript code and the docs from the schemas
generate:
	$(KARLGEN) generate $(GEN_FLAGS)
	$(KARLGEN) generate $(TESTAPI_FLAGS)
	$(KARLGEN) generate $(ECHOAPI_FLAGS)
	$(KARLGEN) generate $(LOBBY_FLAGS)
	$(KARLGEN) docs --schema schema/karl.yaml --out docs
	$(GO) test -count=1 -run TestJSONSchemaFresh ./schema -update  # schema/karl-schema.json, the editors' JSON Schema

## check-generated: fail with a diff when a generated file is stale
check-generated:
	$(KARLGEN) check $(GEN_FLAGS)
	$(KARLGEN) check $(TESTAPI_FLAGS)
	$(KARLGEN) check $(ECHOAPI_FLAGS)
	$(KARLGEN) check $(LOBBY_FLAGS)
	$(KARLGEN) docs --schema schema/karl.yaml --out docs --check

## lint-schema: the schema's conventions, positioned like loader errors
lint-schema:
	$(KARLGEN) lint --schema schema/karl.yaml
	$(KARLGEN) lint --schema examples/lobby/schema.yaml

## diff-schema: what this branch's schema change does to deployed clients and servers (BASE=origin/main)
diff-schema:
	$(KARLGEN) diff --against $(or $(BASE),origin/main) schema/karl.yaml

## test-gen-long: the generative test of the generator with 1,000 random schemas (make test runs 100)
test-gen-long: tsclient/node_modules/.package-lock.json
	KARL_GEN_SCHEMAS=1000 $(GO) test -count=1 -run TestGenerativeSchemas -v ./gen | grep -v '^=== RUN'

## unit: the inner loop: Go tests without -race, the slow suites skipped (-short)
unit:
	$(GO) test -short ./...

## test: every test: generated files fresh, Go with -race, Node interop, TypeScript, React Native, browser, the example app, databases
test: check-generated lint-schema test-interop test-ts test-rn test-e2e test-docs test-schema-json test-examples test-go

test-go: deps-db
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

## test-examples: examples/lobby, its own module: Go vet and tests with -race, strict tsc, the npm socket.io-client scenario
test-examples: bin/lobby-server-test
	cd examples/lobby && $(GO) vet ./... && $(GO) test -race -count=1 ./...
	cd examples/lobby/client && npm ci --no-audit --no-fund && npm run typecheck && LOBBY_SERVER_BIN=$(CURDIR)/bin/lobby-server-test npm test

bin/lobby-server-test: FORCE
	cd examples/lobby && $(GO) build -o $(CURDIR)/bin/lobby-server-test ./cmd/lobby-server

test-interop: deps-db deps-prometheus bin/karl-server-test bin/karl-testdb
	cd app/interop && npm ci --no-audit --no-fund && KARL_SERVER_BIN=$(CURDIR)/bin/karl-server-test KARL_TESTDB_BIN=$(CURDIR)/bin/karl-testdb npm test
	# and again on the library's WebSocket transport (--transport library, the fallback), so that it stays usable
	cd app/interop && KARL_TRANSPORT=library KARL_SERVER_BIN=$(CURDIR)/bin/karl-server-test KARL_TESTDB_BIN=$(CURDIR)/bin/karl-testdb npm test

bin/karl-testdb: FORCE
	$(GO) build -o bin/karl-testdb ./internal/testdb/cmd/karl-testdb

bin/karl-server-test: FORCE
	$(GO) build -o bin/karl-server-test ./app/cmd/karl-server

test-ts: tsclient/node_modules/.package-lock.json
	cd tsclient && npm test

tsclient/consumers/node_modules/.package-lock.json: tsclient/consumers/package-lock.json
	cd tsclient/consumers && npm ci --no-audit --no-fund

## test-rn: Metro with React Native's preset over the source (and the old .js imports refused), then
## the packed tarball installed in a fresh project and imported from Node ESM, tsc nodenext, Metro and Vite
test-rn: tsclient/node_modules/.package-lock.json tsclient/consumers/node_modules/.package-lock.json
	cd tsclient && npm run test:consumers

test-e2e: deps-browser tsclient/demo/dist/index.html
	cd tsclient && npm run test:e2e

test-docs:
	cd tools/asyncapi-validate && npm ci --no-audit --no-fund && npm run validate

## test-schema-json: schema files validate against schema/karl-schema.json (Ajv), typos such as "optinal" are flagged
test-schema-json:
	$(GO) test -count=1 -run TestJSONSchemaFresh ./schema
	cd tools/schema-validate && npm ci --no-audit --no-fund && npm run validate

## deps: the Debian packages the tests need (installed when missing; needs root)
deps: deps-browser deps-db deps-prometheus

deps-browser:
	@command -v chromium >/dev/null || scripts/apt-install.sh chromium

## deps-prometheus: the Prometheus server app/interop/test/metrics.test.mjs starts to scrape karl-server
deps-prometheus:
	@command -v prometheus >/dev/null || scripts/apt-install.sh prometheus

deps-db:
	@command -v redis-server >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || scripts/apt-install.sh postgresql redis-server

## bench: the benchmarks of docs/BENCHMARKS.md, about 15 minutes (see bench/README.md)
bench:
	bench/run.sh

## bench-quick: a smaller run for development, under a minute; writes bench/out/ only
bench-quick:
	bench/run.sh --quick

clean:
	rm -rf bin tsclient/dist tsclient/demo/dist tsclient/LICENSE

FORCE:
