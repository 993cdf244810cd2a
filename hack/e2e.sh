#!/usr/bin/env bash
# `make e2e`: the end-to-end suite on kind where Docker and kind work, on the local real node otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:/usr/local/go/bin:$PATH"
if command -v kind >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  echo "e2e: Docker and kind found: running on kind"
  exec bash e2e/kind/run.sh
fi
echo "e2e: no working Docker engine or kind: running on the local real node (hack/node.sh)"
bash hack/deps.sh e2e
bash hack/node.sh up
exec node --experimental-vm-modules node_modules/jest/bin/jest.js -c e2e/jest.config.js --runInBand
