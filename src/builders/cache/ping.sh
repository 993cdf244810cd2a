#!/bin/sh
# Probe of the Redis container: `ping.sh ready` or `ping.sh alive`.
# ready: Redis answers PONG, so it serves requests.
# alive: Redis answers at all, LOADING included: loading a large AOF takes a while, and restarting the
#        container would only start the load over.
# redis-cli authenticates with REDISCLI_AUTH (the container's env, from the credentials Secret).
reply=$(redis-cli -p "${REDIS_PORT:-6379}" ping 2>&1)
case "$1:$reply" in
  ready:PONG | alive:PONG | alive:LOADING*) exit 0 ;;
  ready:* | alive:*) echo "redis: $reply" >&2; exit 1 ;;
  *) echo "usage: ping.sh ready|alive" >&2; exit 2 ;;
esac
