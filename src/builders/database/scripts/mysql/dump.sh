#!/bin/bash
# Prints a consistent copy of the primary's databases (all but the system schemas) that sets GTID_PURGED to
# the GTID set of the copy. --single-transaction reads one snapshot; --source-data holds a global read lock
# for the moment it takes to read the GTID set with it.
source "${CONFIG_DIR:-/config}/lib.sh"
list="$(primary_sql -N -B <"$CONFIG_DIR/databases.sql")"
mapfile -t databases <<<"$list"
primary_run mysqldump mysqldump --single-transaction --source-data=2 --set-gtid-purged=ON --no-tablespaces \
  --routines --events --triggers --databases "${databases[@]}"
