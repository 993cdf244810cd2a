# Shared by the database scripts (sourced, not run): logging, client programs, connections, SQL templates.
# Everything comes from the container's environment; the defaults are the paths inside the pod.
set -euo pipefail

CONFIG_DIR="${CONFIG_DIR:-/config}"
LOCAL_SOCKET="${LOCAL_SOCKET:-/var/run/mysqld/mysqld.sock}"
VOLUME_DIR="${VOLUME_DIR:-/volume}"
# shellcheck disable=SC2034 # used by the scripts that source this file
# Present on the data volume from the first start of an empty data directory until its bootstrap finished.
BOOTSTRAP_MARKER="$VOLUME_DIR/bootstrap-pending"

log() { printf '%s [%s] %s\n' "$(date -u +%FT%TZ)" "${0##*/}" "$*" >&2; }
die() { log "$*"; exit 1; }

# The first of two programs that exists: mariadb:11 ships only mariadb*, mysql:8.4 only mysql*.
program() {
  command -v "$1" 2>/dev/null || command -v "$2" 2>/dev/null || die "neither $1 nor $2 is installed"
}

# A client option file, read from a pipe: passwords appear in no argument list and no file.
client_options() { # user password [more option lines...]
  local password="${2//\\/\\\\}"
  printf '[client]\nuser=%s\npassword="%s"\n' "$1" "${password//\"/\\\"}"
  shift 2
  [[ $# -eq 0 ]] || printf '%s\n' "$@"
}

# Runs a client program (mariadb-x or mysql-x) on the local server as root, over the Unix socket.
local_run() { # mariadb-program mysql-program args...
  local bin
  bin="$(program "$1" "$2")"
  shift 2
  "$bin" --defaults-extra-file=<(client_options root "$MYSQL_ROOT_PASSWORD") --socket="$LOCAL_SOCKET" "$@"
}
local_sql() { local_run mariadb mysql "$@"; }

# Runs a client program on this group's primary as the replication user, over TCP.
primary_run() { # mariadb-program mysql-program args...
  [[ ${PRIMARY_PORT:-} =~ ^[0-9]+$ ]] || die "PRIMARY_PORT must be a port number, not '${PRIMARY_PORT:-}'"
  local bin
  bin="$(program "$1" "$2")"
  shift 2
  # MariaDB 11.4's clients verify certificates by default; the primary's is self-signed. (loose-: MySQL's clients
  # have no such option and take TLS without verification by default.)
  "$bin" --defaults-extra-file=<(client_options "$REPLICATION_USER" "$MYSQL_REPLICATION_PASSWORD" \
    'loose-ssl-verify-server-cert=0') --host="$PRIMARY_HOST" --port="$PRIMARY_PORT" --protocol=TCP "$@"
}
primary_sql() { primary_run mariadb mysql "$@"; }

# Prints a SQL template with its placeholders filled from the environment, in one pass (a value is never
# read as a template):
#   {{NAME}}     the value of NAME escaped for a quoted SQL string ('{{NAME}}')
#   {{id:NAME}}  the value of NAME as is, for identifiers and numbers: letters, digits, _ and \ only
render_sql() { # template-file
  local text rest key name value out=''
  text="$(<"$1")"
  while [[ $text == *'{{'* ]]; do
    out+="${text%%'{{'*}"
    rest="${text#*'{{'}"
    key="${rest%%'}}'*}"
    text="${rest#*'}}'}"
    name="${key#id:}"
    [[ $name =~ ^[A-Z_][A-Z0-9_]*$ && -v $name ]] || die "$1: {{$key}} names no variable that is set"
    value="${!name}"
    if [[ $key == id:* ]]; then
      [[ $value =~ ^[A-Za-z0-9_\\]+$ ]] || die "$1: $name='$value' is not an identifier or a number"
    else
      value="${value//\\/\\\\}"
      value="${value//\'/\\\'}"
    fi
    out+="$value"
  done
  printf '%s%s\n' "$out" "$text"
}
