#!/usr/bin/env bash
# Container images of the local real node (hack/node.sh), built on this machine without a registry or a
# daemon: root filesystems from Debian packages (debootstrap), binaries built from source (Go module proxy) or
# taken from npm (Node 24: the `node` package), assembled with buildah (vfs storage: no mounts) and saved as
# docker-archive files in the per-user cache; `import` loads them into the node's containerd (`ctr -n k8s.io
# images import`). Pods use them with imagePullPolicy IfNotPresent/Never: nothing is ever pulled.
#
# Usage:
#   hack/node-images.sh build [IMAGE...]    build what is missing or outdated (default: all)
#   hack/node-images.sh import [IMAGE...]   build, then import into containerd (the node must be up)
#   hack/node-images.sh list                image names, references and archive files
#   hack/node-images.sh --print-env         export lines with the references (SAPP_E2E_*_IMAGE)
#   hack/node-images.sh dockerfile IMAGE    what `buildah bud` gets for shop/operator (file, build args, inputs)
#   hack/node-images.sh purge               remove the archives, rootfs cache and buildah storage
#
# IMAGE: pause coredns metrics-server traefik mariadb redis shop operator agnhost
#   pause           the pod sandbox, from e2e/node/images/pause (Go)
#   coredns         CoreDNS ${COREDNS_VERSION} (go install), static, on an empty rootfs
#   metrics-server  metrics-server ${METRICS_SERVER_VERSION} (go install), static, on an empty rootfs
#   traefik         Traefik ${TRAEFIK_VERSION} (go install, the Ingress controller), static, on an empty rootfs
#   mariadb         Debian bookworm's mariadb-server (10.11) + a docker-entrypoint.sh compatible with the
#                   official image's first-start contract (e2e/node/images/mariadb)
#   redis           Debian bookworm's redis-server (7.0)
#   shop            examples/shop-app/Dockerfile (buildah bud), as scalable-shop:<v>
#   operator        the repository's Dockerfile (buildah bud), as scalable-app-operator:<v>
#                   Both with base images built here (Debian + Node 24 from npm; see node_base and node_build)
#                   passed as the Dockerfiles' build arguments; their `npm install` steps use the npm registry.
#   agnhost         Kubernetes' test server (test/images/agnhost of the node's Kubernetes version, static, root
#                   like upstream's), under upstream's name registry.k8s.io/e2e-test-images/agnhost:<its VERSION>,
#                   so that examples/minimal.yaml runs unchanged (e2e/examples.e2e.test.ts imports it)
# The shop and operator images are rebuilt when their Dockerfile or build context changes (a hash of the inputs
# keys the archive).
#
# Environment: SAPP_CACHE_DIR (default ~/.cache/scalable-app-operator), SAPP_NODE_ROOT (default
# /var/lib/sapp-node: buildah storage), CONTAINERD_ADDRESS (import; default the node's socket),
# DEBIAN_MIRROR (default http://deb.debian.org/debian), SAPP_FORCE_REBUILD=1.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${HACK_DIR}/.." && pwd)"
IMAGES_SRC="${REPO_ROOT}/e2e/node/images"

COREDNS_VERSION="v1.12.4"
TRAEFIK_VERSION="v3.7.13"
METRICS_SERVER_VERSION="v0.8.0"
DEBIAN_SUITE="bookworm"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Bump to rebuild the Debian root filesystems (security updates, a changed package list).
ROOTFS_REVISION=1

SAPP_CACHE_DIR="${SAPP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/scalable-app-operator}"
BIN_ROOT="${SAPP_CACHE_DIR}/bin"
IMG_CACHE="${SAPP_CACHE_DIR}/images"
NODE_ROOT="${SAPP_NODE_ROOT:-/var/lib/sapp-node}"
BUILDAH_ROOT="${NODE_ROOT}/buildah/storage"
BUILDAH_RUNROOT="/run/sapp-node/buildah"
CONTAINERD_ADDRESS="${CONTAINERD_ADDRESS:-/run/sapp-node/containerd/containerd.sock}"

SHOP_VERSION="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "${REPO_ROOT}/examples/shop-app/package.json" | head -n1)"
# agnhost is built from the Kubernetes source that hack/build-binaries.sh builds the node from; its version is the
# VERSION file beside its source (the tag upstream publishes it under).
KUBE_VERSION="$(sed -n 's/^KUBE_VERSION="\(.*\)"$/\1/p' "${HACK_DIR}/build-binaries.sh")"
AGNHOST_VERSION="2.59"
OPERATOR_VERSION="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "${REPO_ROOT}/package.json" | head -n1)"

ALL_IMAGES=(pause coredns metrics-server traefik mariadb redis shop operator agnhost)

log() { printf '[node-images] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s; }

image_ref() {
  case "$1" in
    pause) echo "localhost/sapp/pause:1" ;;
    coredns) echo "localhost/sapp/coredns:${COREDNS_VERSION}" ;;
    metrics-server) echo "localhost/sapp/metrics-server:${METRICS_SERVER_VERSION}" ;;
    traefik) echo "localhost/sapp/traefik:${TRAEFIK_VERSION}" ;;
    mariadb) echo "localhost/sapp/mariadb:10.11-${DEBIAN_SUITE}" ;;
    redis) echo "localhost/sapp/redis:7.0-${DEBIAN_SUITE}" ;;
    shop) echo "docker.io/library/scalable-shop:${SHOP_VERSION}" ;;
    operator) echo "docker.io/library/scalable-app-operator:${OPERATOR_VERSION}" ;;
    agnhost) echo "registry.k8s.io/e2e-test-images/agnhost:${AGNHOST_VERSION}" ;;
    *) die "unknown image '$1' (${ALL_IMAGES[*]})" ;;
  esac
}

