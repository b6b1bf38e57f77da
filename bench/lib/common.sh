# Shared helpers for bench/run.sh (sourced). Needs: WORK (temp dir), LOGS, ROOT, NODE_BENCH (dist/bench).
# Every process the benchmark starts goes through start_bg, so the EXIT trap can stop exactly those.

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

STARTED_PIDS=()   # every process started by start_bg, stopped by stop_all (trap)
USED_PORTS=" "

# start_bg NAME CMD...: runs CMD in the background, stdin from /dev/null, stdout to $LOGS/NAME.out,
# stderr (where burrow, sshd and haproxy log) to $LOGS/NAME.log.
# Sets BG_PID (the command's own pid: bash execs a simple command in the forked child).
start_bg() {
  local name=$1
  shift
  "$@" </dev/null >"$LOGS/$name.out" 2>"$LOGS/$name.log" &
  BG_PID=$!
  STARTED_PIDS+=("$BG_PID")
}

# alive PID: running and not a zombie.
alive() {
  local state
  state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# proc_tree PID...: the pids and their live descendants.
proc_tree() {
  [ $# -gt 0 ] || return 0
  node "$NODE_BENCH/proc-stats.js" tree "$@"
}

# stop_pids PID...: SIGTERM to the trees under PIDs, SIGKILL to whatever is left after 5 s; reaps ours.
stop_pids() {
  [ $# -gt 0 ] || return 0
  local tree pid i
  tree=$(proc_tree "$@")
  for pid in $tree; do kill -TERM "$pid" 2>/dev/null; done
  for i in $(seq 1 50); do
    local left=0
    for pid in $tree; do alive "$pid" && left=1; done
    [ "$left" -eq 0 ] && break
    sleep 0.1
  done
  for pid in $tree; do alive "$pid" && kill -KILL "$pid" 2>/dev/null; done
  for pid in "$@"; do wait "$pid" 2>/dev/null; done
  return 0
}

# stop_all: every process this run started (the EXIT trap).
stop_all() {
  local live=() pid
  for pid in "${STARTED_PIDS[@]}"; do alive "$pid" && live+=("$pid"); done
  [ ${#live[@]} -gt 0 ] && stop_pids "${live[@]}"
  STARTED_PIDS=()
}

# port_in_use PORT: any TCP socket (any state) on that local port.
port_in_use() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p="$hex" 'FNR > 1 { split($2, a, ":"); if (a[2] == p) found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# pick_port VAR: a free port in 20000-31999 (below the ephemeral range, so no outgoing connection on the
# machine can take it between now and our listen), never one used before in this run.
pick_port() {
  local p i
  for i in $(seq 1 500); do
    p=$((20000 + RANDOM % 12000))
    case "$USED_PORTS" in *" $p "*) continue ;; esac
    if ! port_in_use "$p"; then
      USED_PORTS+="$p "
      printf -v "$1" '%s' "$p"
      return 0
    fi
  done
  log "no free port found"
  return 1
}

# wait_listen PORT [SECONDS] [PID]: until 127.0.0.1:PORT is listening (fails early if PID died).
wait_listen() {
  local port=$1 secs=${2:-15} pid=${3:-} hex i
  hex=$(printf '0100007F:%04X' "$port")
  for i in $(seq 1 $((secs * 10))); do
    awk -v a="$hex" 'FNR > 1 && $2 == a && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp && return 0
    if [ -n "$pid" ] && ! alive "$pid"; then
      log "process $pid exited before listening on $port"
      return 1
    fi
    sleep 0.1
  done
  log "nothing listens on 127.0.0.1:$port after ${secs}s"
  return 1
}

# cpu_now: CPU seconds used so far by the current contender's processes (empty for direct).
cpu_now() {
  [ -n "$C_PIDS" ] || return 0
  # shellcheck disable=SC2086
  node "$NODE_BENCH/proc-stats.js" cpu $C_PIDS
}

# cpu_each_now: the same per process, "CLIENT_SIDE RELAY SERVER_SIDE" (every contender lists its
# processes in C_PIDS in that order).
cpu_each_now() {
  [ -n "$C_PIDS" ] || return 0
  # shellcheck disable=SC2086
  node "$NODE_BENCH/proc-stats.js" cpu-each $C_PIDS
}

# record_each KEY_PREFIX "A0 B0 C0" "A1 B1 C1" DIVISOR: per-process (after - before) / DIVISOR as
# KEY_PREFIX_client, _relay and _server.
record_each() {
  local -a before after
  read -r -a before <<<"$2"
  read -r -a after <<<"$3"
  [ "${#before[@]}" -eq 3 ] && [ "${#after[@]}" -eq 3 ] || return 0
  local i roles=(client relay server)
  for i in 0 1 2; do record "$1_${roles[$i]}" "$(calc "(${after[$i]} - ${before[$i]}) / $4")"; done
}

# record KEY VALUE: one measurement of the current case.
record() {
  [ -n "$2" ] || return 0
  printf '%s\t%s\t%s\t%s\t%s\n' "$REP" "$WL" "$CT" "$1" "$2" >>"$RESULTS"
}

# record_failure MESSAGE: the current case failed (it goes into the report, with its logs kept).
# One line, tabs and newlines folded, at most 600 characters.
record_failure() {
  local msg
  msg=$(printf '%s' "$*" | tr '\t\n' '  ' | tr -s ' ' | cut -c1-600)
  log "FAILED rep $REP $WL $CT: $msg"
  printf '%s\t%s\t%s\t%s\n' "$REP" "$WL" "$CT" "$msg" >>"$FAILURES"
}

# calc EXPR: floating-point arithmetic.
calc() { awk "BEGIN { printf \"%.4f\", $* }"; }
