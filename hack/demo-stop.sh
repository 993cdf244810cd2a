#!/usr/bin/env bash
# Stops what `make demo` started: the operator, and the local cluster if the demo started it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
STATE=.local/demo
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
