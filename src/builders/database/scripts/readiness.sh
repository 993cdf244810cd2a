#!/bin/bash
# Readiness of a database pod: whether the write or read Service may send it clients.
#   primary: the server listens on the network and takes writes (not read_only).
#   replica: both replication threads run, it lags the primary by at most REPLICA_MAX_LAG_SECONDS
#            (default 60), and it refuses writes of application users (read_only).
source "${CONFIG_DIR:-/config}/lib.sh"

case "${ROLE:-}" in
  primary)
    state="$(local_sql -N -B -e 'SELECT @@global.read_only, @@global.skip_networking')"
    [[ $state == $'0\t0' ]] || die "not taking writes (read_only, skip_networking: ${state//$'\t'/, })"
    ;;
  replica)
    status="$(local_sql -e 'SHOW REPLICA STATUS\G')"
    # MariaDB prints Slave_*_Running and Seconds_Behind_Master, MySQL 8.4 Replica_* and ..._Source.
    field() { sed -n -E "s/^ *($1): ?//p" <<<"$status" | head -n 1; }
    io="$(field '(Slave|Replica)_IO_Running')"
    sql="$(field '(Slave|Replica)_SQL_Running')"
    [[ $io == Yes && $sql == Yes ]] ||
      die "replication is not running (IO: ${io:-not set up}, SQL: ${sql:-not set up})" \
        "$(field Last_IO_Error) $(field Last_SQL_Error)"
    lag="$(field 'Seconds_Behind_(Master|Source)')"
    if ! [[ $lag =~ ^[0-9]+$ ]] || ((lag > ${REPLICA_MAX_LAG_SECONDS:-60})); then
      die "replication lags the primary by ${lag:-an unknown number of} s"
    fi
    [[ "$(local_sql -N -B -e 'SELECT @@global.read_only')" == 1 ]] || die "read_only is off: the replica takes writes"
    ;;
  *) die "ROLE must be primary or replica, not '${ROLE:-}'" ;;
esac
