#!/bin/bash
# Run by start.sh on every start of a database container, before the image's entrypoint.
#  1. Writes the server's configuration into its conf.d: the settings of every server (the same whatever role
#     the pod serves in: roles move on failover), a server-id unique in the app: SERVER_ID_BASE (one per group
#     and StatefulSet) plus the pod's ordinal, the group's AUTO_INCREMENT series, and an init file that the server runs on every start: it
#     creates or updates the operator's account on this server only (not binary-logged), so servers created
#     by an earlier version get it too. conf.d is an emptyDir, so after a restart of the container it still
#     holds the files of the previous start (read-only when they were copies of the ConfigMap's mode 0555
#     files): each file is removed and written anew, and every start writes the same. The init file holds a
#     password: mode 0600, in the pod's own emptyDir, like the environment it comes from.
#  2. Makes the first start all or nothing. The image initializes an empty data directory once and never
#     again, so a bootstrap that failed half-way (a replica whose copy of the primary broke off) would leave
#     a server that looks initialized but never replicates. A marker on the volume, outside the data
#     directory, is set before the first start and removed by the bootstrap's last step; a data directory
#     found with the marker still there is emptied, and this start bootstraps again. A data directory
#     without the marker is never touched.
source "${CONFIG_DIR:-/config}/lib.sh"

CONF_D="${CONF_D:-/etc/mysql/conf.d}"
DATA_DIR="$VOLUME_DIR/mysql"

[[ ${ROLE:-} == primary || ${ROLE:-} == replica ]] || die "ROLE must be primary or replica, not '${ROLE:-}'"
ordinal="${HOSTNAME##*-}"
[[ $ordinal =~ ^[0-9]+$ ]] || die "no pod ordinal at the end of HOSTNAME '$HOSTNAME'"
[[ ${SERVER_ID_BASE:-} =~ ^[1-9][0-9]*$ ]] || die "SERVER_ID_BASE must be a positive number"
server_id=$((SERVER_ID_BASE + ordinal))

# Writes stdin to conf.d/<name> (the directory is writable; the file of an earlier start may not be).
write_conf() { # name [mode]
  rm -f "$CONF_D/$1"
  (umask 077 && cat >"$CONF_D/$1")
  chmod "${2:-0644}" "$CONF_D/$1"
}
write_conf 10-server.cnf <"$CONFIG_DIR/server.cnf"
# AUTO_INCREMENT keys unique across the app's groups, because resharding moves rows between them: each group
# owns a block of 100 server ids (main 0-99, shard i (i+1)*100-...), and takes the values ≡ group + 1 (mod 100).
auto_increment_offset=$((SERVER_ID_BASE / 100 + 1))
printf '[mysqld]\nserver-id=%d\nreport-host=%s\nauto-increment-increment=100\nauto-increment-offset=%d\n' \
  "$server_id" "$HOSTNAME" "$auto_increment_offset" | write_conf 30-server-id.cnf
render_sql "$CONFIG_DIR/operator.sql" | write_conf operator-account.sql 0600
printf '[mysqld]\ninit-file=%s\n' "$CONF_D/operator-account.sql" | write_conf 40-operator-account.cnf
log "$HOSTNAME: $ROLE StatefulSet, server-id $server_id"

mkdir -p "$DATA_DIR"
if [[ -z $(ls -A "$DATA_DIR") ]]; then
  touch "$BOOTSTRAP_MARKER"
  log "empty data directory: the server bootstraps on this start"
elif [[ -e $BOOTSTRAP_MARKER ]]; then
  log "the bootstrap of an earlier start did not finish: emptying $DATA_DIR to bootstrap again"
  find "$DATA_DIR" -mindepth 1 -delete
fi
