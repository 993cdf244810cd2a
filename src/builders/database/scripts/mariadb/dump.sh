#!/bin/bash
# Prints a consistent copy of the primary's databases (all but the system schemas) that sets gtid_slave_pos to
# the GTID position of the copy, then gtid_binlog_state to the primary's GTID history up to that position.
# --single-transaction reads one snapshot; --master-data holds a global read lock for the moment it takes to
# read the position with it.
#
# The position names the last transaction of each domain only (0-2-500). The primary's gtid_binlog_state also
# names the last transaction of every other server in the domain (0-1-319: server 1 wrote up to 319 before
# server 2 took over), and the operator compares members server by server: a copy that knew its position only
# would lack server 1's transactions, and the old primary, once this copy is primary, would hold "errant"
# ones and be copied again instead of rejoining. So the primary's history (gtid_binlog_state and
# gtid_slave_pos) is read before and after the dump, and the copy takes every entry at or below its position
# in the entry's domain: with gtid_strict_mode a domain's sequence numbers grow along one history, so what the
# primary wrote after the copy is above the position, an entry read after the dump and at or below it is the
# one of the copy's moment, and one read before is one the copy holds at least. A history read from another
# server than before (a failover during the copy moved the write Service) may not be the copy's: then the copy
# takes its position only. Setting gtid_binlog_state needs a binary log without GTIDs: the bootstrap logs none
# (it runs with sql_log_bin = 0).
source "${CONFIG_DIR:-/config}/lib.sh"
list="$(primary_sql -N -B <"$CONFIG_DIR/databases.sql")"
mapfile -t databases <<<"$list"
# One line: server id <tab> gtid_binlog_state <tab> gtid_slave_pos.
history() { primary_sql -N -B -e 'SELECT @@server_id, @@gtid_binlog_state, @@gtid_slave_pos'; }
before="$(history)"
{
  primary_run mariadb-dump mysqldump --single-transaction --master-data=1 --gtid \
    --routines --events --triggers --databases "${databases[@]}" || exit
  # The last line: read after the dump (an empty line when the primary no longer answers).
  history || echo
} | awk -v before="$before" '
  # Keeps the entries (domain-server-seq) of a GTID list the copy holds: at or below its position.
  function keep(list,   items, n, i, g, origin) {
    n = split(list, items, ",")
    for (i = 1; i <= n; i++) {
      if (split(items[i], g, "-") != 3 || !(g[1] in position) || g[3] + 0 > position[g[1]] + 0) continue
      origin = g[1] "-" g[2]
      if (!(origin in seq) || g[3] + 0 > seq[origin] + 0) seq[origin] = g[3]
    }
  }
  # Whether origin a comes before origin b: by domain, then sequence number, the position of a domain last.
  function precedes(a, b,   x, y) {
    split(a, x, "-"); split(b, y, "-")
    if (x[1] != y[1]) return x[1] + 0 < y[1] + 0
    if (a == last[x[1]] || b == last[y[1]]) return b == last[y[1]]
    return seq[a] + 0 < seq[b] + 0
  }
  # The dump passes through a line behind: the last line is the history read after it.
  NR > 1 { print held }
  { held = $0 }
  /^SET GLOBAL gtid_slave_pos *= *\047[0-9,-]*\047;$/ { found = 1; pos = $0; gsub(/^[^\047]*\047|\047;$/, "", pos) }
  END {
    if (!found) { print "dump.sh: the copy names no GTID position" > "/dev/stderr"; exit 1 }
    n = split(pos, items, ",")
    for (i = 1; i <= n; i++) {
      split(items[i], g, "-")
      position[g[1]] = g[3]; last[g[1]] = g[1] "-" g[2]; seq[last[g[1]]] = g[3]
    }
    split(before, b, "\t"); split(held, a, "\t")
    if (b[1] != "" && b[1] == a[1]) { keep(b[2]); keep(b[3]); keep(a[2]); keep(a[3]) }
    else print "dump.sh: another server answered after the dump: the copy takes its position only" > "/dev/stderr"
    n = 0
    for (origin in seq) {
      for (i = n++; i > 0 && precedes(origin, order[i]); i--) order[i + 1] = order[i]
      order[i + 1] = origin
    }
    state = ""
    for (i = 1; i <= n; i++) state = state (i > 1 ? "," : "") order[i] "-" seq[order[i]]
    # The last entry of a domain becomes its gtid_binlog_pos. (A primary that logged nothing yet: no history.)
    if (state != "") printf "SET GLOBAL gtid_binlog_state = \047%s\047;\n", state
  }'
