#!/bin/sh
# Probe of the Redis container: `ping.sh ready` or `ping.sh alive`.
# ready: a primary answers PONG and is a master, so it takes writes; a replica answers PONG and its link to
#        its primary is up (master_link_status:up), so it holds the primary's current data.
# alive: Redis answers at all, LOADING included: loading a large AOF takes a while, and restarting the
#        container would only start the load over.
# redis-cli authenticates with REDISCLI_AUTH (the container's env, from the credentials Secret).
port="${REDIS_PORT:-6379}"
reply=$(redis-cli -p "$port" ping 2>&1)
case "$1:$reply" in
  alive:PONG | alive:LOADING*) exit 0 ;;
  ready:PONG) ;;
  ready:* | alive:*) echo "redis: $reply" >&2; exit 1 ;;
  *) echo "usage: ping.sh ready|alive" >&2; exit 2 ;;
esac
info=$(redis-cli -p "$port" info replication 2>&1 | tr -d '\r')
case "$info" in
  *role:master*) exit 0 ;;
  *master_link_status:up*) exit 0 ;;
  *role:slave*) echo "redis: a replica whose link to its primary is down" >&2; exit 1 ;;
  *) echo "redis: $info" >&2; exit 1 ;;
esac
