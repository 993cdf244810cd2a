#!/usr/bin/env bash
# Tests the Helm chart (charts/scalable-app-operator).
#
# Usage:
#   hack/chart-test.sh lint   `helm lint --strict` with the default values and every ci/*-values.yaml, and the
#                             chart's unit tests (no cluster needed)                    → make helm-lint
#   hack/chart-test.sh        lint, then the integration tests on the local cluster (started when none is up;
#                             a running one is used and left running)                   → make chart-test:
#                             - test/chart.int.test.ts: every ci/ scenario rendered and accepted by the API
#                               server (server-side dry run into a namespace enforcing the restricted Pod
#                               Security Standard), clear errors for bad values, the ServiceAccount's
#                               permissions asked of the API server (everything the operator does, nothing
#                               more), a real helm install / upgrade / uninstall
#                             - test/rbac.int.test.ts: the operator in-process as the chart's ServiceAccount
#                               takes examples/shop.yaml to Ready with no request forbidden
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:/usr/local/go/bin:$PATH"
CHART=charts/scalable-app-operator

lint() {
  local f failed=0
  echo "=== helm lint --strict ${CHART} (defaults)"
  bash hack/helm.sh lint --strict "$CHART" || failed=1
  for f in "$CHART"/ci/*-values.yaml; do
    echo "=== helm lint --strict ${CHART} --values ${f}"
    bash hack/helm.sh lint --strict "$CHART" --values "$f" || failed=1
  done
  echo "=== unit tests of the chart, the image and the README table"
  node --experimental-vm-modules node_modules/jest/bin/jest.js \
    src/chart.test.ts scripts/dockerfile.test.ts scripts/copy-assets.test.ts --selectProjects unit || failed=1
  return "$failed"
}

case "${1:-all}" in
  lint) lint ;;
  all)
    lint
    bash hack/build-binaries.sh
    node --experimental-vm-modules node_modules/jest/bin/jest.js \
      test/chart.int.test.ts test/rbac.int.test.ts --selectProjects integration --runInBand
    ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' ;;
  *) echo "usage: hack/chart-test.sh [lint]" >&2; exit 2 ;;
esac
