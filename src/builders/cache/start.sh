#!/bin/sh
# Entrypoint of the Redis container: `start.sh <redis.conf>`. The password comes from the credentials Secret
# (REDIS_PASSWORD) and reaches Redis on stdin, as one more config line: it is in no file and in no command line
# (not in the pod spec, the container runtime's process config or `ps`).
set -eu
if [ -z "${REDIS_PASSWORD:-}" ]; then
  echo "start.sh: REDIS_PASSWORD is empty" >&2
  exit 1
fi
exec redis-server "$1" - <<EOF_CONF
requirepass ${REDIS_PASSWORD}
EOF_CONF
