#!/usr/bin/env bash
# Stops what `make demo` started: on the real node, the shop (its volumes too: the demo's app has deletionPolicy
# Delete) and the operator's release, and the node itself if the demo started it; on kwok, the operator process
# and the local cluster if the demo started it. A kind cluster is left for `kind delete cluster --name sapp-demo`,
# a DEMO_CONTEXT cluster is left as it is.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:/usr/local/go/bin:$PATH"
STATE=.local/demo
target="$(cat "$STATE/target" 2>/dev/null || echo kwok)"
if [[ "$target" == node ]] && bash hack/node.sh status >/dev/null 2>&1; then
  eval "$(bash hack/node.sh env)"
  kubectl delete namespace shop --ignore-not-found --wait=true --timeout=120s || true
  "$(bash hack/helm.sh --path)" uninstall sapp-demo --namespace sapp-system --wait --timeout 2m 2>/dev/null || true
  if [[ -f "$STATE/started-node" ]]; then
    bash hack/node.sh down
    rm -f "$STATE/started-node"
  fi
fi
if [[ "$target" == kind ]]; then
  echo "demo-stop: the kind cluster stays; delete it with: kind delete cluster --name sapp-demo"
fi
if [[ -f "$STATE/operator.pid" ]]; then
  pid=$(cat "$STATE/operator.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/operator.pid"
fi
if [[ -f "$STATE/started-cluster" ]]; then
  bash hack/cluster.sh down
  rm -f "$STATE/started-cluster"
fi
rm -f "$STATE/target"
