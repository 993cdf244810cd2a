#!/bin/bash
# docker-entrypoint.sh of the local node's MariaDB image (Debian's mariadb-server, built by hack/node-images.sh).
# The operator's database pods hand over to the image's entrypoint (start.sh: `exec docker-entrypoint.sh
# mariadbd`) and rely on what the official mariadb image's entrypoint does on the first start of an empty data
# directory; this is that subset:
#   1. mariadb-install-db into the configured datadir;
#   2. a temporary server on the Unix socket only (no networking, replication not started);
#   3. the root password from MARIADB_ROOT_PASSWORD or MYSQL_ROOT_PASSWORD, root@localhost and
#      root@<MARIADB_ROOT_HOST or MYSQL_ROOT_HOST, default '%'> unless that is localhost, not binary-logged;
#   4. /docker-entrypoint-initdb.d/*.sh (run when executable, sourced otherwise) and *.sql, in name order;
#   5. the temporary server stops; then `exec "$@"` starts the real server.
# A data directory that holds a database already goes straight to step 5.
set -euo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ "${1:0:1}" == - ]]; then set -- mariadbd "$@"; fi
if [[ "$1" != mariadbd && "$1" != mysqld ]]; then exec "$@"; fi

# What the server itself reads from its configuration (conf.d included).
setting() { # name server-command...
  local name="$1"
  shift
  "$@" --verbose --help 2>/dev/null | awk -v k="$name" '$1 == k { print $2; exit }'
}
DATADIR="$(setting datadir "$@")"
SOCKET="$(setting socket "$@")"
DATADIR="${DATADIR:-/var/lib/mysql/}"
SOCKET="${SOCKET:-/run/mysqld/mysqld.sock}"

if [[ ! -d "${DATADIR%/}/mysql" ]]; then
  root_password="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}"
  [[ -n "$root_password" ]] || die "the data directory is empty and neither MARIADB_ROOT_PASSWORD nor MYSQL_ROOT_PASSWORD is set"
  log "initializing ${DATADIR}"
  mkdir -p "$DATADIR"
  mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal --skip-test-db \
    --default-time-zone=SYSTEM --enforce-storage-engine= --skip-log-bin --expire-logs-days=0 \
    --loose-innodb_buffer_pool_load_at_startup=0 --loose-innodb_buffer_pool_dump_at_shutdown=0 "${@:2}" >/dev/null

  log "starting a temporary server on ${SOCKET}"
  "$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" --wsrep_on=OFF --expire-logs-days=0 \
    --skip-slave-start --loose-innodb_buffer_pool_load_at_startup=0 &
  temp_pid=$!
  for ((i = 0; i < 300; i++)); do
    mariadb-admin --socket="$SOCKET" --user=root --connect-timeout=1 ping >/dev/null 2>&1 && break
    kill -0 "$temp_pid" 2>/dev/null || die "the temporary server exited"
    sleep 0.2
  done
  mariadb-admin --socket="$SOCKET" --user=root ping >/dev/null || die "the temporary server did not answer"

  escaped="${root_password//\\/\\\\}"
  escaped="${escaped//\'/\\\'}"
  root_host="${MARIADB_ROOT_HOST:-${MYSQL_ROOT_HOST:-%}}"
  [[ $root_host != *"'"* && $root_host != *\\* ]] || die "the root host '$root_host' holds a quote or a backslash"
  root_elsewhere=''
  if [[ $root_host != localhost ]]; then
    root_elsewhere="CREATE USER 'root'@'${root_host}' IDENTIFIED BY '${escaped}';
GRANT ALL ON *.* TO 'root'@'${root_host}' WITH GRANT OPTION;
GRANT PROXY ON ''@'%' TO 'root'@'${root_host}' WITH GRANT OPTION;"
  fi
  mariadb --socket="$SOCKET" --user=root --protocol=socket <<SQL
SET @@SESSION.SQL_LOG_BIN=0;
SET @@SESSION.SQL_MODE=REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');
DROP USER IF EXISTS root@'127.0.0.1', root@'::1';
EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname, '\'');
SET PASSWORD FOR 'root'@'localhost' = PASSWORD('${escaped}');
${root_elsewhere}
SQL

  client_options() { printf '[client]\nuser=root\npassword="%s"\n' "${escaped//\"/\\\"}"; }
  shopt -s nullglob
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)
        log "running $f"
        if [[ -x "$f" ]]; then "$f"; else
          # shellcheck disable=SC1090 # the image's contract: non-executable scripts are sourced
          . "$f"
        fi
        ;;
      *.sql)
        log "running $f"
        mariadb --defaults-extra-file=<(client_options) --socket="$SOCKET" <"$f"
        ;;
      *) log "ignoring $f" ;;
    esac
  done

  log "stopping the temporary server"
  mariadb-admin --defaults-extra-file=<(client_options) --socket="$SOCKET" shutdown
  wait "$temp_pid" || true
  log "initialized; starting the server"
fi

exec "$@"
