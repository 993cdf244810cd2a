#!/usr/bin/env bash
# A real Kubernetes node on this machine (layer 3 in hack/README.md): containerd + runc + the
# bridge CNI from Debian, kubelet and kube-proxy (iptables) from the project's Kubernetes build, joined to a local
# control plane (hack/cluster.sh), with CoreDNS, metrics-server and a hostPath volume provisioner. Images are
# built locally (hack/node-images.sh) and imported into containerd; nothing is pulled. Needs root.
#
# Usage:
#   hack/node.sh up              start (or repair) everything; a fast no-op when it is up and healthy
#   hack/node.sh down [--keep-cluster] [--purge]
#                                stop every process it started (by PID), remove pods' mounts, network
#                                namespaces, iptables chains, the bridge and cgroups, restore the sysctls it
#                                changed; stops its control plane too unless --keep-cluster. --purge also
#                                deletes containerd's image store and the buildah storage under SAPP_NODE_ROOT.
#   hack/node.sh status          health of every part; exit 1 if something is wrong
#   hack/node.sh env             export lines: eval "$(hack/node.sh env)" (KUBECONFIG, PATH, SAPP_E2E_*)
#   hack/node.sh logs NAME       tail a component's log (containerd kubelet kube-proxy apiserver-proxy provisioner)
#
# Its control plane is a second instance of hack/cluster.sh (state .local/node-cluster, API server on
# 127.0.0.1:36443, no kwok nodes), so that the integration suite's kwok cluster (26443) never schedules onto the
# real node and its teardown never takes the node's API server away. SAPP_NODE_SHARED_CLUSTER=1 joins the default
# cluster (26443) instead.
#
# Addresses (all in 198.18.0.0/15, nothing leaves the machine):
#   node / bridge sapp-cni0      198.18.1.1 (pods 198.18.1.0/24; kubelet :10250; API server proxy :6443)
#   Services                     198.19.0.0/16 (kubernetes 198.19.0.1 → 198.18.1.1:6443 → 127.0.0.1:<api port>,
#                                kube-dns 198.19.0.10); NodePorts only on 198.18.1.1
#   Ingress, Gateway (Traefik)   127.0.0.1:38080 on this machine (SAPP_NODE_INGRESS_PORT; SAPP_E2E_INGRESS_URL)
#   load-test clients            198.18.254.1-N, extra addresses of sapp-cni0 (SAPP_E2E_SOURCE_IPS)
# Pods cannot be forwarded anywhere outside 198.18.0.0/15 (iptables chain SAPP-NODE-GUARD), CoreDNS has no
# upstream resolver.
#
# Environment: SAPP_NODE_DIR (state, default <repo>/.local/node), SAPP_NODE_ROOT (default /var/lib/sapp-node:
# containerd's store, kubelet's root, volumes), SAPP_NODE_CLUSTER_DIR (default <repo>/.local/node-cluster),
# SAPP_NODE_APISERVER_PORT (36443), SAPP_NODE_SOURCE_IPS (number of load-test client addresses, default 32),
# SAPP_NODE_SKIP_IMAGES=1 (do not build/import the app images shop and operator), SAPP_STOP_TIMEOUT (15).
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${HACK_DIR}/.." && pwd)"
NODE_DIR="${SAPP_NODE_DIR:-${REPO_ROOT}/.local/node}"
NODE_ROOT="${SAPP_NODE_ROOT:-/var/lib/sapp-node}"
RUN_ROOT="/run/sapp-node"
STOP_TIMEOUT="${SAPP_STOP_TIMEOUT:-15}"

NODE_NAME="sapp-node-0"
NODE_IP="198.18.1.1"
POD_SUBNET="198.18.1.0/24"
CLUSTER_CIDR="198.18.0.0/16"
GUARD_CIDR="198.18.0.0/15"
SERVICE_CIDR="198.19.0.0/16"
DNS_IP="198.19.0.10"
BRIDGE="sapp-cni0"
LG_PREFIX="198.18.254"
LG_COUNT="${SAPP_NODE_SOURCE_IPS:-32}"
APISERVER_PROXY_PORT=6443
KUBELET_PORT=10250
KUBELET_HEALTHZ_PORT=30248
PROXY_HEALTHZ_PORT=30256
PROXY_METRICS_PORT=30249
GUARD_CHAIN="SAPP-NODE-GUARD"

# The node's own control plane: a second hack/cluster.sh instance on other ports, without kwok nodes.
if [[ "${SAPP_NODE_SHARED_CLUSTER:-0}" != 1 ]]; then
  export SAPP_CLUSTER_DIR="${SAPP_NODE_CLUSTER_DIR:-${REPO_ROOT}/.local/node-cluster}"
  export SAPP_APISERVER_PORT="${SAPP_NODE_APISERVER_PORT:-36443}"
  export SAPP_ETCD_PORT=33790 SAPP_ETCD_PEER_PORT=33800 SAPP_KCM_PORT=36257 SAPP_SCHEDULER_PORT=36259 SAPP_KWOK_PORT=36247
  export SAPP_KWOK_NODES=0 SAPP_KWOK_VOLUMES=0
  # The API server reaches the kubelet (logs, exec, port-forward) at the node's InternalIP: its name,
  # sapp-node-0, is in no DNS (and the machine's resolver is out of bounds).
  export SAPP_APISERVER_EXTRA_ARGS="--kubelet-preferred-address-types=InternalIP ${SAPP_APISERVER_EXTRA_ARGS:-}"
