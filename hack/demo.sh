#!/usr/bin/env bash
# `make demo`, the main job: the shop example running on real pods, ending with a URL on this machine that a
# browser opens. Where it runs, the first that applies:
#   DEMO_CONTEXT=<context>  that context of your kubeconfig (an explicit opt-in: without it the demo never acts on
#                           a cluster from ~/.kube/config or $KUBECONFIG; it prints which one it leaves alone)
#   kind                    Docker and kind work: a kind cluster `sapp-demo` built by e2e/kind/run.sh (kept),
#                           ingress-nginx on 127.0.0.1:${DEMO_PORT}
#   the local real node     this machine can run one (root, br_netfilter, overlay): hack/node.sh (containerd,
#                           kubelet, its own control plane), Traefik on 127.0.0.1:${DEMO_PORT}
#   the local kwok cluster  otherwise: every object and condition, but kwok's pods are simulated and nothing
#                           serves traffic (it says so, and how to get a real node)
# DEMO_TARGET=context|kind|node|kwok forces one. `make demo-stop` undoes what the demo started; `make demo-load`
# drives a bounded load so the HPA scales out and back in.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:/usr/local/go/bin:$PATH"
STATE=.local/demo
NS=shop
DEMO_PORT="${DEMO_PORT:-38080}"
mkdir -p "$STATE" .local/logs
T0=$(date +%s)
STEP=0
STEPS=5
step() {
  STEP=$((STEP + 1))
  printf '\ndemo: [%d/%d] %s (%ds)\n' "$STEP" "$STEPS" "$*" $(($(date +%s) - T0))
}
say() { printf 'demo: %s\n' "$*"; }

