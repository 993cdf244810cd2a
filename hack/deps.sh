#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine: Debian packages (apt-get) and npm packages.
# Node 24 comes from the npm package `node` (a dev dependency), so the machine's older node is enough to start.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

APT_PACKAGES=(openssl ca-certificates curl git make jq)
# Extra Debian packages for the data-tier and e2e suites are appended by their owners below.
APT_PACKAGES+=(mariadb-server mariadb-client redis-server strace)
# The e2e smoke test's load balancer (cookie stickiness in front of two shop instances).
APT_PACKAGES+=(haproxy)
# The browser e2e test's headless browser (driven by the playwright-core dev dependency): `hack/deps.sh e2e` only.
if [[ "${1:-}" == e2e ]]; then APT_PACKAGES+=(chromium); fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts these as system services on install; the tests run their own instances on their own ports.
  for svc in mariadb redis-server haproxy; do
    $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || { echo "deps: Go is required to build the cluster binaries (go.dev/dl)" >&2; exit 1; }

# `npm install --no-save` follows package-lock.json like `npm ci`, but tolerates the platform-specific optional
# packages (@swc/core-*, @unrs/resolver-binding-*) that this machine's registry mirror does not carry and that
# are therefore missing from the lock file, which `npm ci` would reject.
if [[ ! -x node_modules/.bin/node || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "deps: npm install (from package-lock.json)"
  npm install --no-save --no-audit --no-fund --loglevel=error
fi
