#!/usr/bin/env bash
# Runs the project's pinned helm (built from the Go module proxy by hack/build-binaries.sh into the per-user
# cache, once). Every argument goes to helm: `bash hack/helm.sh lint --strict charts/scalable-app-operator`.
# `bash hack/helm.sh --path` prints the binary's path instead (building it first when missing).
set -euo pipefail
HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

helm_bin="$(bash "${HACK_DIR}/build-binaries.sh" --print-dir helm)/helm"
if [[ ! -x "$helm_bin" ]]; then
  # Build output goes to stderr so that `--path` and helm's own stdout stay clean.
  bash "${HACK_DIR}/build-binaries.sh" helm >&2
fi
[[ -x "$helm_bin" ]] || { echo "helm.sh: helm not found at ${helm_bin} after building" >&2; exit 1; }

if [[ "${1:-}" == --path ]]; then
  echo "$helm_bin"
  exit 0
fi
exec "$helm_bin" "$@"
