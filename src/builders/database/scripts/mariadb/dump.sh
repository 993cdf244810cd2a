#!/bin/bash
# Prints a consistent copy of the primary's databases (all but the system schemas) that ends with
# SET GLOBAL gtid_slave_pos = <the GTID position of the copy>. --single-transaction reads one snapshot;
# --master-data holds a global read lock for the moment it takes to read the position with it.
source "${CONFIG_DIR:-/config}/lib.sh"
list="$(primary_sql -N -B <"$CONFIG_DIR/databases.sql")"
mapfile -t databases <<<"$list"
primary_run mariadb-dump mysqldump --single-transaction --master-data=1 --gtid \
  --routines --events --triggers --databases "${databases[@]}"