fi
CLUSTER_DIR="${SAPP_CLUSTER_DIR:-${REPO_ROOT}/.local/cluster}"
APISERVER_PORT="${SAPP_APISERVER_PORT:-26443}"
PKI="${CLUSTER_DIR}/pki"
ADMIN_KUBECONFIG="${CLUSTER_DIR}/kubeconfig"

RUN="${NODE_DIR}/run"
LOGS="${NODE_DIR}/logs"
NPKI="${NODE_DIR}/pki"
HOST_STATE="${NODE_DIR}/host-state"
CONTAINERD_SOCK="${RUN_ROOT}/containerd/containerd.sock"
KUBELET_ROOT="${NODE_ROOT}/kubelet"
VOLUMES="${NODE_ROOT}/volumes"
UP_MARKER="${RUN}/up"

# Start order; `down` goes in reverse.
COMPONENTS=(containerd apiserver-proxy kubelet kube-proxy provisioner)
SYSCTLS=(net.ipv4.ip_forward vm.overcommit_memory kernel.panic kernel.panic_on_oops fs.inotify.max_user_instances
  net.bridge.bridge-nf-call-iptables)
# ip_forward: pods → Services → pods is routed through the host. The next three: what kubelet insists on
# (protectKernelDefaults: it checks them instead of setting them itself). inotify: kubelet, containerd and
# cAdvisor watch many files; 128 instances run out.
declare -A SYSCTL_VALUES=([net.ipv4.ip_forward]=1 [vm.overcommit_memory]=1 [kernel.panic]=10 [kernel.panic_on_oops]=1
  [fs.inotify.max_user_instances]=1024 [net.bridge.bridge-nf-call-iptables]=1)
APT_PACKAGES=(containerd runc containernetworking-plugins iptables conntrack socat buildah debootstrap)

LOG_TAG=node
# shellcheck source=hack/lib.sh
source "${HACK_DIR}/lib.sh"

# ---- processes (recorded PIDs, like hack/cluster.sh) ----------------------------------------------------------------

# The string a component's command line must contain (guards against a recycled PID).
signature() {
  case "$1" in
    containerd) echo "${NODE_DIR}/containerd.toml" ;;
    apiserver-proxy) echo "TCP-LISTEN:${APISERVER_PROXY_PORT},bind=${NODE_IP}" ;;
    kubelet) echo "${NODE_DIR}/kubelet.yaml" ;;
    kube-proxy) echo "${NODE_DIR}/kube-proxy.yaml" ;;
    provisioner) echo "${VOLUMES}" ;;
  esac
}

pid_is() { pid_alive_with "$2" "$(signature "$1")"; }

kubectl_() { "$KUBECTL_BIN" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }
apiserver_ready() { kubectl_ get --raw /readyz >/dev/null 2>&1; }
ctr_() { ctr -a "$CONTAINERD_SOCK" -n k8s.io "$@"; }

load_binaries() {
  eval "$("${HACK_DIR}/build-binaries.sh" --print-env)"
  KUBELET_BIN="${KUBE_BIN_DIR}/kubelet"
  KUBE_PROXY_BIN="${KUBE_BIN_DIR}/kube-proxy"
  NODE_BIN="${REPO_ROOT}/node_modules/.bin/node"
}

# ---- preflight --------------------------------------------------------------------------------------------------------

preflight() {
  ((EUID == 0)) || die "run as root: a node needs network namespaces, iptables, mounts and cgroups"
  [[ -d /proc/sys/net/bridge ]] || die "the kernel has no br_netfilter (/proc/sys/net/bridge); see e2e/REAL-NODE.md"
  grep -qw overlay /proc/filesystems || die "the kernel has no overlay filesystem; see e2e/REAL-NODE.md"
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  for p in bridge host-local loopback portmap; do
    [[ -x "/usr/lib/cni/$p" ]] || die "CNI plugin /usr/lib/cni/$p is missing (containernetworking-plugins)"
  done
  [[ -x "${REPO_ROOT}/node_modules/.bin/node" ]] || die "node_modules/.bin/node missing: run make deps (npm install)"
}

# ---- certificates and kubeconfigs ------------------------------------------------------------------------------------