# A kubeconfig the user has (not one of this repository's local clusters).
user_kubeconfig() {
  local kc="${KUBECONFIG:-$HOME/.kube/config}"
  [[ -f "${kc%%:*}" && "$(realpath "${kc%%:*}")" != "$PWD"/.local/* ]] && echo "$kc"
  return 0
}

can_run_node() {
  ((EUID == 0)) && [[ -d /proc/sys/net/bridge ]] && grep -qw overlay /proc/filesystems
}

choose_target() {
  if [[ -n "${DEMO_TARGET:-}" ]]; then echo "$DEMO_TARGET"; return; fi
  if [[ -n "${DEMO_CONTEXT:-}" ]]; then echo context; return; fi
  if command -v kind >/dev/null 2>&1 && docker info >/dev/null 2>&1; then echo kind; return; fi
  if can_run_node; then echo node; return; fi
  echo kwok
}

# Waits for sapp/shop Ready, printing its Ready reason every 15 s; returns non-zero after $1 seconds.
wait_ready() {
  local limit="$1" start now reason
  start=$(date +%s)
  while true; do
    reason="$(kubectl -n "$NS" get sapp shop -o jsonpath='{range .status.conditions[?(@.type=="Ready")]}{.status} {.reason}: {.message}{end}' 2>/dev/null || true)"
    [[ "$reason" == True* ]] && { say "sapp/shop Ready after $(($(date +%s) - start)) s"; return 0; }
    now=$(date +%s)
    ((now - start >= limit)) && { say "sapp/shop not Ready after ${limit} s: ${reason:-no status yet}"; return 1; }
    say "waiting for sapp/shop Ready ($((now - start)) s): ${reason:-no status yet}"
    sleep 15
  done
}

show_status() {
  echo
  kubectl -n "$NS" get sapp shop -o wide
  echo
  kubectl -n "$NS" get sapp shop -o jsonpath='{range .status.conditions[*]}{.type}{"\t"}{.status}{"\t"}{.reason}{"\t"}{.message}{"\n"}{end}' | column -t -s $'\t'
  echo
  kubectl -n "$NS" get pods -L scalable.dev/replication-role -o wide 2>/dev/null | cut -c1-160
}

# Checks that the shop answers at the URL (twice: the second request carries the sticky cookie).
check_url() {
  local url="$1" jar
  jar="$(mktemp)"
  for _ in $(seq 40); do
    if curl -fsS -o /dev/null -c "$jar" -b "$jar" "$url" 2>/dev/null; then
      curl -fsS -c "$jar" -b "$jar" -o /dev/null -w 'demo: %{url_effective} answered %{http_code} in %{time_total} s\n' "$url"
      rm -f "$jar"
      return 0
    fi
    sleep 3
  done
  rm -f "$jar"
  say "the shop does not answer at ${url} yet: see \`kubectl -n ${NS} get ingress,pods\` and the Traefik pod's logs"
  return 1
}

bash hack/deps.sh
kc="$(user_kubeconfig)"
target="$(choose_target)"
if [[ -n "$kc" && "$target" != context ]]; then
  say "leaving your kubeconfig alone ($(KUBECONFIG="$kc" kubectl config current-context 2>/dev/null || echo '?') in ${kc}); DEMO_CONTEXT=<context> make demo uses one of its contexts instead"
fi
say "target: ${target}"
echo "$target" >"$STATE/target"

case "$target" in
  context)
    [[ -n "${DEMO_CONTEXT:-}" ]] || { say "DEMO_TARGET=context needs DEMO_CONTEXT=<context>"; exit 2; }
    [[ -n "$kc" ]] || { say "DEMO_CONTEXT is set but there is no kubeconfig (~/.kube/config or \$KUBECONFIG)"; exit 2; }
    export KUBECONFIG="$kc"
    kubectl config use-context "$DEMO_CONTEXT" >/dev/null
    say "cluster $(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}') (context ${DEMO_CONTEXT})"
    STEPS=3
    step "the operator: helm install with the chart's defaults (the image of charts/scalable-app-operator/values.yaml)"
    "$(bash hack/helm.sh --path)" upgrade --install sapp charts/scalable-app-operator --namespace sapp-system \
      --create-namespace --wait --timeout 5m
    step "examples/shop.yaml"
    kubectl get namespace "$NS" >/dev/null 2>&1 || kubectl create namespace "$NS"
    kubectl apply --server-side -f examples/shop.yaml
    step "waiting for Ready"
    wait_ready 900 || true
    show_status
    say "the shop's address is your Ingress controller's for host shop.example.test (see \`kubectl -n ${NS} get ingress\`)"
    ;;

  kind)
    STEPS=3
    step "kind cluster sapp-demo, ingress-nginx, images and the operator (e2e/kind/run.sh; kept for the demo)"
    SAPP_KIND_CLUSTER=sapp-demo SAPP_KIND_KEEP=1 SAPP_KIND_REUSE=1 SAPP_E2E_SKIP_SPECS=1 SAPP_E2E_SKIP_K6=1 \
      SAPP_KIND_HTTP_PORT="$DEMO_PORT" SAPP_KIND_HTTPS_PORT=$((DEMO_PORT + 363)) bash e2e/kind/run.sh
    export KUBECONFIG="$PWD/.local/e2e-kind/kubeconfig"
    step "examples/shop.yaml at host shop.localhost"
    kubectl get namespace "$NS" >/dev/null 2>&1 || kubectl create namespace "$NS"
    sed 's/host: shop.example.test/host: shop.localhost/' examples/shop.yaml | kubectl apply --server-side -f -
    step "waiting for Ready"
    wait_ready 900 || true
    show_status
    check_url "http://shop.localhost:${DEMO_PORT}/" || true
    echo
    say "open http://shop.localhost:${DEMO_PORT}/   (KUBECONFIG=${KUBECONFIG})"
    ;;

  node)
    step "the local real node: hack/node.sh up (first run: builds Kubernetes and the images from source, about 30 min on 2 cores; later runs: about 1 min)"
    [[ -f "$STATE/started-node" ]] || bash hack/node.sh status >/dev/null 2>&1 || touch "$STATE/started-node"
    bash hack/node.sh up
    eval "$(bash hack/node.sh env)"
    step "the operator: helm install (image ${SAPP_E2E_OPERATOR_IMAGE}, watching namespace ${NS})"
    kubectl get namespace "$NS" >/dev/null 2>&1 || kubectl create namespace "$NS"
    "$(bash hack/helm.sh --path)" upgrade --install sapp-demo charts/scalable-app-operator --namespace sapp-system \
      --create-namespace --set image.repository="${SAPP_E2E_OPERATOR_IMAGE%:*}" \
      --set image.tag="${SAPP_E2E_OPERATOR_IMAGE##*:}" --set image.pullPolicy=Never --set replicas=1 \
      --set watchNamespace="$NS" --set podDisruptionBudget.enabled=false --wait --timeout 5m
    step "the shop (examples/shop-mariadb.yaml with this node's images, behind Traefik at shop.localhost)"
    tsx scripts/demo-app.ts "$NS" | kubectl apply --server-side -f -
    step "waiting for Ready (the database and cache pods start, the replicas copy the primaries)"
    wait_ready 900 || true
    show_status
    step "the shop through Traefik"
    check_url "http://shop.localhost:${DEMO_PORT}/" || true
    cat <<EOF

demo: open http://shop.localhost:${DEMO_PORT}/ (this machine only: Traefik listens on 127.0.0.1)
demo: watch it scale:   eval "\$(bash hack/node.sh env)"; kubectl -n ${NS} get sapp,hpa -w
demo: load it:          make demo-load          stop everything: make demo-stop
EOF
    ;;

  kwok)
    STEPS=3
    step "the local kwok cluster (hack/cluster.sh up)"
    cat <<EOF
demo: NOTE: this machine cannot run a real node (it needs root, br_netfilter and overlay; see e2e/REAL-NODE.md)
demo: and has no working Docker and kind. The kwok cluster is a real API server with simulated nodes and pods:
demo: you see every object and condition the operator manages, but no pod runs and nothing serves traffic.
EOF
    if ! bash hack/cluster.sh status >/dev/null 2>&1; then
      bash hack/cluster.sh up
      touch "$STATE/started-cluster" # demo-stop stops only a cluster the demo started
    fi
    eval "$(bash hack/cluster.sh env)"
    kubectl apply --server-side --force-conflicts -f crds/
    kubectl wait --for=condition=Established --timeout=60s crd/scalableapps.scalable.dev
    kubectl get namespace "$NS" >/dev/null 2>&1 || kubectl create namespace "$NS"
    step "the operator (a local process watching only namespace ${NS}) and examples/shop.yaml"
    if [[ -f "$STATE/operator.pid" ]] && kill -0 "$(cat "$STATE/operator.pid")" 2>/dev/null; then
      say "operator already running (pid $(cat "$STATE/operator.pid"))"
    else
      # Only the demo's namespace: `make test` on the same cluster afterwards must not see its apps reconciled by
      # the demo's operator (each test file runs its own operator for its own namespace).
      WATCH_NAMESPACE="$NS" LEADER_ELECT=false HTTP_PORT=18080 HTTP_HOST=127.0.0.1 \
        nohup tsx src/cli.ts start >.local/logs/demo-operator.log 2>&1 &
      echo $! >"$STATE/operator.pid"
      say "operator started (pid $!, logs .local/logs/demo-operator.log, metrics http://127.0.0.1:18080/metrics)"
    fi
    kubectl apply --server-side -f examples/shop.yaml
    step "waiting for the objects (Ready needs an Ingress controller, which kwok has not)"
    wait_ready 120 || true
    show_status
    say "nothing serves traffic on kwok; on a machine with root (or Docker and kind) make demo runs the shop on real pods"
    ;;

  *)
    say "DEMO_TARGET=${target}: use context, kind, node or kwok"
    exit 2
    ;;
esac
say "done in $(($(date +%s) - T0)) s"
