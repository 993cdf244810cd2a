# The `kubectl sapp mysql` session, run by bash in a database container: bash -c "$(this)" kubectl-sapp-mysql USER
# [client args...]. USER is app (the app's account, on its database) or root (over the local socket; root is
# local only). The passwords, APP_USER and APP_DATABASE come from the container's environment; the password
# reaches the client in an option file on a pipe, as the operator's scripts do (lib.sh), never as an argument.
set -eu
case "${1:-}" in
  app) user="$APP_USER" password="$MYSQL_APP_PASSWORD" ;;
  root) user=root password="$MYSQL_ROOT_PASSWORD" ;;
  *) echo "kubectl-sapp: unknown MySQL user '${1:-}' (app or root)" >&2; exit 2 ;;
esac
shift
# mariadb:11 ships only mariadb, mysql:8.4 only mysql.
client="$(command -v mariadb || command -v mysql)" || {
  echo "kubectl-sapp: neither mariadb nor mysql is installed in this container" >&2
  exit 127
}
password="${password//\\/\\\\}"
options="$(printf '[client]\nuser=%s\npassword="%s"' "$user" "${password//\"/\\\"}")"
exec "$client" --defaults-extra-file=<(printf '%s\n' "$options") --socket="${MYSQL_SOCKET:-/var/run/mysqld/mysqld.sock}" \
  --database="$APP_DATABASE" "$@"