print_env() {
  cat <<EOF
export SAPP_E2E_PAUSE_IMAGE='$(image_ref pause)'
export SAPP_E2E_MARIADB_IMAGE='$(image_ref mariadb)'
export SAPP_E2E_REDIS_IMAGE='$(image_ref redis)'
export SAPP_E2E_SHOP_IMAGE='scalable-shop:${SHOP_VERSION}'
export SAPP_E2E_OPERATOR_IMAGE='scalable-app-operator:${OPERATOR_VERSION}'
EOF
}

# shellcheck source=hack/go.sh
source "${HACK_DIR}/go.sh"

buildah_() {
  buildah --root "$BUILDAH_ROOT" --runroot "$BUILDAH_RUNROOT" --storage-driver vfs "$@"
}

# hash of files/strings on stdin → 16 hex digits
key_of() { sha256sum | cut -c1-16; }

hash_tree() { # paths... (files or dirs, relative to the repo) → content hash, without what .dockerignore drops
  (cd "$REPO_ROOT" && find "$@" -type f ! -path '*/node_modules/*' ! -name '*.test.ts' ! -path '*/__snapshots__/*' \
    -print0 | sort -z | xargs -0 sha256sum) | key_of
}

image_key() {
  case "$1" in
    pause) { cat "${IMAGES_SRC}/pause/"*; "$(find_go)" version; } | key_of ;;
    coredns) echo "coredns ${COREDNS_VERSION}" | key_of ;;
    metrics-server) echo "metrics-server ${METRICS_SERVER_VERSION}" | key_of ;;
    traefik) echo "traefik ${TRAEFIK_VERSION}" | key_of ;;
    agnhost) { echo "agnhost ${KUBE_VERSION} ${AGNHOST_VERSION}"; sed -n '/^build_agnhost()/,/^}/p' "$0"; } | key_of ;;
    mariadb) { echo "rootfs ${ROOTFS_REVISION}"; cat "${IMAGES_SRC}/mariadb/"*; sed -n '/^build_mariadb()/,/^}/p' "$0"; } | key_of ;;
    redis) { echo "rootfs ${ROOTFS_REVISION}"; sed -n '/^build_redis()/,/^}/p' "$0"; } | key_of ;;
    # The plan names the base images' tags (Node, npm, rootfs revision) and the inputs; see dockerfile_plan.
    shop | operator) dockerfile_key "$1" ;;
  esac
}

archive_of() { echo "${IMG_CACHE}/$1-$(image_key "$1").tar"; }

NODE_BIN="${REPO_ROOT}/node_modules/node/bin/node"
node_binary_version() { "$NODE_BIN" --version; }

# ---- root filesystems ---------------------------------------------------------------------------------------------