node_cert() { # name subject eku [sans]
  local name="$1" subj="$2" eku="$3" sans="${4:-}" ext
  [[ -f "${NPKI}/${name}.crt" && -f "${NPKI}/${name}.key" ]] &&
    openssl verify -CAfile "${PKI}/ca.crt" "${NPKI}/${name}.crt" >/dev/null 2>&1 && return 0
  ext="$(mktemp)"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=${eku}"
    [[ -n "$sans" ]] && echo "subjectAltName=${sans}"
  } >"$ext"
  openssl ecparam -name prime256v1 -genkey -noout -out "${NPKI}/${name}.key" 2>/dev/null
  openssl req -new -key "${NPKI}/${name}.key" -subj "$subj" -out "${NPKI}/${name}.csr" 2>/dev/null
  openssl x509 -req -in "${NPKI}/${name}.csr" -CA "${PKI}/ca.crt" -CAkey "${PKI}/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 3650 -extfile "$ext" -out "${NPKI}/${name}.crt" 2>/dev/null
  rm -f "$ext" "${NPKI}/${name}.csr"
  chmod 600 "${NPKI}/${name}.key"
}

node_kubeconfig() { # file cert user
  cat >"$1.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: sapp-node
  cluster:
    server: https://127.0.0.1:${APISERVER_PORT}
    certificate-authority: ${PKI}/ca.crt
users:
- name: $3
  user:
    client-certificate: ${NPKI}/$2.crt
    client-key: ${NPKI}/$2.key
contexts:
- name: sapp-node
  context: {cluster: sapp-node, user: $3}
current-context: sapp-node
EOF
  chmod 600 "$1.tmp"
  mv -f "$1.tmp" "$1"
}

write_pki() {
  mkdir -p "$NPKI"
  chmod 700 "$NPKI"
  node_cert kubelet-client "/O=system:nodes/CN=system:node:${NODE_NAME}" clientAuth
  node_cert kubelet-serving "/O=system:nodes/CN=system:node:${NODE_NAME}" serverAuth "IP:${NODE_IP},DNS:${NODE_NAME}"
  node_cert kube-proxy "/CN=system:kube-proxy" clientAuth
  node_cert provisioner "/O=system:masters/CN=sapp-node-provisioner" clientAuth
  node_kubeconfig "${NODE_DIR}/kubelet.kubeconfig" kubelet-client "system:node:${NODE_NAME}"
  node_kubeconfig "${NODE_DIR}/kube-proxy.kubeconfig" kube-proxy system:kube-proxy
}

# ---- host: sysctls, network, netfilter ---------------------------------------------------------------------------------

# Records the values before the first change (once: a second `up` must not record our own values).
record_host_state() {
  [[ -f "$HOST_STATE" ]] && return 0
  local s
  {
    for s in "${SYSCTLS[@]}"; do echo "sysctl ${s} $(sysctl -n "$s")"; done
    echo "netns $(ip netns list 2>/dev/null | awk '{print $1}' | tr '\n' ' ')"
  } >"${HOST_STATE}.tmp"
  mv -f "${HOST_STATE}.tmp" "$HOST_STATE"
}

setup_host() {
  record_host_state
  local s i
  for s in "${SYSCTLS[@]}"; do sysctl -qw "${s}=${SYSCTL_VALUES[$s]}"; done
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "${NODE_IP}/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  # Service addresses from the host go to the bridge (kube-proxy's DNAT in OUTPUT picks the pod): without a
  # DNAT rule a packet to 198.19.x stays on the bridge instead of following the default route out of the machine.
  ip route replace "$SERVICE_CIDR" dev "$BRIDGE" src "$NODE_IP"
  # Load-test clients: extra host addresses, on the bridge (this kernel has no dummy interfaces), so that ClientIP
  # affinity sees many clients. Pods answer them through their default route, the bridge's address.
  for ((i = 1; i <= LG_COUNT; i++)); do
    ip addr replace "${LG_PREFIX}.${i}/32" dev "$BRIDGE"
  done
  # Pods may talk to 198.18.0.0/15 only: forwarded traffic anywhere else is rejected.
  iptables -w -N "$GUARD_CHAIN" 2>/dev/null || iptables -w -F "$GUARD_CHAIN"
  iptables -w -A "$GUARD_CHAIN" -s "$GUARD_CIDR" -d "$GUARD_CIDR" -j RETURN
  iptables -w -A "$GUARD_CHAIN" -s "$GUARD_CIDR" -j REJECT --reject-with icmp-net-prohibited
  iptables -w -C FORWARD -j "$GUARD_CHAIN" 2>/dev/null || iptables -w -I FORWARD 1 -j "$GUARD_CHAIN"
}

source_ips() {
  local i out=()
  for ((i = 1; i <= LG_COUNT; i++)); do out+=("${LG_PREFIX}.${i}"); done
  (IFS=,; echo "${out[*]}")
}

# ---- configuration files -------------------------------------------------------------------------------------------------

