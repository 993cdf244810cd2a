#!/usr/bin/env bash
# A local Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) with kwok fake nodes, run as host
# processes. See hack/README.md.
#
# Usage:
#   hack/cluster.sh up                 start (or repair) the cluster; a fast
#                                      no-op when it is already up and healthy
#   hack/cluster.sh down [--keep-data] stop every process by its recorded PID;
#                                      removes etcd data and the audit log
#                                      unless --keep-data
#   hack/cluster.sh env                print export lines: eval "$(hack/cluster.sh env)"
#   hack/cluster.sh status             print the health of every component
#   hack/cluster.sh restart-apiserver  stop and start only kube-apiserver
#
# Environment (all optional):
#   SAPP_CLUSTER_DIR        state dir (default <repo>/.local/cluster)
#   SAPP_ETCD_PORT          etcd client port        (default 23790)
#   SAPP_ETCD_PEER_PORT     etcd peer port          (default 23800)
#   SAPP_APISERVER_PORT     kube-apiserver port     (default 26443)
#   SAPP_KCM_PORT           controller-manager port (default 26257)
#   SAPP_SCHEDULER_PORT     scheduler port          (default 26259)
#   SAPP_KWOK_PORT          kwok health/metrics     (default 26247)
#   SAPP_KWOK_NODES         number of fake nodes    (default 3)
#   SAPP_KWOK_VOLUMES=0     do not install kwok's fake volume provisioner
#                           (default StorageClass "kwok-volume")
#   SAPP_ETCD_FSYNC=1       let etcd fsync (default: --unsafe-no-fsync)
#   SAPP_APISERVER_EXTRA_ARGS  extra kube-apiserver flags (word-split)
#   SAPP_STOP_TIMEOUT       seconds between TERM and KILL (default 15)
#   KUBEBUILDER_ASSETS      use kube-apiserver/etcd/kubectl from there
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${HACK_DIR}/.." && pwd)"
STATE_DIR="${SAPP_CLUSTER_DIR:-${REPO_ROOT}/.local/cluster}"

ETCD_PORT="${SAPP_ETCD_PORT:-23790}"
ETCD_PEER_PORT="${SAPP_ETCD_PEER_PORT:-23800}"
APISERVER_PORT="${SAPP_APISERVER_PORT:-26443}"
KCM_PORT="${SAPP_KCM_PORT:-26257}"
SCHEDULER_PORT="${SAPP_SCHEDULER_PORT:-26259}"
KWOK_PORT="${SAPP_KWOK_PORT:-26247}"
KWOK_NODES="${SAPP_KWOK_NODES:-3}"
STOP_TIMEOUT="${SAPP_STOP_TIMEOUT:-15}"

POD_CIDR="198.18.0.0/16"
SERVICE_CIDR="198.19.0.0/16"
SERVICE_IP="198.19.0.1"
APISERVER_URL="https://127.0.0.1:${APISERVER_PORT}"

PKI="${STATE_DIR}/pki"
RUN="${STATE_DIR}/run"
LOGS="${STATE_DIR}/logs"
ETCD_DATA="${STATE_DIR}/etcd-data"
AUDIT_LOG="${STATE_DIR}/audit/audit.log"
AUDIT_POLICY="${STATE_DIR}/audit/policy.yaml"
KUBECONFIG_ADMIN="${STATE_DIR}/kubeconfig"
BOOTSTRAPPED="${RUN}/bootstrapped"

# Start order; `down` goes in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

LOG_TAG=cluster
# shellcheck source=hack/lib.sh
source "${HACK_DIR}/lib.sh"

# Exports KUBE_APISERVER_BIN, ETCD_BIN, KWOK_STAGE_DIR, ... ("build": build
# whatever is missing first; a no-op when everything is cached).
load_binaries() {
  if [[ "${1:-}" == build ]]; then
    "${HACK_DIR}/build-binaries.sh" kubernetes etcd kwok
  fi
  eval "$("${HACK_DIR}/build-binaries.sh" --print-env)"
}

