#!/bin/sh
# Entrypoint of the Redis container: `start.sh <redis.conf>`. The password comes from the credentials Secret
# (REDIS_PASSWORD) and reaches Redis on stdin, as config lines: it is in no file and in no command line
# (not in the pod spec, the container runtime's process config or `ps`). It is both the password clients give
# (requirepass) and the one this server gives when it replicates from another (masterauth).
#
# The role is decided at every start. PRIMARY_HOST:PRIMARY_PORT is the client Service, which selects the pod
# the operator labeled primary. If a server answers there (PING with the password, within about three seconds),
# this one starts as its replica; otherwise it starts as a primary (a fresh app: no pod is labeled yet; or the
# whole group restarting). The answer is never this pod's own server: that one is not running yet. A server
# that starts as a primary beside the operator's is made a replica by the operator.
#
# Replicas announce nothing (no replica-announce-ip): the operator reads each server at its pod's DNS name,
# never through the primary's list of replicas.
set -eu
if [ -z "${REDIS_PASSWORD:-}" ]; then
  echo "start.sh: REDIS_PASSWORD is empty" >&2
  exit 1
fi

# redis-cli reads the password from REDISCLI_AUTH, never from its command line.
primary_answers() {
  [ -n "${PRIMARY_HOST:-}" ] || return 1
  limit=""
  if command -v timeout >/dev/null 2>&1; then limit="timeout 2"; fi
  for attempt in 1 2 3; do
    reply=$(REDISCLI_AUTH="$REDIS_PASSWORD" $limit redis-cli -h "$PRIMARY_HOST" -p "${PRIMARY_PORT:-6379}" ping 2>/dev/null || true)
    if [ "$reply" = PONG ]; then return 0; fi
    if [ "$attempt" -lt 3 ]; then sleep 1; fi
  done
  return 1
}

follow=""
if primary_answers; then
  echo "start.sh: the primary answers at $PRIMARY_HOST:${PRIMARY_PORT:-6379}: starting as its replica" >&2
  follow="replicaof $PRIMARY_HOST ${PRIMARY_PORT:-6379}"
else
  echo "start.sh: no primary answers at ${PRIMARY_HOST:-(none)}:${PRIMARY_PORT:-6379}: starting as the primary" >&2
fi
exec redis-server "$1" - <<EOF_CONF
requirepass ${REDIS_PASSWORD}
masterauth ${REDIS_PASSWORD}
${follow}
EOF_CONF