write_configs() {
  mkdir -p "${NODE_DIR}/cni/net.d" "$KUBELET_ROOT" "$VOLUMES" "${NODE_ROOT}/cni-ipam" "${NODE_ROOT}/containerd" \
    "${RUN_ROOT}/containerd" "${NODE_ROOT}/volume-plugins"
  local pause_image
  pause_image="$(bash "${HACK_DIR}/node-images.sh" --print-env | sed -n "s/^export SAPP_E2E_PAUSE_IMAGE='\(.*\)'$/\1/p")"
  cat >"${NODE_DIR}/containerd.toml" <<EOF
# Generated by hack/node.sh. containerd 1.6 (Debian) for the local real node.
version = 2
root = "${NODE_ROOT}/containerd"
state = "${RUN_ROOT}/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "${CONTAINERD_SOCK}"

[ttrpc]
  address = "${CONTAINERD_SOCK}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "${NODE_ROOT}/containerd-opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pause_image}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  # This VM gives root no CAP_SYS_RESOURCE: oom_score_adj cannot go below 0, and runc fails on the sandbox's -998
  # ("can't get final child's PID from pipe"). Restricted, scores are clamped to containerd's own (0).
  restrict_oom_score_adj = true
  max_concurrent_downloads = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${NODE_DIR}/cni/net.d"
    max_conf_num = 1
EOF
  cat >"${NODE_DIR}/cni/net.d/10-sapp-node.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "sapp-node",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${BRIDGE}",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "${POD_SUBNET}", "rangeStart": "198.18.1.10", "rangeEnd": "198.18.1.250", "gateway": "${NODE_IP}" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "${NODE_ROOT}/cni-ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  # Pods with dnsPolicy Default (CoreDNS itself) get this instead of the machine's resolver (out of bounds).
  printf 'nameserver %s\n' "$DNS_IP" >"${NODE_DIR}/resolv.conf"
  cat >"${NODE_DIR}/kubelet.yaml" <<EOF
# Generated by hack/node.sh.
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE_IP}
port: ${KUBELET_PORT}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${KUBELET_HEALTHZ_PORT}
tlsCertFile: ${NPKI}/kubelet-serving.crt
tlsPrivateKeyFile: ${NPKI}/kubelet-serving.key
rotateCertificates: false
serverTLSBootstrap: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${PKI}/ca.crt}
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://${CONTAINERD_SOCK}
imageServiceEndpoint: unix://${CONTAINERD_SOCK}
# cgroup v1 on this VM (e2e/REAL-NODE.md); 1.35 is the last minor that accepts it, with this switch.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: true
clusterDNS: [${DNS_IP}]
clusterDomain: cluster.local
resolvConf: ${NODE_DIR}/resolv.conf
# Checks the kernel settings instead of changing them; hack/node.sh sets (and restores) them.
protectKernelDefaults: true
failSwapOn: false
# Images are imported, never pulled: keep image GC (which does not know containerd 1.6's pinned pause image)
# from deleting any of them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 200Mi, nodefs.available: 2%, nodefs.inodesFree: 2%, imagefs.available: 2%}
maxPods: 110
podPidsLimit: 4096
serializeImagePulls: false
containerLogMaxSize: 10Mi
containerLogMaxFiles: 2
volumePluginDir: ${NODE_ROOT}/volume-plugins
shutdownGracePeriod: 0s
# No CAP_SYS_RESOURCE here: a negative oom_score_adj for itself would be refused.
oomScoreAdj: 0
EOF
  cat >"${NODE_DIR}/kube-proxy.yaml" <<EOF
# Generated by hack/node.sh.
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: ${NODE_DIR}/kube-proxy.kubeconfig
hostnameOverride: ${NODE_NAME}
# No CAP_SYS_RESOURCE here: a negative oom_score_adj would be refused.
oomScoreAdj: 0
mode: iptables
clusterCIDR: ${CLUSTER_CIDR}
detectLocalMode: ClusterCIDR
healthzBindAddress: 127.0.0.1:${PROXY_HEALTHZ_PORT}
metricsBindAddress: 127.0.0.1:${PROXY_METRICS_PORT}
# NodePorts only on the node's address, never on the machine's network interface.
nodePortAddresses: [${NODE_IP}/32]
iptables:
  localhostNodePorts: false
  masqueradeAll: false
  syncPeriod: 30s
  minSyncPeriod: 1s
# 0: leave the machine's conntrack settings alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
}

# ---- components -----------------------------------------------------------------------------------------------------------

containerd_ready() { ctr -a "$CONTAINERD_SOCK" version; }
start_containerd() {
  start_process containerd "$(command -v containerd)" --config "${NODE_DIR}/containerd.toml" --log-level warn
  wait_component containerd 60 containerd_ready
}

proxy_ready() { curl -sk --max-time 2 -o /dev/null "https://${NODE_IP}:${APISERVER_PROXY_PORT}/readyz"; }
start_apiserver_proxy() {
  # Pods reach the API server through the `kubernetes` Service, whose endpoint must be a routable address; the
  # API server listens on loopback only. A TCP relay (TLS passes through untouched) on the node address.
  start_process apiserver-proxy "$(command -v socat)" \
    "TCP-LISTEN:${APISERVER_PROXY_PORT},bind=${NODE_IP},reuseaddr,fork" "TCP:127.0.0.1:${APISERVER_PORT}"
  wait_component apiserver-proxy 20 proxy_ready
}

