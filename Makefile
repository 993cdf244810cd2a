# scalable-app-operator: every target installs what it needs (hack/deps.sh) so a fresh clone just works.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:/usr/local/go/bin:$(PATH)

.PHONY: help deps build typecheck lint format crds crds-check test test-unit test-integration \
        binaries cluster-up cluster-down cluster-env cluster-status demo demo-load demo-stop bench bench-reconcile render plugin clean helm-lint chart-test node-up node-down node-status e2e e2e-kind

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

deps: ## Install Debian and npm packages (Node 24 comes from npm)
	@bash hack/deps.sh

build: deps ## Compile TypeScript to dist/ (and copy the builders' script assets)
	npm run build

typecheck: deps ## tsc --noEmit
	tsc --noEmit -p tsconfig.json

lint: deps ## eslint + prettier --check
	eslint .
	prettier --check .

format: deps ## prettier --write
	prettier --write .

crds: deps ## Generate crds/ and the chart's CRD from the zod schema
	tsx scripts/gen-crd.ts

crds-check: deps ## Fail when the committed CRD is stale
	tsx scripts/gen-crd.ts --check

test: ## The test command: unit + integration on a real local cluster; ends with "N passed, N failed"
	@bash hack/test.sh

test-unit: ## Unit tests only (no cluster)
	@SAPP_SKIP_INTEGRATION=1 bash hack/test.sh

test-integration: deps binaries ## Integration tests only
	node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects integration --runInBand

helm-lint: deps ## helm lint --strict the chart (defaults + every ci/ scenario) and its unit tests
	@bash hack/chart-test.sh lint

chart-test: deps binaries ## The chart on the local cluster: dry runs, RBAC, install/upgrade/uninstall, operator as its ServiceAccount
	@bash hack/chart-test.sh

binaries: ## Build (or reuse) etcd, kube-apiserver, ... kwok from the Go module proxy
	@bash hack/build-binaries.sh

cluster-up: deps ## Start the local cluster (kwok nodes); NODE=real starts the real node and its own control plane
	@bash hack/$(if $(filter real,$(NODE)),node,cluster).sh up

cluster-down: ## Stop the local cluster and everything it started
	@bash hack/cluster.sh down

cluster-env: ## Print the environment for kubectl: eval "$$(make -s cluster-env)"
	@bash hack/cluster.sh env

cluster-status: ## Health of the local cluster
	@bash hack/cluster.sh status

render: deps ## Print every object the operator would create for FILE (default examples/shop.yaml)
	tsx src/cli.ts render -f $(or $(FILE),examples/shop.yaml)

plugin: build ## Install the kubectl plugin (kubectl sapp ...) as BINDIR/kubectl-sapp (default ~/.local/bin, or PREFIX/bin)
	@bindir="$(or $(BINDIR),$(or $(PREFIX),$(HOME)/.local)/bin)"; mkdir -p "$$bindir" && \
	  printf '#!/bin/sh\n# kubectl-sapp, installed by make plugin from %s\nexec "%s" "%s" "$$@"\n' \
	    "$(CURDIR)" "$$(command -v node)" "$(CURDIR)/dist/src/plugin/main.js" > "$$bindir/kubectl-sapp" && \
	  chmod 755 "$$bindir/kubectl-sapp" && echo "installed $$bindir/kubectl-sapp (Node $$(node --version))" && \
	  case ":$$PATH:" in *":$$bindir:"*) ;; *) echo "$$bindir is not on your PATH: add it, then run kubectl sapp help";; esac

demo: ## The main job: the shop on real pods (kind, else the local real node, else kwok) and its URL
	@bash hack/demo.sh

demo-load: deps ## A bounded load on the demo's shop (3 min): watch the HPA scale out and back in
	@if [[ "$$(cat .local/demo/target 2>/dev/null)" == node ]]; then eval "$$(bash hack/node.sh env)"; fi; tsx scripts/demo-load.ts

bench: deps binaries build ## Scale benchmark: the built operator vs plain server-side apply, APPS minimal apps (default 200) and SHOP_APPS shop apps (default 0) → .local/bench/scale.json
	@apps=$(or $(APPS),200); shops=$(or $(SHOP_APPS),0); SAPP_KWOK_NODES=$$((apps / 25 + shops / 8 + 4)) bash hack/cluster.sh up >/dev/null && eval "$$(bash hack/cluster.sh env)" && tsx bench/scale.ts $$apps $$shops

bench-reconcile: deps binaries ## Reconcile latency benchmark, in-process, on the local cluster (APPS=20)
	@bash hack/cluster.sh up >/dev/null && eval "$$(bash hack/cluster.sh env)" && tsx bench/reconcile.ts $(or $(APPS),20)

node-up: deps ## Start the local real node (containerd, kubelet, kube-proxy) and its own control plane (root)
	@bash hack/node.sh up

node-down: ## Stop the local real node; leaves no process, mount, netns, iptables chain or sysctl change
	@bash hack/node.sh down

node-status: ## Health of the local real node
	@bash hack/node.sh status

e2e: ## End-to-end suite: on kind where Docker and kind work, else on the local real node (~5 min); not in make test
	@bash hack/e2e.sh

e2e-kind: ## End-to-end suite on kind (Docker): cluster, add-ons, images, helm, specs, k6
	@bash e2e/kind/run.sh

demo-stop: ## Stop what make demo started
	@bash hack/demo-stop.sh

clean: ## Remove build output and local state (not the binary cache)
	rm -rf dist coverage .local
