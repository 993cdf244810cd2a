# shellcheck shell=bash
# Process helpers shared by hack/cluster.sh and hack/node.sh: components run as recorded PIDs (one pid file and
# one log per component), started in their own session, stopped TERM-then-KILL, and waited on with a log tail
# when they die during startup.
#
# The sourcing script sets LOG_TAG, RUN (pid files), LOGS (log files) and STOP_TIMEOUT (seconds), and defines
# `pid_is NAME PID`: true when PID is alive, not a zombie, and really that component (its command line carries
# something only ours has), which guards against a recycled PID from a stale pid file.

log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }

pid_file() { echo "${RUN}/$1.pid"; }

# pid_alive_with PID STRING: PID is running (not a zombie) and its command line contains STRING.
pid_alive_with() {
  local pid="$1"
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/${pid}/cmdline" ]] || return 1
  [[ "$(awk '/^State:/ {print $2}' "/proc/${pid}/status" 2>/dev/null)" != Z ]] || return 1
  tr '\0' '\n' <"/proc/${pid}/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# Prints the PID of a running component, or fails.
running_pid() {
  local f pid
  f="$(pid_file "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(<"$f")"
  pid_is "$1" "$pid" || return 1
  echo "$pid"
}

is_running() { running_pid "$1" >/dev/null; }

# start_process NAME BINARY ARGS...
start_process() {
  local name="$1" bin="$2" logf pid
  shift 2
  [[ -x "$bin" ]] || die "$name binary not found: $bin"
  mkdir -p "$RUN" "$LOGS"
  logf="${LOGS}/${name}.log"
  [[ -f "$logf" ]] && mv -f "$logf" "${logf}.prev"
  # setsid: own session, so the component outlives the calling shell and its process group; stdin closed;
  # fd 9 (the state lock) is not passed on.
  setsid "$bin" "$@" >"$logf" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$(pid_file "$name")"
  # Until it execs, the child is a copy of this shell and its command line is ours, not the component's: wait
  # for the exec (at most 5 s), or a slow exec on a busy machine passes for a component that died at startup.
  local i
  for ((i = 0; i < 100; i++)); do
    pid_is "$name" "$pid" && break
    sleep 0.05
  done
  log "started ${name} (pid ${pid}, log ${logf})"
}

# stop_pid NAME PID: TERM, wait up to STOP_TIMEOUT seconds, then KILL.
stop_pid() {
  local name="$1" pid="$2" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    pid_is "$name" "$pid" || { log "stopped ${name} (pid ${pid})"; return 0; }
    sleep 0.1
  done
  log "${name} (pid ${pid}) did not exit after ${STOP_TIMEOUT}s; sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_is "$name" "$pid" || return 0
    sleep 0.1
  done
  log "WARNING: ${name} (pid ${pid}) still present after KILL"
}

stop_component() {
  local name="$1" pid
  if pid="$(running_pid "$name")"; then
    stop_pid "$name" "$pid"
  elif [[ -f "$(pid_file "$name")" ]]; then
    log "removing stale pid file for ${name}"
  fi
  rm -f "$(pid_file "$name")"
}

# wait_for WHAT TIMEOUT_S COMMAND...: poll until COMMAND succeeds.
wait_for() {
  local what="$1" timeout="$2" deadline
  shift 2
  deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    if (($(date +%s) >= deadline)); then
      log "timed out after ${timeout}s waiting for ${what}"
      return 1
    fi
    sleep 0.2
  done
}

# wait_component NAME TIMEOUT_S COMMAND...: like wait_for, but fails fast, with the log's tail, when the
# component died.
wait_component() {
  local name="$1" timeout="$2" deadline
  shift 2
  deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! is_running "$name"; then
      log "${name} exited during startup; last log lines:"
      tail -n 40 "${LOGS}/${name}.log" >&2 || true
      return 1
    fi
    if (($(date +%s) >= deadline)); then
      log "timed out after ${timeout}s waiting for ${name}; last log lines:"
      tail -n 40 "${LOGS}/${name}.log" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

# lock_dir DIR TIMEOUT_S: holds DIR/.lock (fd 9, which start_process does not pass on) for the rest of the
# script, so that up/down of one state dir never run at the same time (parallel CI jobs, two shells).
lock_dir() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  flock -w "$2" 9 || die "could not lock $1/.lock"
}