# ---- processes --------------------------------------------------------------

# A component of this cluster carries its state dir in its arguments (guards against a recycled PID from a stale
# pid file, and against another cluster instance's processes).
pid_is_ours() { pid_alive_with "$1" "${STATE_DIR}/"; }
pid_is() { pid_is_ours "$2"; }

# PIDs of processes that carry this state dir in their arguments but are not
# recorded (e.g. after a crash of this script between start and pid write).
stray_pids() {
  local p pid
  for p in /proc/[0-9]*; do
    pid="${p#/proc/}"
    [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
    pid_is_ours "$pid" 2>/dev/null || continue
    # Only the cluster's own binaries, never a shell or editor that merely
    # mentions the path.
    case "$(readlink "/proc/${pid}/exe" 2>/dev/null)" in
      */etcd | */kube-apiserver | */kube-controller-manager | */kube-scheduler | */kwok) echo "$pid" ;;
    esac
  done
}

port_in_use() {
  local port="$1"
  ss -Hltn "sport = :${port}" 2>/dev/null | grep -q . && return 0
  return 1
}

# ---- health probes ----------------------------------------------------------

etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:${ETCD_PORT}/health" | grep -q '"health":"true"'; }

api_get() {
  curl -fsS --max-time 3 --cacert "${PKI}/ca.crt" --cert "${PKI}/admin.crt" --key "${PKI}/admin.key" "${APISERVER_URL}$1"
}
apiserver_ready() { api_get /readyz >/dev/null; }
local_healthz() { curl -fsSk --max-time 2 "https://127.0.0.1:$1/healthz" >/dev/null; }
kcm_healthy() { local_healthz "$KCM_PORT"; }
scheduler_healthy() { local_healthz "$SCHEDULER_PORT"; }
kwok_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:${KWOK_PORT}/healthz" >/dev/null; }

kubectl_() { "$KUBECTL_BIN" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# ---- certificates -----------------------------------------------------------

# new_cert NAME CA SUBJECT EXTENDED_KEY_USAGE [SANS]
new_cert() {
  local name="$1" ca="$2" subj="$3" eku="$4" sans="${5:-}" ext
  [[ -f "${PKI}/${name}.crt" && -f "${PKI}/${name}.key" ]] && return 0
  ext="$(mktemp)"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=${eku}"
    [[ -n "$sans" ]] && echo "subjectAltName=${sans}"
  } >"$ext"
  openssl ecparam -name prime256v1 -genkey -noout -out "${PKI}/${name}.key" 2>/dev/null
  openssl req -new -key "${PKI}/${name}.key" -subj "$subj" -out "${PKI}/${name}.csr" 2>/dev/null
  openssl x509 -req -in "${PKI}/${name}.csr" -CA "${PKI}/${ca}.crt" -CAkey "${PKI}/${ca}.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 3650 -extfile "$ext" \
    -out "${PKI}/${name}.crt" 2>/dev/null
  rm -f "$ext" "${PKI}/${name}.csr"
}

new_ca() {
  local name="$1" cn="$2"
  [[ -f "${PKI}/${name}.crt" && -f "${PKI}/${name}.key" ]] && return 0
  openssl ecparam -name prime256v1 -genkey -noout -out "${PKI}/${name}.key" 2>/dev/null
  openssl req -x509 -new -key "${PKI}/${name}.key" -subj "/CN=${cn}" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "${PKI}/${name}.crt" 2>/dev/null
}

