#!/usr/bin/env bash
# The Gateway API CRDs (sigs.k8s.io/gateway-api), pinned, from the Go module
# proxy: the module carries the install manifests of both release channels
# under config/crd/{standard,experimental}. They are copied once into the
# per-user cache beside the binaries (see build-binaries.sh), keyed by
# version, so every clone reuses them.
#
# Usage:
#   hack/gateway-api.sh [--print-dir [CHANNEL]]  fetch if missing; print the
#                                                cache dir (of one channel)
#   hack/gateway-api.sh install [CHANNEL]        fetch if missing, apply to the
#                                                cluster of $KUBECONFIG, wait
#                                                until the CRDs are Established
#
# CHANNEL is experimental (default) or standard. The experimental channel is a
# superset of the standard one; the operator's HTTPRoute needs it for
# sessionPersistence (cookie affinity). Each channel also installs the
# ValidatingAdmissionPolicy safe-upgrades.gateway.networking.k8s.io, which
# refuses experimental CRDs over standard ones: a cluster that already has the
# standard channel keeps it (the install then fails, saying so).
#
# Environment: SAPP_CACHE_DIR / XDG_CACHE_HOME as for build-binaries.sh.
set -euo pipefail

# ---- pinned version ---------------------------------------------------------
GATEWAY_API_VERSION="v1.6.3"
# -----------------------------------------------------------------------------

SAPP_CACHE_DIR="${SAPP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/scalable-app-operator}"
GATEWAY_API_DIR="${SAPP_CACHE_DIR}/bin/gateway-api-${GATEWAY_API_VERSION}"

log() { printf '[gateway-api] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# shellcheck source=hack/go.sh
source "$(dirname "${BASH_SOURCE[0]}")/go.sh"

# Copy the manifests of both channels into the cache (once per version).
fetch() {
  [[ -d "${GATEWAY_API_DIR}/experimental" && -d "${GATEWAY_API_DIR}/standard" ]] && return 0
  local go src tmp
  go="$(find_go)"
  mkdir -p "${SAPP_CACHE_DIR}/build"
  src="$(cd "${SAPP_CACHE_DIR}/build" && GOFLAGS='' GOWORK=off "$go" mod download -json "sigs.k8s.io/gateway-api@${GATEWAY_API_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$src/config/crd/experimental" ]] || die "config/crd not found in module cache ($src)"
  tmp="${GATEWAY_API_DIR}.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp -R "$src/config/crd/standard" "$src/config/crd/experimental" "$tmp/"
  chmod -R u+w "$tmp"
  # kubectl -f <dir> reads every YAML file; the kustomization is not an object.
  rm -f "$tmp"/*/kustomization.yaml
  rm -rf "$GATEWAY_API_DIR"
  mv "$tmp" "$GATEWAY_API_DIR"
  log "Gateway API ${GATEWAY_API_VERSION} CRDs cached in ${GATEWAY_API_DIR}"
}

channel_dir() {
  case "${1:-experimental}" in
    experimental | standard) echo "${GATEWAY_API_DIR}/${1:-experimental}" ;;
    *) die "unknown channel '$1' (experimental or standard)" ;;
  esac
}

install() {
  local dir
  dir="$(channel_dir "${1:-}")"
  fetch
  kubectl apply --server-side --force-conflicts -f "$dir" >/dev/null
  kubectl wait --for=condition=Established --timeout=60s \
    crd/httproutes.gateway.networking.k8s.io crd/gateways.gateway.networking.k8s.io >/dev/null
  log "Gateway API ${GATEWAY_API_VERSION} (${1:-experimental} channel) installed"
}

case "${1:-}" in
  "" | --print-dir) dir="$(channel_dir "${2:-experimental}")"; fetch; [[ -n "${2:-}" ]] && echo "$dir" || echo "$GATEWAY_API_DIR" ;;
  install) install "${2:-}" ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