kubelet_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:${KUBELET_HEALTHZ_PORT}/healthz"; }
start_kubelet() {
  start_process kubelet "$KUBELET_BIN" \
    --config="${NODE_DIR}/kubelet.yaml" \
    --kubeconfig="${NODE_DIR}/kubelet.kubeconfig" \
    --root-dir="$KUBELET_ROOT" \
    --cert-dir="${NPKI}/kubelet-certs" \
    --hostname-override="$NODE_NAME" \
    --node-ip="$NODE_IP" \
    --node-labels="scalable.dev/node=real" \
    --v=1
  wait_component kubelet 90 kubelet_healthy
}

proxy_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:${PROXY_HEALTHZ_PORT}/healthz"; }
start_kube_proxy() {
  start_process kube-proxy "$KUBE_PROXY_BIN" --config="${NODE_DIR}/kube-proxy.yaml" --v=1
  wait_component kube-proxy 60 proxy_healthy
}

start_provisioner() {
  start_process provisioner "$NODE_BIN" "${REPO_ROOT}/e2e/node/provisioner.ts" \
    --server "https://127.0.0.1:${APISERVER_PORT}" --ca "${PKI}/ca.crt" \
    --cert "${NPKI}/provisioner.crt" --key "${NPKI}/provisioner.key" \
    --root "$VOLUMES" --node "$NODE_NAME"
  sleep 1
  is_running provisioner || { tail -n 20 "${LOGS}/provisioner.log" >&2; die "the provisioner exited"; }
}

ensure_component() {
  is_running "$1" && return 0
  rm -f "$(pid_file "$1")"
  case "$1" in
    containerd) start_containerd ;;
    apiserver-proxy) start_apiserver_proxy ;;
    kubelet) start_kubelet ;;
    kube-proxy) start_kube_proxy ;;
    provisioner) start_provisioner ;;
  esac
}

# ---- cluster objects ----------------------------------------------------------------------------------------------------