gen_certs() {
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  new_ca ca sapp-local-ca
  new_ca front-proxy-ca sapp-local-front-proxy-ca
  new_cert apiserver ca "/CN=kube-apiserver" serverAuth \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:::1,IP:${SERVICE_IP}"
  new_cert admin ca "/O=system:masters/CN=sapp-admin" clientAuth
  new_cert controller-manager ca "/CN=system:kube-controller-manager" clientAuth
  new_cert scheduler ca "/CN=system:kube-scheduler" clientAuth
  # kwok writes node/pod status; its own identity keeps its writes apart
  # from the admin's in the audit log.
  new_cert kwok ca "/O=system:masters/CN=kwok-controller" clientAuth
  new_cert apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  new_cert front-proxy-client front-proxy-ca "/CN=front-proxy-client" clientAuth
  if [[ ! -f "${PKI}/sa.key" ]]; then
    openssl genrsa -out "${PKI}/sa.key" 2048 2>/dev/null
    openssl rsa -in "${PKI}/sa.key" -pubout -out "${PKI}/sa.pub" 2>/dev/null
  fi
  chmod 600 "${PKI}"/*.key
}

# write_kubeconfig FILE CERT_NAME USER
write_kubeconfig() {
  local file="$1" cert="$2" user="$3" tmp
  tmp="${file}.tmp"
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: sapp-local
  cluster:
    server: ${APISERVER_URL}
    certificate-authority-data: $(base64 -w0 <"${PKI}/ca.crt")
users:
- name: ${user}
  user:
    client-certificate-data: $(base64 -w0 <"${PKI}/${cert}.crt")
    client-key-data: $(base64 -w0 <"${PKI}/${cert}.key")
contexts:
- name: sapp-local
  context:
    cluster: sapp-local
    user: ${user}
current-context: sapp-local
EOF
  chmod 600 "$tmp"
  mv -f "$tmp" "$file"
}

write_configs() {
  write_kubeconfig "$KUBECONFIG_ADMIN" admin sapp-admin
  write_kubeconfig "${STATE_DIR}/controller-manager.kubeconfig" controller-manager system:kube-controller-manager
  write_kubeconfig "${STATE_DIR}/scheduler.kubeconfig" scheduler system:kube-scheduler
  write_kubeconfig "${STATE_DIR}/kwok.kubeconfig" kwok kwok-controller

  mkdir -p "$(dirname "$AUDIT_LOG")"
  cat >"$AUDIT_POLICY" <<'EOF'
# Generated by hack/cluster.sh. Logs every write (create, update, patch,
# delete, deletecollection) at Metadata level, so tests can count the writes
# of a client by user.username / objectRef. Reads are not logged. The control
# plane's own lease renewals (leader election is off, but node leases and
# apiserver identity leases remain) are left out as noise.
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
- RequestReceived
rules:
- level: None
  namespaces: ["kube-node-lease"]
  resources:
  - group: coordination.k8s.io
    resources: ["leases"]
- level: None
  users: ["system:apiserver", "system:kube-controller-manager", "system:kube-scheduler"]
  resources:
  - group: coordination.k8s.io
    resources: ["leases"]
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
EOF

  # kwok stages: node init + lease heartbeat, pods Running/Ready, completion,
  # deletion; optionally the fake volume provisioner.
  local s="$KWOK_STAGE_DIR" f cfg="${STATE_DIR}/kwok.yaml"
  {
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
      pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      echo "---"
      cat "${s}/${f}"
    done
    if [[ "${SAPP_KWOK_VOLUMES:-1}" == 1 ]]; then
      for f in pv-bind pv-delete pvc-provision pvc-delete; do
        echo "---"
        cat "${s}/volume/fast/${f}.yaml"
      done
    fi
  } >"${cfg}.tmp"
  mv -f "${cfg}.tmp" "$cfg"
}

# ---- components -------------------------------------------------------------

start_etcd() {
  local fsync=(--unsafe-no-fsync=true)
  [[ "${SAPP_ETCD_FSYNC:-0}" == 1 ]] && fsync=()
  mkdir -p "$ETCD_DATA"
  chmod 700 "$ETCD_DATA"
  # etcd takes every ETCD_* environment variable as a flag (and warns about
  # unknown ones, e.g. ETCD_BIN from `build-binaries.sh --print-env`).
  local v
  for v in $(compgen -e); do
    # shellcheck disable=SC2163 # un-export the variable named by $v
    [[ "$v" == ETCD_* ]] && export -n "$v"
  done
  start_process etcd "$ETCD_BIN" \
    --name=sapp-etcd \
    --data-dir="$ETCD_DATA" \
    --listen-client-urls="http://127.0.0.1:${ETCD_PORT}" \
    --advertise-client-urls="http://127.0.0.1:${ETCD_PORT}" \
    --listen-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-advertise-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster="sapp-etcd=http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster-state=new \
    --log-level=warn \
    "${fsync[@]}"
  wait_component etcd 60 etcd_healthy
}

start_apiserver() {
  local extra=()
  # shellcheck disable=SC2206 # word splitting is the documented behaviour
  [[ -n "${SAPP_APISERVER_EXTRA_ARGS:-}" ]] && extra=(${SAPP_APISERVER_EXTRA_ARGS})
  start_process kube-apiserver "$KUBE_APISERVER_BIN" \
    --etcd-servers="http://127.0.0.1:${ETCD_PORT}" \
    --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 \
    --endpoint-reconciler-type=none \
    --secure-port="$APISERVER_PORT" \
    --tls-cert-file="${PKI}/apiserver.crt" \
    --tls-private-key-file="${PKI}/apiserver.key" \
    --client-ca-file="${PKI}/ca.crt" \
    --kubelet-client-certificate="${PKI}/apiserver-kubelet-client.crt" \
    --kubelet-client-key="${PKI}/apiserver-kubelet-client.key" \
    --requestheader-client-ca-file="${PKI}/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="${PKI}/front-proxy-client.crt" \
    --proxy-client-key-file="${PKI}/front-proxy-client.key" \
    --authorization-mode=Node,RBAC \
    --allow-privileged=true \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="${PKI}/sa.pub" \
    --service-account-signing-key-file="${PKI}/sa.key" \
    --audit-policy-file="$AUDIT_POLICY" \
    --audit-log-path="$AUDIT_LOG" \
    --audit-log-format=json \
    --audit-log-maxsize=500 \
    --audit-log-maxbackup=2 \
    --shutdown-watch-termination-grace-period=3s \
    --v=1 \
    "${extra[@]}"
  wait_component kube-apiserver 120 apiserver_ready
}

start_controller_manager() {
  local kc="${STATE_DIR}/controller-manager.kubeconfig"
  start_process kube-controller-manager "$KUBE_CONTROLLER_MANAGER_BIN" \
    --kubeconfig="$kc" \
    --authentication-kubeconfig="$kc" \
    --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 \
    --secure-port="$KCM_PORT" \
    --cert-dir="${PKI}/controller-manager-serving" \
    --leader-elect=false \
    --cluster-cidr="$POD_CIDR" \
    --allocate-node-cidrs=false \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --service-account-private-key-file="${PKI}/sa.key" \
    --root-ca-file="${PKI}/ca.crt" \
    --cluster-signing-cert-file="${PKI}/ca.crt" \
    --cluster-signing-key-file="${PKI}/ca.key" \
    --use-service-account-credentials=true \
    --controllers='*' \
    --v=1
  wait_component kube-controller-manager 60 kcm_healthy
}

start_scheduler() {
  local kc="${STATE_DIR}/scheduler.kubeconfig"
  start_process kube-scheduler "$KUBE_SCHEDULER_BIN" \
    --kubeconfig="$kc" \
    --authentication-kubeconfig="$kc" \
    --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 \
    --secure-port="$SCHEDULER_PORT" \
    --cert-dir="${PKI}/scheduler-serving" \
    --leader-elect=false \
    --v=1
  wait_component kube-scheduler 60 scheduler_healthy
}

start_kwok() {
  start_process kwok "$KWOK_BIN" \
    --kubeconfig="${STATE_DIR}/kwok.kubeconfig" \
    --config="${STATE_DIR}/kwok.yaml" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr=198.18.0.0/16 \
    --node-ip=198.18.0.1 \
    --node-lease-duration-seconds=40 \
    --server-address="127.0.0.1:${KWOK_PORT}"
  wait_component kwok 60 kwok_healthy
}

ensure_component() {
  local name="$1"
  if is_running "$name"; then return 0; fi
  rm -f "$(pid_file "$name")"
  local port
  case "$name" in
    etcd) port="$ETCD_PORT" ;;
    kube-apiserver) port="$APISERVER_PORT" ;;
    kube-controller-manager) port="$KCM_PORT" ;;
    kube-scheduler) port="$SCHEDULER_PORT" ;;
    kwok) port="$KWOK_PORT" ;;
  esac
  if port_in_use "$port"; then
    die "port ${port} for ${name} is in use by another process (override with SAPP_*_PORT)"
  fi
  case "$name" in
    etcd) start_etcd ;;
    kube-apiserver) start_apiserver ;;
    kube-controller-manager) start_controller_manager ;;
    kube-scheduler) start_scheduler ;;
    kwok) start_kwok ;;
  esac
}

node_manifest() {
  local i="$1"
  cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-${i}
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-${i}
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
spec:
  podCIDR: 198.18.$((i + 1)).0/24
  podCIDRs:
  - 198.18.$((i + 1)).0/24
status:
  addresses:
  - type: InternalIP
    address: 198.18.0.$((i + 10))
  - type: Hostname
    address: kwok-node-${i}
  allocatable:
    cpu: "32"
    memory: 256Gi
    pods: "110"
  capacity:
    cpu: "32"
    memory: 256Gi
    pods: "110"
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: ${KUBE_VERSION}
    kubeProxyVersion: ${KUBE_VERSION}
EOF
}

bootstrap_objects() {
  local i missing=()
  for ((i = 0; i < KWOK_NODES; i++)); do
    kubectl_ get node "kwok-node-${i}" >/dev/null 2>&1 || missing+=("$i")
  done
  if ((${#missing[@]})); then
    for i in "${missing[@]}"; do
      echo "---"
      node_manifest "$i"
    done | kubectl_ create -f - >/dev/null
    log "created fake nodes: ${missing[*]/#/kwok-node-}"
  fi
  if [[ "${SAPP_KWOK_VOLUMES:-1}" == 1 ]]; then
    kubectl_ get storageclass kwok-volume >/dev/null 2>&1 ||
      kubectl_ create -f "${KWOK_STAGE_DIR}/volume/fast/storage-class.yaml" >/dev/null
  fi
  # The Gateway API CRDs (experimental channel), so HTTPRoutes can be applied and watched.
  KUBECONFIG="$KUBECONFIG_ADMIN" PATH="$(dirname "$KUBECTL_BIN"):${PATH}" "${HACK_DIR}/gateway-api.sh" install
}

default_sa_exists() { kubectl_ -n default get serviceaccount default; }
nodes_ready() {
  local n
  n="$(kubectl_ get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$' || true)"
  ((n >= KWOK_NODES))
}

all_running() {
  local c
  for c in "${COMPONENTS[@]}"; do is_running "$c" || return 1; done
}

# ---- commands ---------------------------------------------------------------

cmd_up() {
  local t0
  t0="$(now_ms)"
  load_binaries
  if [[ -f "$BOOTSTRAPPED" ]] && all_running && apiserver_ready; then
    # Asked for more fake nodes than it has (make bench sizes them for its pods): add them.
    [[ -z "${SAPP_KWOK_NODES:-}" ]] || bootstrap_objects
    log "already up ($(($(now_ms) - t0)) ms); KUBECONFIG=${KUBECONFIG_ADMIN}"
    return 0
  fi
  rm -f "$BOOTSTRAPPED"
  load_binaries build
  mkdir -p "$STATE_DIR" "$RUN" "$LOGS"
  # The state dir lives in the repo; keep it out of git even without a
  # .gitignore entry.
  [[ -f "${STATE_DIR}/.gitignore" ]] || echo '*' >"${STATE_DIR}/.gitignore"
  gen_certs
  write_configs
  local c
  for c in "${COMPONENTS[@]}"; do ensure_component "$c"; done
  bootstrap_objects
  wait_for "default ServiceAccount" 60 default_sa_exists || die "no default ServiceAccount"
  wait_for "kwok nodes Ready" 60 nodes_ready || die "kwok nodes did not become Ready"
  touch "$BOOTSTRAPPED"
  log "up in $(($(now_ms) - t0)) ms; KUBECONFIG=${KUBECONFIG_ADMIN}"
}

cmd_down() {
  local keep=0 a c i pid
  for a in "$@"; do
    case "$a" in
      --keep-data) keep=1 ;;
      *) die "unknown flag for down: $a" ;;
    esac
  done
  rm -f "$BOOTSTRAPPED"
  if [[ -d "$RUN" ]]; then
    for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
      c="${COMPONENTS[$i]}"
      stop_component "$c"
    done
  fi
  for pid in $(stray_pids); do
    log "stopping unrecorded process $pid ($(readlink "/proc/${pid}/exe" 2>/dev/null || echo '?'))"
    stop_pid "stray" "$pid"
  done
  if ((keep == 0)); then
    rm -rf "$ETCD_DATA"
    rm -f "$AUDIT_LOG" "${AUDIT_LOG%.log}"-*.log
    log "down; etcd data and audit log removed"
  else
    log "down; etcd data kept in ${ETCD_DATA}"
  fi
}

cmd_env() {
  load_binaries
  printf "export KUBECONFIG='%s'\n" "$KUBECONFIG_ADMIN"
  printf "export SAPP_CLUSTER_DIR='%s'\n" "$STATE_DIR"
  printf "export SAPP_AUDIT_LOG='%s'\n" "$AUDIT_LOG"
  printf "export SAPP_ETCD_URL='http://127.0.0.1:%s'\n" "$ETCD_PORT"
  printf "export PATH='%s':\"\${PATH}\"\n" "$SAPP_BIN_PATH"
}

cmd_status() {
  load_binaries
  local c pid rc=0 health
  printf '%-24s %-8s %s\n' COMPONENT PID HEALTH
  for c in "${COMPONENTS[@]}"; do
    if pid="$(running_pid "$c")"; then
      case "$c" in
        etcd) etcd_healthy && health=ok || health=unhealthy ;;
        kube-apiserver) apiserver_ready && health=ready || health=not-ready ;;
        kube-controller-manager) kcm_healthy && health=ok || health=unhealthy ;;
        kube-scheduler) scheduler_healthy && health=ok || health=unhealthy ;;
        kwok) kwok_healthy && health=ok || health=unhealthy ;;
      esac
    else
      pid=-
      health=stopped
    fi
    [[ "$health" == ok || "$health" == ready ]] || rc=1
    printf '%-24s %-8s %s\n' "$c" "$pid" "$health"
  done
  if apiserver_ready 2>/dev/null; then
    echo
    kubectl_ get nodes -o wide 2>/dev/null || true
  fi
  echo
  echo "state dir:  ${STATE_DIR}"
  echo "kubeconfig: ${KUBECONFIG_ADMIN}"
  echo "audit log:  ${AUDIT_LOG}"
  return "$rc"
}

cmd_restart_apiserver() {
  load_binaries
  is_running etcd || die "etcd is not running; use 'up'"
  local t0
  t0="$(now_ms)"
  stop_component kube-apiserver
  ensure_component kube-apiserver
  log "kube-apiserver restarted in $(($(now_ms) - t0)) ms"
}

# Serialises up/down/restart-apiserver on one state dir (parallel CI jobs).
lock_state() { lock_dir "$STATE_DIR" 600; }

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    up) lock_state; cmd_up "$@" ;;
    down) lock_state; cmd_down "$@" ;;
    env) cmd_env "$@" ;;
    status) cmd_status "$@" ;;
    restart-apiserver) lock_state; cmd_restart_apiserver "$@" ;;
    -h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

main "$@"