# rootfs VARIANT PACKAGES → prints the path of a cached tarball of a debootstrapped Debian (minbase + PACKAGES).
rootfs() {
  local variant="$1" packages="$2" tar dir start
  tar="${IMG_CACHE}/rootfs-${DEBIAN_SUITE}-${variant}-r${ROOTFS_REVISION}.tar"
  if [[ -f "$tar" && "${SAPP_FORCE_REBUILD:-0}" != 1 ]]; then echo "$tar"; return 0; fi
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  start="$(now)"
  dir="$(mktemp -d "${IMG_CACHE}/rootfs-${variant}.XXXXXX")"
  mkdir -p "${IMG_CACHE}/debs"
  log "debootstrap ${DEBIAN_SUITE} minbase + ${packages:-nothing} (${DEBIAN_MIRROR})"
  # debootstrap mounts /proc (and /sys) in the target while it configures packages and unmounts them at the end.
  if ! debootstrap --variant=minbase --include="ca-certificates${packages:+,${packages}}" \
    --cache-dir="${IMG_CACHE}/debs" "$DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR" >"${dir}.log" 2>&1; then
    tail -n 30 "${dir}.log" >&2
    umount_under "$dir"
    rm -rf "$dir"
    die "debootstrap failed (log above)"
  fi
  umount_under "$dir"
  # Smaller images: no package lists, caches, docs or logs.
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/var/cache/debconf/*-old "$dir"/var/log/* \
    "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/locale/*
  tar -C "$dir" --numeric-owner -cf "${tar}.tmp" .
  rm -rf "$dir" "${dir}.log"
  mv -f "${tar}.tmp" "$tar"
  log "rootfs ${variant}: $(du -h "$tar" | cut -f1) in $(($(now) - start)) s"
  echo "$tar"
}

umount_under() {
  local m
  # Deepest first.
  for m in $(findmnt -rn -o TARGET | grep -F -- "$1" | sort -r); do umount -l "$m" 2>/dev/null || true; done
}

# Gives a Debian system user uid/gid 999 (what the operator's pods run as: runAsUser 999), and its files with it.
set_uid_999() { # rootfs user
  local root="$1" user="$2" old_uid old_gid
  old_uid="$(awk -F: -v u="$user" '$1 == u {print $3}' "$root/etc/passwd")"
  old_gid="$(awk -F: -v u="$user" '$1 == u {print $4}' "$root/etc/passwd")"
  [[ -n "$old_uid" ]] || die "no user $user in the rootfs"
  sed -i -E "s/^(${user}:[^:]*:)${old_uid}:${old_gid}:/\\1999:999:/" "$root/etc/passwd"
  sed -i -E "s/^(${user}:[^:]*:)${old_gid}:/\\1999:/" "$root/etc/group"
  find "$root" -xdev \( -uid "$old_uid" -o -gid "$old_gid" \) -exec chown -h 999:999 {} + 2>/dev/null || true
}

# ---- assembling with buildah ---------------------------------------------------------------------------------------

# commit_archive NAME CONTAINER: commit the working container as the image's reference and save the archive.
commit_archive() {
  buildah_ commit --quiet --format docker --rm "$2" "$(image_ref "$1")" >/dev/null
  save_archive "$1"
}

# save_archive NAME: the image's reference in buildah's storage → its docker-archive file (then untagged).
save_archive() {
  local name="$1" ref out
  ref="$(image_ref "$name")"
  out="$(archive_of "$name")"
  rm -f "${out}.tmp"
  buildah_ push --quiet "$ref" "docker-archive:${out}.tmp:${ref}" >/dev/null
  # The archive is the cache; vfs storage would keep a second full copy of every layer.
  buildah_ rmi "$ref" >/dev/null
  # Older archives of this image go; the new one replaces them.
  find "$IMG_CACHE" -maxdepth 1 -name "${name}-*.tar" ! -name "$(basename "$out")" -delete
  mv -f "${out}.tmp" "$out"
}

new_container() { # from-image → container id
  buildah_ from --quiet --pull-never "$1"
}

# A container from a rootfs tarball.
container_from_rootfs() { # tarball
  local ctr mnt
  ctr="$(new_container scratch)"
  mnt="$(buildah_ mount "$ctr")"
  tar -C "$mnt" --numeric-owner -xf "$1"
  echo "$ctr"
}

static_binary_image() { # name binary-path entrypoint-name user
  local name="$1" bin="$2" entry="$3" user="$4" ctr mnt
  ctr="$(new_container scratch)"
  mnt="$(buildah_ mount "$ctr")"
  mkdir -p "$mnt/etc" "$mnt/tmp"
  chmod 1777 "$mnt/tmp"
  printf 'root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' >"$mnt/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$mnt/etc/group"
  install -m 0755 "$bin" "$mnt/${entry}"
  buildah_ config --entrypoint "[\"/${entry}\"]" --cmd '[]' --user "$user" \
    --label "org.opencontainers.image.source=scalable-app-operator/hack/node-images.sh" "$ctr"
  commit_archive "$name" "$ctr"
}

go_tool() { # dir package@version [ldflags [VAR=value...]] → binary dir (cached in the per-user bin cache)
  local dest="$1" pkg="$2" ldflags="${3:-}" go tmp
  local extra_env=("${@:4}")
  if [[ -d "$dest" ]] && compgen -G "$dest/*" >/dev/null; then echo "$dest"; return 0; fi
  go="$(find_go)"
  mkdir -p "${SAPP_CACHE_DIR}/build"
  # Not next to $dest: hack/build-binaries.sh removes leftover *.tmp.* directories of the bin cache, and it may
  # run (for the control plane) while this builds. Called as $(go_tool ...), so failures are checked by hand.
  tmp="$(mktemp -d "${SAPP_CACHE_DIR}/build/gobin.XXXXXX")" || die "cannot create a build directory"
  log "go install ${pkg}"
  # A line every 30 s while the compiler runs (Traefik takes minutes on two cores).
  go_progress "$pkg" "$(now)" &
  local ticker=$!
  if ! (
    cd "${SAPP_CACHE_DIR}/build"
    env CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOBIN="$tmp" GOFLAGS="-buildvcs=false" "${extra_env[@]}" \
      nice -n 10 "$go" install -trimpath -ldflags "-s -w ${ldflags}" "$pkg"
  ) >&2 || ! compgen -G "$tmp/*" >/dev/null; then
    kill "$ticker" 2>/dev/null || true
    rm -rf "$tmp"
    die "go install ${pkg} failed"
  fi
  kill "$ticker" 2>/dev/null || true
  mkdir -p "$dest"
  mv -f "$tmp"/* "$dest"/ || die "cannot move ${pkg} into ${dest}"
  rmdir "$tmp"
  echo "$dest"
}

go_progress() { # package start-epoch: step 1 of 2 is the go install, step 2 the image
  while sleep 30; do log "${1}: compiling (step 1 of 2; step 2: the image) ... $(($(now) - $2)) s elapsed"; done
}

build_pause() {
  local go tmp
  go="$(find_go)"
  tmp="$(mktemp -d)"
  (cd "${IMAGES_SRC}/pause" && CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS=-buildvcs=false \
    "$go" build -trimpath -ldflags "-s -w" -o "$tmp/pause" .)
  static_binary_image pause "$tmp/pause" pause 65535:65535
  rm -rf "$tmp"
}

build_coredns() {
  local dir
  dir="$(go_tool "${BIN_ROOT}/coredns-${COREDNS_VERSION}" "github.com/coredns/coredns@${COREDNS_VERSION}")"
  # Port 53: the pod runs it as root with only NET_BIND_SERVICE (see e2e/node/addons.yaml).
  static_binary_image coredns "$dir/coredns" coredns 0:0
}

build_metrics_server() {
  local dir
  # The module proxy here serves metrics-server v0.8.0 but its checksum database has no entry for it (404): only
  # this one module skips the sum.golang.org lookup; the proxy's own go.sum for its dependencies still applies.
  dir="$(go_tool "${BIN_ROOT}/metrics-server-${METRICS_SERVER_VERSION}" \
    "sigs.k8s.io/metrics-server/cmd/metrics-server@${METRICS_SERVER_VERSION}" \
    "-X sigs.k8s.io/metrics-server/pkg/version.gitVersion=${METRICS_SERVER_VERSION}" \
    GONOSUMDB=sigs.k8s.io/metrics-server)"
  static_binary_image metrics-server "$dir/metrics-server" metrics-server 65534:65534
}

# go_module_build DIR MODULE@VERSION PACKAGE [ldflags [prepare]] → binary dir (cached): for modules whose go.mod has
# replace directives, which `go install pkg@version` refuses: the module's source from the proxy, built as the main
# module (after `prepare SRC-DIR`, when given).
go_module_build() {
  local dest="$1" mod="$2" pkg="$3" ldflags="${4:-}" prepare="${5:-}" go src tmp ticker
  if [[ -d "$dest" ]] && compgen -G "$dest/*" >/dev/null; then echo "$dest"; return 0; fi
  go="$(find_go)"
  mkdir -p "${SAPP_CACHE_DIR}/build"
  tmp="$(mktemp -d "${SAPP_CACHE_DIR}/build/gomod.XXXXXX")" || die "cannot create a build directory"
  log "go mod download ${mod}"
  src="$(cd "$tmp" && GOFLAGS=-mod=mod GOTOOLCHAIN=local "$go" mod download -json "$mod" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  [[ -n "$src" && -d "$src" ]] || { rm -rf "$tmp"; die "go mod download ${mod} failed"; }
  cp -r "$src" "$tmp/src" && chmod -R u+w "$tmp/src"
  [[ -z "$prepare" ]] || "$prepare" "$tmp/src" || { rm -rf "$tmp"; die "${prepare} failed"; }
  log "go build ${pkg}"
  go_progress "$pkg" "$(now)" &
  ticker=$!
  if ! (
    cd "$tmp/src"
    env CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS="-buildvcs=false -mod=mod" \
      nice -n 10 "$go" build -trimpath -ldflags "-s -w ${ldflags}" -o "$tmp/bin/" "$pkg"
  ) >&2 || ! compgen -G "$tmp/bin/*" >/dev/null; then
    kill "$ticker" 2>/dev/null || true
    rm -rf "$tmp"
    die "go build ${pkg} failed"
  fi
  kill "$ticker" 2>/dev/null || true
  mkdir -p "$dest"
  mv -f "$tmp"/bin/* "$dest"/ || die "cannot move ${pkg} into ${dest}"
  rm -rf "$tmp"
  echo "$dest"
}

# The module proxy here answers 403 for 14 of Traefik's dependencies: 13 SDKs of lego's ACME DNS-challenge
# providers, and Traefik's fork of go-http-auth. Traefik is built with a copy of lego without those 13 providers
# (alidns, aliesa, azion, dnsimple, edgedns, edgeone, huaweicloud, oraclecloud, regfish, sakuracloud,
# tencentcloud, ucloud, yandexcloud: naming one in a certificate resolver is an error) and with upstream
# go-http-auth v0.4.0 plus what the fork adds (basic and digest auth middlewares). Nothing of this is on the
# Ingress path.
TRAEFIK_MISSING_DNS_PROVIDERS=(alidns aliesa azion dnsimple edgedns edgeone huaweicloud oraclecloud regfish sakuracloud
  tencentcloud ucloud yandexcloud)
traefik_prepare() { # traefik source dir
  local src="$1" go lego auth p gen
  go="$(find_go)"
  lego="$(cd "$src" && GOFLAGS=-mod=mod GOTOOLCHAIN=local "$go" mod download -json github.com/go-acme/lego/v5 |
    sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  [[ -n "$lego" && -d "$lego" ]] || return 1
  cp -r "$lego" "$src/_lego" && chmod -R u+w "$src/_lego"
  gen="$src/_lego/providers/dns/zz_gen_dns_providers.go"
  for p in "${TRAEFIK_MISSING_DNS_PROVIDERS[@]}"; do
    rm -rf "$src/_lego/providers/dns/$p"
    sed -i -e "\|\"github.com/go-acme/lego/v5/providers/dns/${p}\"|d" -e "/return ${p}\.NewDNSProvider()/d" "$gen"
  done
  # A case left without its return would fall through to nothing: drop the now empty cases too.
  python3 - "$gen" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r'^\tcase [^\n]*:\n(?=\tcase |\tdefault:)', '', s, flags=re.M)
open(p, 'w').write(s)
PY
  # The nested module ./pkg/config/dynamic/ext (go.mod replaces it by that directory) is not in the module's zip,
  # nor on the proxy: it holds the open-source build's empty extension points, written here.
  mkdir -p "$src/pkg/config/dynamic/ext"
  printf 'module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24.0\n' >"$src/pkg/config/dynamic/ext/go.mod"
  cat >"$src/pkg/config/dynamic/ext/ext.go" <<'GO'
// Package ext: extension points of Traefik's dynamic configuration, empty in the open-source build.
package ext

type HTTP struct{}

type Router struct{}

type RouterIng struct{}

func (RouterIng) ToRouter() Router { return Router{} }
GO
  # Upstream go-http-auth v0.4.0 with the two functions Traefik's fork adds: CheckSecret (a password against an
  # htpasswd secret, by the secret's prefix as CheckAuth does) and RequireAuthStale (a 401 again; the fork also
  # marks the nonce stale).
  auth="$(cd "$src" && GOFLAGS=-mod=mod GOTOOLCHAIN=local "$go" mod download -json github.com/abbot/go-http-auth@v0.4.0 |
    sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  [[ -n "$auth" && -d "$auth" ]] || return 1
  cp -r "$auth" "$src/_goauth" && chmod -R u+w "$src/_goauth"
  [[ -f "$src/_goauth/go.mod" ]] || printf 'module github.com/abbot/go-http-auth\n\ngo 1.12\n\nrequire golang.org/x/net v0.58.0\n' >"$src/_goauth/go.mod"
  cat >"$src/_goauth/traefik_fork.go" <<'GO'
package auth

import (
	"net/http"
	"strings"
)

// CheckSecret reports whether password matches an htpasswd secret (MD5, {SHA} or bcrypt, by its prefix).
func CheckSecret(password, secret string) bool {
	compare := compareFuncs[0].compare
	for _, cmp := range compareFuncs[1:] {
		if strings.HasPrefix(secret, cmp.prefix) {
			compare = cmp.compare
			break
		}
	}
	return compare([]byte(secret), []byte(password)) == nil
}

// RequireAuthStale asks for credentials again.
func (a *DigestAuth) RequireAuthStale(w http.ResponseWriter, r *http.Request) { a.RequireAuth(w, r) }
GO
  (cd "$src" && GOTOOLCHAIN=local "$go" mod edit -replace "github.com/go-acme/lego/v5=./_lego" \
    -replace "github.com/abbot/go-http-auth=./_goauth")
}

build_traefik() {
  local dir
  # Its go.mod replaces two forks: built from the module's source (go_module_build), not go install.
  dir="$(go_module_build "${BIN_ROOT}/traefik-${TRAEFIK_VERSION}" "github.com/traefik/traefik/v3@${TRAEFIK_VERSION}" \
    ./cmd/traefik "-X github.com/traefik/traefik/v3/pkg/version.Version=${TRAEFIK_VERSION}" traefik_prepare)"
  log "traefik: step 2 of 2: image"
  # Listens on 8000/8443 (unprivileged ports): the pod runs it as nobody with no capabilities.
  static_binary_image traefik "$dir/traefik" traefik 65534:65534
}

build_mariadb() {
  local tar ctr mnt
  tar="$(rootfs mariadb mariadb-server,mariadb-client)"
  ctr="$(container_from_rootfs "$tar")"
  mnt="$(buildah_ mount "$ctr")"
  set_uid_999 "$mnt" mysql
  # Like the official image: an empty data directory (a volume goes there), a socket directory anyone may use,
  # no bind-address (the server listens on the network; the operator's config decides the rest), and the
  # operator's conf.d read last so that it has the final say.
  rm -rf "$mnt/var/lib/mysql" && mkdir -p "$mnt/var/lib/mysql" "$mnt/run/mysqld" "$mnt/docker-entrypoint-initdb.d"
  chown 999:999 "$mnt/var/lib/mysql" "$mnt/run/mysqld"
  chmod 1777 "$mnt/run/mysqld"
  sed -i -E 's/^(bind-address|log_error|user)\b/#&/' "$mnt/etc/mysql/mariadb.conf.d/50-server.cnf"
  cat >"$mnt/etc/mysql/my.cnf" <<'EOF'
# The local node's MariaDB image (hack/node-images.sh): Debian's packaging, then the pod's conf.d last.
[client-server]
socket = /run/mysqld/mysqld.sock
!includedir /etc/mysql/mariadb.conf.d/
!includedir /etc/mysql/conf.d/
EOF
  mkdir -p "$mnt/etc/mysql/conf.d"
  install -m 0755 "${IMAGES_SRC}/mariadb/docker-entrypoint.sh" "$mnt/usr/local/bin/docker-entrypoint.sh"
  buildah_ config --entrypoint '["docker-entrypoint.sh"]' --cmd '["mariadbd"]' --user 999:999 \
    --port 3306 --env LANG=C.UTF-8 "$ctr"
  commit_archive mariadb "$ctr"
}

build_redis() {
  local tar ctr mnt
  tar="$(rootfs redis redis-server,redis-tools)"
  ctr="$(container_from_rootfs "$tar")"
  mnt="$(buildah_ mount "$ctr")"
  set_uid_999 "$mnt" redis
  mkdir -p "$mnt/data"
  chown 999:999 "$mnt/data"
  buildah_ config --entrypoint '[]' --cmd '["redis-server"]' --user 999:999 --workingdir /data --port 6379 "$ctr"
  commit_archive redis "$ctr"
}

# ---- the shop and the operator: the repository's Dockerfiles, built with `buildah bud` --------------------------
#
# The Dockerfiles name their base images by build arguments (defaults: the public node:24 images). Here both are
# built on this machine and kept in buildah's storage (not archives):
#   node-base   the runtime base (BASE_IMAGE): Debian minbase + Node 24 (the npm package `node`) + the `node` user
#   node-build  the build stages' image (BUILD_IMAGE, the shop's NODE_IMAGE): node-base + npm ${NPM_VERSION}, run as
#               root with NODE_ENV unset like the official image, and npm configured with this machine's registry
#               and CA bundle (the build stages' `npm install` reaches the registry the way npm on this machine does)
NODE_BASE_REF="localhost/sapp/node-base"
NODE_BUILD_REF="localhost/sapp/node-build"
NPM_VERSION="11.19.1"

node_base_ref() { echo "${NODE_BASE_REF}:$(node_binary_version)-r${ROOTFS_REVISION}"; }

# What the build image takes from this machine: its npm registry and CA bundle (a change makes a new tag).
npm_registry() { npm config get registry 2>/dev/null || echo "https://registry.npmjs.org/"; }
node_build_ref() {
  local conf
  conf="$({ npm_registry; cat /etc/ssl/certs/ca-certificates.crt; sed -n '/^node_build()/,/^}/p' "$0"; } | key_of | cut -c1-8)"
  echo "${NODE_BUILD_REF}:$(node_binary_version)-npm${NPM_VERSION}-r${ROOTFS_REVISION}-${conf}"
}

have_image() { buildah_ inspect --type image "$1" >/dev/null 2>&1; }

node_base() {
  local ref tar ctr mnt
  ref="$(node_base_ref)"
  if have_image "$ref"; then echo "$ref"; return 0; fi
  [[ -x "$NODE_BIN" ]] || die "no Node binary at ${NODE_BIN} (npm install: the \`node\` package)"
  log "base image ${ref}: Debian minbase + Node $(node_binary_version)"
  tar="$(rootfs base "")"
  ctr="$(container_from_rootfs "$tar")"
  mnt="$(buildah_ mount "$ctr")"
  # The official images' `node` user, by number (runAsNonRoot verifies it).
  echo 'node:x:1000:1000::/home/node:/bin/bash' >>"$mnt/etc/passwd"
  echo 'node:x:1000:' >>"$mnt/etc/group"
  mkdir -p "$mnt/home/node" && chown 1000:1000 "$mnt/home/node"
  # Without the debug sections the binary is a quarter of its npm size.
  strip --strip-debug -o "$mnt/usr/local/bin/node" "$NODE_BIN"
  chmod 0755 "$mnt/usr/local/bin/node"
  buildah_ config --env NODE_ENV=production --user 1000:1000 "$ctr" >/dev/null
  buildah_ commit --quiet --format docker --rm "$ctr" "$ref" >/dev/null
  echo "$ref"
}

node_build() {
  local base ref tgz ctr mnt
  base="$(node_base)"
  ref="$(node_build_ref)"
  if have_image "$ref"; then echo "$ref"; return 0; fi
  log "base image ${ref}: node-base + npm ${NPM_VERSION}"
  tgz="${IMG_CACHE}/npm-${NPM_VERSION}.tgz"
  if [[ ! -f "$tgz" ]]; then
    (cd "$IMG_CACHE" && npm pack --silent "npm@${NPM_VERSION}" >/dev/null) || die "npm pack npm@${NPM_VERSION} failed"
  fi
  ctr="$(new_container "$base")"
  mnt="$(buildah_ mount "$ctr")"
  # npm's tarball bundles its dependencies; laid out as the official images have it.
  mkdir -p "$mnt/usr/local/lib/node_modules/npm" "$mnt/usr/local/etc"
  tar -xzf "$tgz" -C "$mnt/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
  install -m 0644 /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/ca-certificates.crt"
  printf 'registry=%s\ncafile=/etc/ssl/certs/ca-certificates.crt\nupdate-notifier=false\n' "$(npm_registry)" \
    >"$mnt/usr/local/etc/npmrc"
  buildah_ config --env NODE_ENV- --user 0:0 "$ctr" >/dev/null
  buildah_ commit --quiet --format docker --rm "$ctr" "$ref" >/dev/null
  echo "$ref"
}

# What `buildah bud` gets for IMAGE (shop, operator), one "key value" a line: the Dockerfile, its ignore file, the
# build arguments, and the inputs whose content keys the archive (the build context the ignore file lets in, the
# Dockerfile itself). `hack/node-images.sh dockerfile IMAGE` prints it; scripts/dockerfile.test.ts checks it.
dockerfile_plan() {
  local base build i
  base="$(node_base_ref)"
  build="$(node_build_ref)"
  case "$1" in
    operator)
      printf 'file Dockerfile\nignorefile .dockerignore\n'
      printf 'build-arg BUILD_IMAGE=%s\nbuild-arg BASE_IMAGE=%s\n' "$build" "$base"
      for i in Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json \
        scripts/copy-assets.ts src examples/shop-app/package.json; do echo "input $i"; done
      ;;
    shop)
      printf 'file examples/shop-app/Dockerfile\nignorefile examples/shop-app/Dockerfile.dockerignore\n'
      printf 'build-arg NODE_IMAGE=%s\nbuild-arg BASE_IMAGE=%s\n' "$build" "$base"
      for i in examples/shop-app/Dockerfile examples/shop-app/Dockerfile.dockerignore package.json package-lock.json \
        examples/shop-app/package.json examples/shop-app/tsconfig.json examples/shop-app/src; do echo "input $i"; done
      ;;
    *) die "no Dockerfile for '$1' (operator, shop)" ;;
  esac
}

plan_values() { dockerfile_plan "$1" | sed -n "s/^$2 //p"; } # IMAGE KEY → its values, one a line

dockerfile_key() {
  local inputs
  mapfile -t inputs < <(plan_values "$1" input)
  { dockerfile_plan "$1"; hash_tree "${inputs[@]}"; sed -n '/^dockerfile_build()/,/^}/p' "$0"; } | key_of
}

# buildah bud of IMAGE's Dockerfile (context: the repository root) after building the base images; a line for
# every step as it starts and every 30 s while one runs, the whole output in the build log.
dockerfile_build() {
  local name="$1" file ignorefile out start ticker args=() a
  file="$(plan_values "$name" file)"
  ignorefile="$(plan_values "$name" ignorefile)"
  node_build >/dev/null
  while IFS= read -r a; do args+=(--build-arg "$a"); done < <(plan_values "$name" build-arg)
  out="${IMG_CACHE}/${name}-bud.log"
  start="$(now)"
  log "${name}: buildah bud -f ${file} (${args[*]})"
  bud_progress "$name" "$out" "$start" "$(dockerfile_steps "${REPO_ROOT}/${file}")" &
  ticker=$!
  # --network host: the build stages' `npm install` needs the registry, and the node's CNI is left alone. npm's
  # download cache (root's ~/.npm in the build stages) is a directory of the per-user cache mounted into every RUN
  # step: a rebuild downloads nothing already fetched; the image does not contain it.
  mkdir -p "${IMG_CACHE}/npm-cache"
  # Niced (its RUN steps inherit it): the tests of others share these cores.
  if ! (cd "$REPO_ROOT" && renice -n 10 -p "$BASHPID" >/dev/null && buildah_ bud --file "$file" --ignorefile "$ignorefile" \
    --pull-never --network host --format docker --layers=false --volume "${IMG_CACHE}/npm-cache:/root/.npm" \
    --tag "$(image_ref "$name")" "${args[@]}" .) >"$out" 2>&1; then
    kill "$ticker" 2>/dev/null || true
    tail -n 40 "$out" >&2
    die "buildah bud -f ${file} failed (the whole log: ${out})"
  fi
  kill "$ticker" 2>/dev/null || true
  save_archive "$name"
}

# Instructions from the first FROM on (buildah's STEP lines: one per instruction, FROM included).
dockerfile_steps() { awk '/^FROM /{f=1} f && /^[A-Z]+ /{n++} END{print n}' "$1"; }

bud_progress() { # name log start total-steps
  local seen=0 tick n line
  tick="$(now)"
  while sleep 2; do
    n="$(grep -cE '^(\[[0-9]+/[0-9]+\] )?STEP [0-9]+/[0-9]+: ' "$2" 2>/dev/null || true)"
    if ((n > seen)); then
      grep -E '^(\[[0-9]+/[0-9]+\] )?STEP [0-9]+/[0-9]+: ' "$2" | sed -n "$((seen + 1)),${n}p" | while IFS= read -r line; do
        seen=$((seen + 1))
        log "$1: step ${seen} of $4 (${line:0:90}) ... $(($(now) - $3)) s"
      done
      seen="$n"
      tick="$(now)"
    elif (($(now) - tick >= 30)); then
      line="$(grep -E '^(\[[0-9]+/[0-9]+\] )?STEP [0-9]+/[0-9]+: ' "$2" | tail -n1)"
      log "$1: step ${seen} of $4 (${line:0:90}) still running ... $(($(now) - $3)) s"
      tick="$(now)"
    fi
  done
}

build_shop() { dockerfile_build shop; }

build_operator() { dockerfile_build operator; }

# Kubernetes' agnhost, built in a copy of hack/build-binaries.sh's wrapper module for k8s.io/kubernetes (its Go
# build cache makes this seconds once the node's binaries are built; go.sum gains agnhost's few extra modules).
build_agnhost() {
  local go src dir tmp ctr mnt
  go="$(find_go)"
  src="$("$go" env GOMODCACHE)/k8s.io/kubernetes@${KUBE_VERSION}/test/images/agnhost"
  [[ -f "${SAPP_CACHE_DIR}/build/kubernetes-${KUBE_VERSION}/go.mod" ]] ||
    bash "${HACK_DIR}/build-binaries.sh" kubernetes >&2
  [[ "$(cat "$src/VERSION" 2>/dev/null)" == "$AGNHOST_VERSION" ]] ||
    die "agnhost of Kubernetes ${KUBE_VERSION} is $(cat "$src/VERSION" 2>/dev/null || echo missing), not ${AGNHOST_VERSION}: update AGNHOST_VERSION and examples/minimal.yaml"
  dir="${SAPP_CACHE_DIR}/build/agnhost-${KUBE_VERSION}"
  mkdir -p "$dir"
  sed 's#^module .*#module sapp.local/agnhost-build#' "${SAPP_CACHE_DIR}/build/kubernetes-${KUBE_VERSION}/go.mod" >"$dir/go.mod"
  cp -f "${SAPP_CACHE_DIR}/build/kubernetes-${KUBE_VERSION}/go.sum" "$dir/go.sum" 2>/dev/null || true
  tmp="$(mktemp -d)"
  go_progress agnhost "$(now)" &
  local ticker=$!
  if ! (cd "$dir" && CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS="-buildvcs=false -mod=mod" \
    nice -n 10 "$go" build -trimpath -ldflags "-s -w" -o "$tmp/agnhost" k8s.io/kubernetes/test/images/agnhost) >&2; then
    kill "$ticker" 2>/dev/null || true
    rm -rf "$tmp"
    die "go build agnhost failed"
  fi
  kill "$ticker" 2>/dev/null || true
  ctr="$(new_container scratch)"
  mnt="$(buildah_ mount "$ctr")"
  mkdir -p "$mnt/tmp" && chmod 1777 "$mnt/tmp"
  install -m 0755 "$tmp/agnhost" "$mnt/agnhost"
  # As upstream: entrypoint /agnhost, CMD pause, no USER (root; a pod under runAsNonRoot must name a runAsUser).
  buildah_ config --entrypoint '["/agnhost"]' --cmd '["pause"]' --port 8080 \
    --label "org.opencontainers.image.source=scalable-app-operator/hack/node-images.sh" "$ctr"
  commit_archive agnhost "$ctr"
  rm -rf "$tmp"
}

build_one() {
  local name="$1" out start
  out="$(archive_of "$name")"
  if [[ -f "$out" && "${SAPP_FORCE_REBUILD:-0}" != 1 ]]; then
    log "${name}: cached ($(basename "$out"))"
    return 0
  fi
  start="$(now)"
  log "${name}: building $(image_ref "$name")"
  case "$name" in
    pause) build_pause ;;
    coredns) build_coredns ;;
    metrics-server) build_metrics_server ;;
    traefik) build_traefik ;;
    mariadb) build_mariadb ;;
    redis) build_redis ;;
    shop) build_shop ;;
    operator) build_operator ;;
    agnhost) build_agnhost ;;
  esac
  log "${name}: $(du -h "$out" | cut -f1) in $(($(now) - start)) s"
}

cmd_build() {
  command -v buildah >/dev/null || die "buildah is not installed (apt-get install buildah)"
  mkdir -p "$IMG_CACHE" "$BUILDAH_ROOT" "$BUILDAH_RUNROOT"
  exec 7>"${IMG_CACHE}/.lock"
  flock -w 3600 7 || die "timed out waiting for ${IMG_CACHE}/.lock"
  # Leftover working containers of an interrupted build.
  buildah_ rm --all >/dev/null 2>&1 || true
  local name
  for name in "$@"; do build_one "$name"; done
}

# The image's manifest digest (config digest) in an archive, to compare with what containerd has.
archive_config_digest() {
  tar -xOf "$1" manifest.json | sed -n 's/.*"Config":"\([^"]*\)\.json".*/sha256:\1/p'
}