node_ready() {
  [[ "$(kubectl_ get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

# The `kubernetes` Service's endpoint (the API server runs with --endpoint-reconciler-type=none).
kubernetes_endpoints() {
  # (kubectl warns that v1 Endpoints are deprecated; some clients still read them.)
  kubectl_ apply --server-side --force-conflicts --field-manager=sapp-node -f - >/dev/null 2> >(grep -v 'Endpoints is deprecated' >&2) <<EOF
apiVersion: v1
kind: Endpoints
metadata:
  name: kubernetes
  namespace: default
  labels: {endpointslice.kubernetes.io/skip-mirror: "true"}
subsets:
- addresses: [{ip: ${NODE_IP}}]
  ports: [{name: https, port: ${APISERVER_PROXY_PORT}, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes
  namespace: default
  labels:
    kubernetes.io/service-name: kubernetes
    endpointslice.kubernetes.io/managed-by: sapp-node
addressType: IPv4
endpoints:
- addresses: [${NODE_IP}]
  conditions: {ready: true}
ports:
- {name: https, port: ${APISERVER_PROXY_PORT}, protocol: TCP}
EOF
}

setup_node_object() {
  wait_for "node ${NODE_NAME} registered" 60 kubectl_ get node "$NODE_NAME" || die "the kubelet did not register ${NODE_NAME}"
  if [[ -z "$(kubectl_ get node "$NODE_NAME" -o jsonpath='{.spec.podCIDR}')" ]]; then
    kubectl_ patch node "$NODE_NAME" --type merge -p "{\"spec\":{\"podCIDR\":\"${POD_SUBNET}\",\"podCIDRs\":[\"${POD_SUBNET}\"]}}" >/dev/null
  fi
  kubectl_ uncordon "$NODE_NAME" >/dev/null 2>&1 || true
  wait_for "node ${NODE_NAME} Ready" 120 node_ready || die "node ${NODE_NAME} is not Ready (see ${LOGS}/kubelet.log)"
}

metrics_api_ready() { kubectl_ get --raw "/apis/metrics.k8s.io/v1beta1/nodes/${NODE_NAME}"; }
dns_ready() {
  [[ "$(kubectl_ -n kube-system get deploy coredns -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" == 1 ]]
}

apply_addons() {
  local images
  images="$(bash "${HACK_DIR}/node-images.sh" list)"
  kubectl_ -n kube-system create configmap sapp-node-ca --from-file=ca.crt="${PKI}/ca.crt" --dry-run=client -o yaml |
    kubectl_ apply --server-side --force-conflicts --field-manager=sapp-node -f - >/dev/null
  sed -e "s|@COREDNS_IMAGE@|$(awk '$1 == "coredns" {print $2}' <<<"$images")|" \
    -e "s|@METRICS_SERVER_IMAGE@|$(awk '$1 == "metrics-server" {print $2}' <<<"$images")|" \
    -e "s|@DNS_IP@|${DNS_IP}|" "${REPO_ROOT}/e2e/node/addons.yaml" |
    kubectl_ apply --server-side --force-conflicts --field-manager=sapp-node -f - >/dev/null
  wait_for "CoreDNS Ready" 120 dns_ready || die "CoreDNS did not become Ready"
  wait_for "the metrics API" 180 metrics_api_ready || die "metrics.k8s.io does not answer (see metrics-server's log)"
  apply_traefik
}

# Traefik, the Ingress controller (IngressClass traefik) and Gateway (GatewayClass traefik, Gateway traefik/traefik),
# on 127.0.0.1:${TRAEFIK_HOST_PORT} (e2e/node/traefik.yaml), after the Gateway API CRDs (experimental channel).
TRAEFIK_HOST_PORT="${SAPP_NODE_INGRESS_PORT:-38080}"
TRAEFIK_APPLIED="${NODE_DIR}/traefik.applied"
traefik_ready() {
  [[ "$(kubectl_ -n traefik get deploy traefik -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" == 1 ]]
}
traefik_manifest() {
  local ref
  ref="$(bash "${HACK_DIR}/node-images.sh" list | awk '$1 == "traefik" {print $2}')"
  sed -e "s|@TRAEFIK_IMAGE@|${ref}|" -e "s|@TRAEFIK_VERSION@|${ref##*:}|" -e "s|@TRAEFIK_HOST_PORT@|${TRAEFIK_HOST_PORT}|g" \
    "${REPO_ROOT}/e2e/node/traefik.yaml"
}
# Whether the add-on applied last is the current one (Ready, same manifest, same Gateway API version).
traefik_current() {
  traefik_ready && [[ -f "$TRAEFIK_APPLIED" ]] &&
    [[ "$(cat "$TRAEFIK_APPLIED")" == "$({ traefik_manifest; bash "${HACK_DIR}/gateway-api.sh"; } | sha256sum)" ]]
}
apply_traefik() {
  KUBECONFIG="$ADMIN_KUBECONFIG" PATH="$(dirname "$KUBECTL_BIN"):${PATH}" bash "${HACK_DIR}/gateway-api.sh" install
  traefik_manifest | kubectl_ apply --server-side --force-conflicts --field-manager=sapp-node -f - >/dev/null
  # A changed Deployment rolls out (Recreate): wait for it, not for the old pod's Ready.
  kubectl_ -n traefik rollout status deploy/traefik --timeout=120s >/dev/null ||
    die "Traefik did not become Ready (kubectl -n traefik logs deploy/traefik)"
  wait_for "Traefik Ready" 120 traefik_ready || die "Traefik did not become Ready (kubectl -n traefik logs deploy/traefik)"
  { traefik_manifest; bash "${HACK_DIR}/gateway-api.sh"; } | sha256sum >"$TRAEFIK_APPLIED"
}

# ---- commands ---------------------------------------------------------------------------------------------------------------

all_running() { local c; for c in "${COMPONENTS[@]}"; do is_running "$c" || return 1; done; }

cmd_up() {
  local t0 t c images=(pause coredns metrics-server traefik mariadb redis shop operator)
  t0="$(now_ms)"
  preflight
  load_binaries
  if [[ -f "$UP_MARKER" ]] && all_running && apiserver_ready && node_ready; then
    # The app images follow the working tree: re-import them when their sources changed.
    [[ "${SAPP_NODE_SKIP_IMAGES:-0}" == 1 ]] || bash "${HACK_DIR}/node-images.sh" import shop operator
    # A node brought up before Traefik (or its Gateway) was one of its add-ons, or with an older e2e/node/traefik.yaml,
    # gets the current one now.
    traefik_current || { bash "${HACK_DIR}/node-images.sh" import traefik && apply_traefik; }
    log "already up ($(($(now_ms) - t0)) ms); eval \"\$(hack/node.sh env)\""
    return 0
  fi
  rm -f "$UP_MARKER"
  mkdir -p "$NODE_DIR" "$RUN" "$LOGS"
  [[ -f "${NODE_DIR}/.gitignore" ]] || echo '*' >"${NODE_DIR}/.gitignore"
  "${HACK_DIR}/build-binaries.sh" kubernetes etcd kwok kubelet kube-proxy
  load_binaries
  [[ "${SAPP_NODE_SKIP_IMAGES:-0}" == 1 ]] && images=(pause coredns metrics-server traefik mariadb redis)
  t="$(now_ms)"
  bash "${HACK_DIR}/node-images.sh" build "${images[@]}"
  log "images ready in $(($(now_ms) - t)) ms"
  t="$(now_ms)"
  bash "${HACK_DIR}/cluster.sh" up
  log "control plane up in $(($(now_ms) - t)) ms (${ADMIN_KUBECONFIG})"
  write_pki
  write_configs
  setup_host
  t="$(now_ms)"
  ensure_component containerd
  bash "${HACK_DIR}/node-images.sh" import "${images[@]}"
  log "containerd up, images imported in $(($(now_ms) - t)) ms"
  ensure_component apiserver-proxy
  t="$(now_ms)"
  ensure_component kubelet
  setup_node_object
  log "kubelet up, node Ready in $(($(now_ms) - t)) ms"
  kubernetes_endpoints
  ensure_component kube-proxy
  ensure_component provisioner
  t="$(now_ms)"
  apply_addons
  log "CoreDNS, metrics-server and Traefik ready in $(($(now_ms) - t)) ms"
  for c in "${COMPONENTS[@]}"; do is_running "$c" || die "$c is not running"; done
  touch "$UP_MARKER"
  log "up in $(($(now_ms) - t0)) ms; eval \"\$(hack/node.sh env)\""
}

# Pods first, through the kubelet (it tears down their network with CNI DEL and unmounts their volumes).
drain_pods() {
  apiserver_ready || return 0
  kubectl_ get node "$NODE_NAME" >/dev/null 2>&1 || return 0
  kubectl_ cordon "$NODE_NAME" >/dev/null 2>&1 || true
  is_running kubelet || return 0
  kubectl_ delete pods --all-namespaces --field-selector "spec.nodeName=${NODE_NAME}" --grace-period=10 \
    --wait=false >/dev/null 2>&1 || true
  local i n
  for ((i = 0; i < 90; i++)); do
    n="$(kubectl_ get pods --all-namespaces --field-selector "spec.nodeName=${NODE_NAME}" -o name 2>/dev/null | wc -l)"
    ((n == 0)) && break
    sleep 1
  done
  log "pods drained (${n} left)"
  # Let the kubelet finish removing the sandboxes it stopped.
  for ((i = 0; i < 30; i++)); do
    [[ -z "$(ctr_ tasks ls -q 2>/dev/null)" ]] && break
    sleep 1
  done
}

# Whatever the kubelet left: kill the tasks, delete containers (their netns are cleaned below).
remove_containers() {
  [[ -S "$CONTAINERD_SOCK" ]] && containerd_ready >/dev/null 2>&1 || return 0
  local id
  for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
  sleep 1
  for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true; done
  for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$id" >/dev/null 2>&1 || true; done
}

# containerd-shim-runc-v2 processes of this containerd (they outlive containerd when a task is left).
kill_shims() {
  local p pid
  for p in /proc/[0-9]*; do
    pid="${p#/proc/}"
    tr '\0' ' ' 2>/dev/null <"${p}/cmdline" | grep -q -- "containerd-shim.* -address ${CONTAINERD_SOCK}" || continue
    log "killing leftover shim ${pid}"
    kill -KILL "$pid" 2>/dev/null || true
  done
}

unmount_under() {
  local prefix m
  for prefix in "$@"; do
    [[ -e "$prefix" ]] || continue
    for m in $(findmnt -rn -o TARGET | grep -E "^${prefix}(/|$)" | sort -r); do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "WARNING: could not unmount ${m}"
    done
  done
}

remove_netns() {
  local before ns
  before="$(sed -n 's/^netns //p' "$HOST_STATE" 2>/dev/null || true)"
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ "$ns" == cni-* ]] || continue
    [[ " ${before} " == *" ${ns} "* ]] && continue
    ip netns delete "$ns" 2>/dev/null && log "removed network namespace ${ns}"
  done
}

# KUBE-* (kube-proxy, kubelet), CNI-* (portmap, bridge) and our guard, in every table.
remove_chains() {
  local table chain
  iptables -w -D FORWARD -j "$GUARD_CHAIN" 2>/dev/null || true
  for table in filter nat mangle raw; do
    # Rules that jump to our chains first, then the chains.
    iptables-save -t "$table" 2>/dev/null | grep -E '^-A .* -j (KUBE-|CNI-|SAPP-NODE)' | sed 's/^-A/-D/' |
      while read -r rule; do eval "iptables -w -t $table $rule" 2>/dev/null || true; done || true
    for chain in $(iptables-save -t "$table" 2>/dev/null | sed -n 's/^:\(\(KUBE-\|CNI-\|SAPP-NODE\)[^ ]*\) .*/\1/p'); do
      iptables -w -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $(iptables-save -t "$table" 2>/dev/null | sed -n 's/^:\(\(KUBE-\|CNI-\|SAPP-NODE\)[^ ]*\) .*/\1/p'); do
      iptables -w -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
}

remove_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/kubepods.slice; do
    [[ -d "$d" ]] || continue
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || log "WARNING: cgroup ${d} still has processes"
  done
}

restore_host() {
  local key s v
  if [[ -f "$HOST_STATE" ]]; then
    while read -r key s v; do
      [[ "$key" == sysctl ]] && sysctl -qw "${s}=${v}" 2>/dev/null
    done <"$HOST_STATE"
  fi
  ip link del "$BRIDGE" 2>/dev/null || true
  ip route del "$SERVICE_CIDR" 2>/dev/null || true
  rm -f "$HOST_STATE"
}

delete_node_object() {
  if apiserver_ready; then kubectl_ delete node "$NODE_NAME" --ignore-not-found >/dev/null 2>&1 || true; fi
}

cmd_down() {
  local keep_cluster=0 purge=0 a c i
  for a in "$@"; do
    case "$a" in
      --keep-cluster) keep_cluster=1 ;;
      --purge) purge=1 ;;
      *) die "unknown flag for down: $a" ;;
    esac
  done
  load_binaries
  rm -f "$UP_MARKER"
  drain_pods
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    c="${COMPONENTS[$i]}"
    [[ "$c" == containerd ]] && continue
    stop_component "$c"
  done
  if [[ -x "${KUBE_PROXY_BIN:-}" && -f "${NODE_DIR}/kube-proxy.yaml" ]]; then
    "$KUBE_PROXY_BIN" --cleanup --config="${NODE_DIR}/kube-proxy.yaml" >/dev/null 2>&1 || true
  fi
  remove_containers
  stop_component containerd
  kill_shims
  unmount_under "$KUBELET_ROOT" "$RUN_ROOT" "${NODE_ROOT}/containerd"
  remove_netns
  remove_chains
  remove_cgroups
  restore_host
  rm -rf "$KUBELET_ROOT" "${NODE_ROOT}/cni-ipam" "$RUN_ROOT"
  if ((keep_cluster)); then
    delete_node_object
    log "control plane kept (${CLUSTER_DIR})"
  else
    # The cluster's objects go with its etcd data, so do the volumes that backed its claims.
    if [[ "${SAPP_NODE_SHARED_CLUSTER:-0}" != 1 ]]; then
      bash "${HACK_DIR}/cluster.sh" down
    else
      delete_node_object
    fi
    rm -rf "$VOLUMES"
  fi
  if ((purge)); then
    bash "${HACK_DIR}/node-images.sh" purge
    rm -rf "$NODE_ROOT"
  fi
  leftovers
}

