#!/usr/bin/env bash
# The project's test command: installs what it needs, builds or reuses the cluster binaries, runs every jest
# project (unit, then integration against a real API server) and ends with "N passed, N failed".
# SAPP_SKIP_INTEGRATION=1 runs the unit project only.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:/usr/local/go/bin:$PATH"

# Steps outside jest (install, type check, binary build) count as one failed test each when they fail.
extra_failed=0
step() { # name, command...
  local name=$1; shift
  echo "=== $name"
  if ! "$@"; then echo "=== $name FAILED"; extra_failed=$((extra_failed + 1)); return 1; fi
}
jest() { # result name, jest args...
  local name=$1; shift
  echo "=== jest $name"
  node --experimental-vm-modules node_modules/jest/bin/jest.js "$@" --json --outputFile=".local/results/$name.json"
}

helm_lint() {
  local f chart=charts/scalable-app-operator
  bash hack/helm.sh lint --strict "$chart" || return 1
  for f in "$chart"/ci/*-values.yaml; do bash hack/helm.sh lint --strict "$chart" --values "$f" || return 1; done
}

mkdir -p .local/results
rm -f .local/results/*.json
if ! step deps bash hack/deps.sh; then echo "0 passed, 1 failed"; exit 1; fi
export PATH="$PWD/node_modules/.bin:$PATH"

step typecheck tsc --noEmit -p tsconfig.json
step typecheck-shop-app tsc --noEmit -p examples/shop-app/tsconfig.dev.json
step lint eslint --max-warnings=0 .
step crds-fresh tsx scripts/gen-crd.ts --check
results=(.local/results/unit.json)
jest unit --selectProjects unit
if [[ "${SAPP_SKIP_SERVICES:-}" != 1 ]]; then
  results+=(.local/results/services.json)
  jest services --selectProjects services --forceExit
fi
if [[ "${SAPP_SKIP_INTEGRATION:-}" != 1 ]]; then
  results+=(.local/results/integration.json)
  if step binaries bash hack/build-binaries.sh kubernetes etcd kwok helm; then
    step helm-lint helm_lint
    jest integration --selectProjects integration --runInBand --forceExit
  fi
fi
EXTRA_FAILED=$extra_failed tsx scripts/summary.ts "${results[@]}"
