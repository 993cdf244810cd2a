#!/usr/bin/env bash
# `make e2e-kind`: the end-to-end suite on kind, for machines with Docker (developers, GitHub Actions).
#
#   1. creates a kind cluster (e2e/kind/cluster.yaml: 1 control plane + 2 workers, 198.18.0.0/15),
#   2. installs metrics-server and ingress-nginx from their release manifests (fetched now, pinned below),
#   3. builds the operator and shop images with docker and loads them into the nodes (`kind load docker-image`),
#   4. `helm install`s charts/scalable-app-operator with that image,
#   5. runs the e2e specs (e2e/*.e2e.test.ts) against the kind kubeconfig (SAPP_TEST_KUBECONFIG),
#   6. deploys examples/shop.yaml and runs the k6 load (e2e/load/shop.js) through ingress-nginx,
#   7. deletes the cluster (also on failure or Ctrl-C; SAPP_KIND_KEEP=1 keeps it).
#
# Environment (all optional):
#   SAPP_KIND_CLUSTER      cluster name                      (default sapp-e2e)
#   SAPP_KIND_KEEP=1       keep the cluster afterwards (delete it with `kind delete cluster --name sapp-e2e`)
#   SAPP_KIND_REUSE=1      use the cluster if it exists already (skips create; implies nothing about KEEP)
#   SAPP_KIND_HTTP_PORT    host port of the ingress           (default 80; bound on 127.0.0.1 only)
#   SAPP_KIND_HTTPS_PORT   host port of the ingress, TLS      (default 443)
#   SAPP_E2E_SKIP_SPECS=1  skip step 5        SAPP_E2E_SKIP_K6=1  skip step 6 (k6 is required otherwise)
#   K6_VUS, K6_DURATION    passed to e2e/load/shop.js (peak virtual users, total duration)
#   KIND_VERSION, KIND_NODE_IMAGE, METRICS_SERVER_VERSION, INGRESS_NGINX_VERSION   pinned below
#
# Needs: docker, Node 24 + npm, Go (to `go install` kind and build helm when they are missing), curl.
# Artifacts (diagnostics on failure, the k6 summary, jest output): .local/e2e-kind/
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_ROOT="$(cd "${E2E_DIR}/.." && pwd)"
cd "$REPO_ROOT"

# ---- pinned versions ---------------------------------------------------------
KIND_VERSION="${KIND_VERSION:-v0.33.0}"
# The Kubernetes version hack/build-binaries.sh pins, built for kind v0.33.0 (pinned by digest, as kind asks).
KIND_NODE_IMAGE="${KIND_NODE_IMAGE:-kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0}"
METRICS_SERVER_VERSION="${METRICS_SERVER_VERSION:-v0.8.0}"
INGRESS_NGINX_VERSION="${INGRESS_NGINX_VERSION:-controller-v1.13.2}"
# ------------------------------------------------------------------------------

CLUSTER="${SAPP_KIND_CLUSTER:-sapp-e2e}"
HTTP_PORT="${SAPP_KIND_HTTP_PORT:-80}"
HTTPS_PORT="${SAPP_KIND_HTTPS_PORT:-443}"
OUT="${REPO_ROOT}/.local/e2e-kind"
KUBECONFIG_FILE="${OUT}/kubeconfig"
VERSION="$(node -p "require('./package.json').version")"
OPERATOR_IMAGE="scalable-app-operator:${VERSION}"
SHOP_IMAGE="scalable-shop:0.1.0"
RELEASE=sapp
RELEASE_NS=sapp-system
LOAD_NS=shop

