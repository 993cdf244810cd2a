#!/bin/bash
# Liveness (and startup) of a database pod: the server process answers a ping. A replica whose replication
# is broken is alive: a restart would not repair it, and readiness already keeps readers away.
source "${CONFIG_DIR:-/config}/lib.sh"
local_run mariadb-admin mysqladmin --connect-timeout=5 ping >/dev/null