# What `down` must not leave behind; printed, and a non-zero exit when something is left.
leftovers() {
  local left=()
  local c
  for c in "${COMPONENTS[@]}"; do is_running "$c" && left+=("process ${c}"); done
  findmnt -rn -o TARGET | grep -qE "^(${KUBELET_ROOT}|${RUN_ROOT}|${NODE_ROOT})(/|$)" &&
    left+=("mounts under ${NODE_ROOT} or ${RUN_ROOT}")
  ip link show "$BRIDGE" >/dev/null 2>&1 && left+=("bridge ${BRIDGE}")
  ip netns list 2>/dev/null | grep -q '^cni-' && left+=("network namespaces: $(ip netns list | awk '/^cni-/ {print $1}' | tr '\n' ' ')")
  iptables-save 2>/dev/null | grep -qE '^:(KUBE-|CNI-|SAPP-NODE)' && left+=("iptables chains")
  if ((${#left[@]})); then
    log "LEFT BEHIND: ${left[*]}"
    return 1
  fi
  log "down: no processes, mounts, network namespaces, iptables chains or bridge left"
}

cmd_env() {
  load_binaries
  bash "${HACK_DIR}/cluster.sh" env
  printf "export SAPP_E2E_PROFILE='local'\n"
  printf "export SAPP_E2E_SOURCE_IPS='%s'\n" "$(source_ips)"
  printf "export SAPP_E2E_INGRESS_URL='http://127.0.0.1:%s'\n" "$TRAEFIK_HOST_PORT"
  printf "export SAPP_NODE_DIR='%s'\n" "$NODE_DIR"
  bash "${HACK_DIR}/node-images.sh" --print-env
}

cmd_status() {
  load_binaries
  local c pid rc=0
  printf '%-18s %-8s\n' COMPONENT PID
  for c in "${COMPONENTS[@]}"; do
    if pid="$(running_pid "$c")"; then printf '%-18s %-8s\n' "$c" "$pid"; else printf '%-18s %-8s\n' "$c" -; rc=1; fi
  done
  [[ -f "$UP_MARKER" ]] || rc=1
  if apiserver_ready; then
    echo
    kubectl_ get nodes -o wide 2>/dev/null || true
    node_ready || rc=1
    echo
    kubectl_ -n kube-system get pods -o wide 2>/dev/null || true
  else
    echo "API server (${APISERVER_PORT}): not ready"
    rc=1
  fi
  echo
  echo "state: ${NODE_DIR}   root: ${NODE_ROOT}   kubeconfig: ${ADMIN_KUBECONFIG}"
  return "$rc"
}

lock_state() { lock_dir "$NODE_DIR" 900; }

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    up) lock_state; cmd_up "$@" ;;
    down) lock_state; cmd_down "$@" ;;
    env) cmd_env ;;
    status) cmd_status ;;
    logs) tail -n "${LINES:-100}" -f "${LOGS}/${1:?logs NAME}.log" ;;
    -h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

main "$@"