log() { printf '[e2e-kind] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
step() { log "---- $* ($(date -u +%T))"; }

mkdir -p "$OUT"
GOBIN_DIR="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
export PATH="${REPO_ROOT}/node_modules/.bin:${PATH}:${GOBIN_DIR}"

# ---- tools ----------------------------------------------------------------------------------------------------
command -v docker >/dev/null || die "docker is required (kind runs its nodes as Docker containers)"
docker info >/dev/null 2>&1 || die "the Docker daemon is not reachable (docker info failed)"
command -v node >/dev/null || die "Node 24 is required (npm install installs it as node_modules/.bin/node)"
if ! command -v kind >/dev/null || [[ "$(kind version 2>/dev/null | awk '{print $2}')" != "$KIND_VERSION" ]]; then
  command -v go >/dev/null || die "kind ${KIND_VERSION} is not installed and Go is not available to install it"
  log "installing kind ${KIND_VERSION} (go install)"
  GOFLAGS=-buildvcs=false go install "sigs.k8s.io/kind@${KIND_VERSION}"
fi
if command -v kubectl >/dev/null; then
  KUBECTL="$(command -v kubectl)"
else
  # The project's own kubectl (built once into the per-user cache).
  bash hack/build-binaries.sh kubernetes >&2
  eval "$(bash hack/build-binaries.sh --print-env)"
  KUBECTL="$KUBECTL_BIN"
fi
if command -v helm >/dev/null; then HELM="$(command -v helm)"; else HELM="$(bash hack/helm.sh --path)"; fi
if [[ "${SAPP_E2E_SKIP_K6:-0}" != 1 ]]; then
  command -v k6 >/dev/null || die "k6 is required for the load step (https://grafana.com/docs/k6/latest/set-up/install-k6/), or set SAPP_E2E_SKIP_K6=1"
fi
# Not `npm ci`, which rejects this lock file (README, Stack decisions).
[[ -d node_modules/jest ]] || { log "npm install --no-save"; npm install --no-save --no-audit --no-fund; }

k() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# ---- cleanup ------------------------------------------------------------------------------------------------------
created=0
diagnostics() {
  [[ -f "$KUBECONFIG_FILE" ]] || return 0
  log "collecting diagnostics into ${OUT}/diagnostics"
  mkdir -p "${OUT}/diagnostics"
  {
    k get nodes -o wide
    k get pods -A -o wide
    k get scalableapps,hpa,pvc,ingress -A -o wide
    k top pods -A 2>&1 || true
  } >"${OUT}/diagnostics/overview.txt" 2>&1 || true
  k get events -A --sort-by=.lastTimestamp >"${OUT}/diagnostics/events.txt" 2>&1 || true
  k get scalableapps -A -o yaml >"${OUT}/diagnostics/scalableapps.yaml" 2>&1 || true
  k -n "$RELEASE_NS" logs -l app.kubernetes.io/name=scalable-app-operator --tail=2000 --prefix \
    >"${OUT}/diagnostics/operator.log" 2>&1 || true
  k -n ingress-nginx logs -l app.kubernetes.io/component=controller --tail=500 \
    >"${OUT}/diagnostics/ingress-nginx.log" 2>&1 || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  ((rc == 0)) || diagnostics
  if ((created)) && [[ "${SAPP_KIND_KEEP:-0}" != 1 ]]; then
    step "deleting kind cluster ${CLUSTER}"
    kind delete cluster --name "$CLUSTER" || true
  elif ((created)); then
    log "kept cluster ${CLUSTER}; KUBECONFIG=${KUBECONFIG_FILE}; delete it with: kind delete cluster --name ${CLUSTER}"
  fi
  if ((rc == 0)); then log "PASSED"; else log "FAILED (exit ${rc}); artifacts in ${OUT}"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- 1. cluster ---------------------------------------------------------------------------------------------------
t_start=$(date +%s)
if [[ "${SAPP_KIND_REUSE:-0}" == 1 ]] && kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  step "reusing kind cluster ${CLUSTER}"
else
  kind get clusters 2>/dev/null | grep -qx "$CLUSTER" && die "a kind cluster named ${CLUSTER} exists; delete it or set SAPP_KIND_REUSE=1"
  step "creating kind cluster ${CLUSTER} (${KIND_NODE_IMAGE%@*})"
  config="${OUT}/cluster.yaml"
  sed -e "s/^\(\s*\)hostPort: 80$/\1hostPort: ${HTTP_PORT}/" -e "s/^\(\s*\)hostPort: 443$/\1hostPort: ${HTTPS_PORT}/" \
    -e "s/^name: .*/name: ${CLUSTER}/" e2e/kind/cluster.yaml >"$config"
  created=1
  kind create cluster --config "$config" --image "$KIND_NODE_IMAGE" --wait 180s
fi
kind get kubeconfig --name "$CLUSTER" >"$KUBECONFIG_FILE"
chmod 600 "$KUBECONFIG_FILE"

# ---- 2. metrics-server and ingress-nginx ------------------------------------------------------------------------
step "installing metrics-server ${METRICS_SERVER_VERSION}"
k apply -f "https://github.com/kubernetes-sigs/metrics-server/releases/download/${METRICS_SERVER_VERSION}/components.yaml"
# kind's kubelets serve self-signed certificates; a short resolution makes the HPA react within the test's time.
k -n kube-system patch deployment metrics-server --type=json -p '[
  {"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"},
  {"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--metric-resolution=15s"}]'

step "installing ingress-nginx ${INGRESS_NGINX_VERSION}"
k apply -f "https://raw.githubusercontent.com/kubernetes/ingress-nginx/${INGRESS_NGINX_VERSION}/deploy/static/provider/kind/deploy.yaml"

# ---- 3. images (built while the add-ons start) --------------------------------------------------------------------
step "building ${OPERATOR_IMAGE} and ${SHOP_IMAGE}"
docker build -t "$OPERATOR_IMAGE" .
docker build -f examples/shop-app/Dockerfile -t "$SHOP_IMAGE" .
kind load docker-image --name "$CLUSTER" "$OPERATOR_IMAGE" "$SHOP_IMAGE"

k -n kube-system rollout status deployment/metrics-server --timeout=300s
k -n ingress-nginx wait --for=condition=complete job --all --timeout=300s
k -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s
# metrics.k8s.io answers once metrics-server has scraped every kubelet once.
for _ in $(seq 1 60); do k top nodes >/dev/null 2>&1 && break; sleep 5; done
k top nodes || die "metrics-server serves no node metrics (the HPA needs them)"

# ---- 4. the operator ------------------------------------------------------------------------------------------------
step "helm install ${RELEASE} (image ${OPERATOR_IMAGE})"
"$HELM" --kubeconfig "$KUBECONFIG_FILE" upgrade --install "$RELEASE" charts/scalable-app-operator \
  --namespace "$RELEASE_NS" --create-namespace \
  --set image.repository="${OPERATOR_IMAGE%:*}" --set image.tag="${OPERATOR_IMAGE##*:}" \
  --set image.pullPolicy=Never --wait --timeout 5m
k wait --for=condition=Established crd/scalableapps.scalable.dev --timeout=60s

# ---- 5. the e2e specs --------------------------------------------------------------------------------------------------
if [[ "${SAPP_E2E_SKIP_SPECS:-0}" != 1 ]]; then
  step "e2e specs"
  SAPP_TEST_KUBECONFIG="$KUBECONFIG_FILE" \
    SAPP_E2E_PROFILE=kind \
    SAPP_E2E_OPERATOR=installed \
    SAPP_E2E_INGRESS_URL="http://127.0.0.1:${HTTP_PORT}" \
    SAPP_E2E_REPORT="${OUT}/e2e-report.json" \
    node --experimental-vm-modules node_modules/jest/bin/jest.js -c e2e/jest.config.js --runInBand 2>&1 |
    tee "${OUT}/jest.log"
  ((PIPESTATUS[0] == 0)) || die "e2e specs failed"
fi

# ---- 6. k6 load through ingress-nginx ----------------------------------------------------------------------------------
if [[ "${SAPP_E2E_SKIP_K6:-0}" != 1 ]]; then
  step "k6 load on examples/shop.yaml"
  k create namespace "$LOAD_NS" --dry-run=client -o yaml | k apply -f -
  sed "s/^  namespace: shop$/  namespace: ${LOAD_NS}/" examples/shop.yaml | k apply --server-side -f -
  t0=$(date +%s)
  k -n "$LOAD_NS" wait --for=condition=Ready sapp/shop --timeout=15m
  log "shop Ready $(($(date +%s) - t0)) s after apply"
  k6 run \
    --env BASE_URL="http://127.0.0.1:${HTTP_PORT}" \
    --env HOST=shop.example.test \
    --env VUS="${K6_VUS:-20}" \
    --env DURATION="${K6_DURATION:-4m}" \
    --summary-export "${OUT}/k6-summary.json" \
    e2e/load/shop.js 2>&1 | tee "${OUT}/k6.log"
  ((PIPESTATUS[0] == 0)) || die "k6 thresholds failed (see ${OUT}/k6.log)"
  k -n "$LOAD_NS" get hpa -o wide | tee -a "${OUT}/k6.log"
fi

log "done in $(($(date +%s) - t_start)) s"