cmd_import() {
  cmd_build "$@"
  [[ -S "$CONTAINERD_ADDRESS" ]] || die "containerd is not running at ${CONTAINERD_ADDRESS} (hack/node.sh up)"
  local name ref out have want
  for name in "$@"; do
    ref="$(image_ref "$name")"
    out="$(archive_of "$name")"
    want="$(archive_config_digest "$out")"
    have="$(ctr -a "$CONTAINERD_ADDRESS" -n k8s.io images ls "name==${ref}" 2>/dev/null | awk 'NR > 1 {print $3}')"
    if [[ -n "$have" ]] && ctr -a "$CONTAINERD_ADDRESS" -n k8s.io content get "$have" 2>/dev/null | grep -qF "$want"; then
      log "${name}: ${ref} already imported"
      continue
    fi
    log "${name}: importing ${ref}"
    ctr -a "$CONTAINERD_ADDRESS" -n k8s.io images import "$out" >/dev/null
  done
}

cmd_list() {
  local name out
  printf '%-16s %-52s %s\n' IMAGE REFERENCE ARCHIVE
  for name in "${ALL_IMAGES[@]}"; do
    out="$(archive_of "$name")"
    [[ -f "$out" ]] || out="(not built)"
    printf '%-16s %-52s %s\n' "$name" "$(image_ref "$name")" "$out"
  done
}

cmd_purge() {
  rm -rf "$IMG_CACHE"
  if [[ -d "$BUILDAH_ROOT" ]]; then
    buildah_ rm --all >/dev/null 2>&1 || true
    buildah_ rmi --all --force >/dev/null 2>&1 || true
    rm -rf "${NODE_ROOT}/buildah" "$BUILDAH_RUNROOT"
  fi
  log "purged ${IMG_CACHE} and ${NODE_ROOT}/buildah"
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  (($# > 0)) || set -- "${ALL_IMAGES[@]}"
  case "$cmd" in
    build) cmd_build "$@" ;;
    import) cmd_import "$@" ;;
    list) cmd_list ;;
    purge) cmd_purge ;;
    --print-env) print_env ;;
    dockerfile) (($# == 1)) || die "usage: dockerfile operator|shop"; dockerfile_plan "$1" ;;
    -h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

main "$@"
