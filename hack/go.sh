# shellcheck shell=bash
# find_go: the Go toolchain that builds the upstream binaries (hack/build-binaries.sh, hack/gateway-api.sh,
# hack/node-images.sh source this file): `go` on the PATH, else /usr/local/go/bin/go.
find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    echo /usr/local/go/bin/go
  else
    printf 'ERROR: go not found (install Go >= 1.26 or put it on PATH)\n' >&2
    return 1
  fi
}
