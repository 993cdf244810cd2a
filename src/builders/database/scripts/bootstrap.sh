#!/bin/bash
# First start of an empty data directory. The image's entrypoint runs /docker-entrypoint-initdb.d/*.sh once,
# after it set the root password (without binary logging), with a temporary server on the local socket.
#   primary: when the group's write Service (PRIMARY_HOST) answers, another pod is the primary (this pod's
#            volume was replaced after a failover): it bootstraps as a replica of it. Otherwise it is a new
#            group: it creates the application database, the replication user and the application user.
#   replica: creates the same users locally (not binary-logged: a replica writes no transactions of its
#            own), copies the primary's databases together with the GTID position the copy is consistent
#            with, and points replication at the primary from that position. The primary's binary logs
#            alone cannot seed a replica: they are purged after binlog-expire-logs-seconds, or by hand.
# shellcheck disable=SC2119 # local_sql reads its SQL from stdin
source "${CONFIG_DIR:-/config}/lib.sh"

# "_" is a wildcard in GRANT ... ON `db`.*; escaped, the grant covers exactly the one database.
export APP_DATABASE_GRANT="${APP_DATABASE//_/\\_}"

role="${ROLE:-}"
if [[ $role == primary ]] && primary_sql --connect-timeout=3 -e 'SELECT 1' >/dev/null 2>&1; then
  log "the write Service $PRIMARY_HOST answers: another pod is the primary, this one bootstraps as its replica"
  role=replica
fi
case "$role" in
  primary)
    render_sql "$CONFIG_DIR/users.sql" | local_sql
    ;;
  replica)
    deadline=$((SECONDS + ${PRIMARY_WAIT_SECONDS:-600}))
    until error="$(primary_sql --connect-timeout=5 -e 'SELECT 1' 2>&1 >/dev/null)"; do
      ((SECONDS < deadline)) || die "the primary $PRIMARY_HOST:$PRIMARY_PORT did not answer: $error"
      sleep 2
    done
    { echo 'SET SESSION sql_log_bin = 0;'; render_sql "$CONFIG_DIR/users.sql"; } | local_sql
    started=$SECONDS
    { echo 'SET SESSION sql_log_bin = 0;'; bash "$CONFIG_DIR/dump.sh"; } | local_sql
    log "copied the primary's databases in $((SECONDS - started)) s"
    render_sql "$CONFIG_DIR/change-source.sql" | local_sql
    ;;
  *) die "ROLE must be primary or replica, not '${ROLE:-}'" ;;
esac
rm -f "$BOOTSTRAP_MARKER"
log "bootstrap of the $role finished"
