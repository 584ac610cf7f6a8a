# Reach — self-hosted remote support. `make help` lists the targets.
GO       ?= go
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/reachdesk/reach/internal/buildinfo.Version=$(VERSION)
BIN      := bin
RUNDIR   ?= .run

.DEFAULT_GOAL := help
.PHONY: help setup build run test test-go lint bench fuzz clean package cross

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## install every Debian/npm package the build and tests need (idempotent, root)
	@bash scripts/setup.sh

build: setup ## build reach-relay, reach-console (static, no cgo), reach-agent and reach-loadgen into bin/
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./relay/cmd/reach-relay ./console/cmd/reach-console ./relay/cmd/reach-loadgen
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./agent/cmd/reach-agent

run: build ## run Reach on embedded defaults and print where to go
	@bash scripts/run.sh

test: setup lint test-go cross ## run every test (unit, fuzz seeds, integration, browser) and the cross-build check

test-go: ## go tests with the race detector
	$(GO) test -race -count=1 -timeout 20m ./...

lint: ## go vet and gofmt
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench: build ## run every benchmark in docs/benchmarks.md (BENCH=relay|turn|... for one group)
	@bash scripts/bench.sh $(BENCH)

fuzz: ## fuzz every decoder for FUZZTIME each (default 20s)
	@bash scripts/fuzz.sh $(or $(FUZZTIME),20s)

package: build ## build .deb and .rpm packages of agent, relay and console into bin/packages/ (nfpm)
	@bash scripts/package.sh

cross: ## check that the cgo-free parts build for Windows and macOS (see docs/install.md)
	@bash scripts/cross.sh

clean: ## remove build output and run state
	rm -rf $(BIN) $(RUNDIR)
