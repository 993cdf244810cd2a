#!/bin/bash
# Readiness of a database pod: whether a Service may send it clients. The same test whatever the pod's role,
# since roles move between pods (the operator promotes a replica when the primary fails; which Service selects
# the pod follows its replication-role label):
#   takes writes (read_only off, which only the operator turns off, on the group's primary): ready.
#   refuses writes: ready as a replica when both replication threads run and it lags its source by at most
#            REPLICA_MAX_LAG_SECONDS (default 60); otherwise not ready (a server that just started, or was
#            fenced, waits for the operator to open it or point it at the primary).
source "${CONFIG_DIR:-/config}/lib.sh"

state="$(local_sql -N -B -e 'SELECT @@global.read_only, @@global.skip_networking')"
case "$state" in
  $'0\t0') exit 0 ;;
  $'1\t0') ;;
  *) die "not serving yet (read_only, skip_networking: ${state//$'\t'/, })" ;;
esac
status="$(local_sql -e 'SHOW REPLICA STATUS\G')"
# MariaDB prints Slave_*_Running and Seconds_Behind_Master, MySQL 8.4 Replica_* and ..._Source.
field() { sed -n -E "s/^ *($1): ?//p" <<<"$status" | head -n 1; }
io="$(field '(Slave|Replica)_IO_Running')"
sql="$(field '(Slave|Replica)_SQL_Running')"
[[ $io == Yes && $sql == Yes ]] ||
  die "read-only and not replicating (IO: ${io:-not set up}, SQL: ${sql:-not set up}): waiting for the operator" \
    "$(field Last_IO_Error) $(field Last_SQL_Error)"
lag="$(field 'Seconds_Behind_(Master|Source)')"
if ! [[ $lag =~ ^[0-9]+$ ]] || ((lag > ${REPLICA_MAX_LAG_SECONDS:-60})); then
  die "replication lags the primary by ${lag:-an unknown number of} s"
fi
