#!/usr/bin/env bash
# The main job: a cluster (the configured one, or the local upstream cluster when none is configured), the
# operator running against it, examples/shop.yaml applied, and its status shown.
# `make demo-stop` stops the operator (and the local cluster if the demo started it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:/usr/local/go/bin:$PATH"
STATE=.local/demo
mkdir -p "$STATE" .local/logs

bash hack/deps.sh
if [[ -z "${KUBECONFIG:-}" && ! -f "$HOME/.kube/config" ]]; then
  if ! bash hack/cluster.sh status >/dev/null 2>&1; then
    echo "demo: no cluster configured; starting the local cluster (hack/cluster.sh up)"
    bash hack/cluster.sh up
    touch "$STATE/started-cluster" # demo-stop stops only a cluster the demo started
  fi
  eval "$(bash hack/cluster.sh env)"
fi
echo "demo: cluster $(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')"

kubectl apply --server-side --force-conflicts -f crds/
kubectl wait --for=condition=Established --timeout=60s crd/scalableapps.scalable.dev
kubectl get namespace shop >/dev/null 2>&1 || kubectl create namespace shop

if [[ -f "$STATE/operator.pid" ]] && kill -0 "$(cat "$STATE/operator.pid")" 2>/dev/null; then
  echo "demo: operator already running (pid $(cat "$STATE/operator.pid"))"
else
  # Only the demo's namespace: `make test` on the same cluster afterwards must not see its apps reconciled by
  # the demo's operator (each test file runs its own operator for its own namespace).
  WATCH_NAMESPACE=shop LEADER_ELECT=false HTTP_PORT=18080 HTTP_HOST=127.0.0.1 \
    nohup tsx src/cli.ts start >.local/logs/demo-operator.log 2>&1 &
  echo $! >"$STATE/operator.pid"
  echo "demo: operator started (pid $!, logs .local/logs/demo-operator.log, metrics http://127.0.0.1:18080/metrics)"
fi

kubectl apply --server-side -f examples/shop.yaml
echo "demo: waiting for sapp/shop to become Ready"
if ! kubectl -n shop wait --for=condition=Ready sapp/shop --timeout=180s; then
  echo "demo: not Ready yet; conditions below say why"
fi
echo
kubectl -n shop get sapp shop -o wide
echo
kubectl -n shop get sapp shop -o jsonpath='{range .status.conditions[*]}{.type}{"\t"}{.status}{"\t"}{.reason}{"\t"}{.message}{"\n"}{end}' | column -t -s $'\t'
echo
kubectl -n shop get deployments,statefulsets,services,hpa,ingress,pdb,networkpolicies -l app.kubernetes.io/instance=shop
