# Running one case of a benchmark (sourced by bench/run.sh and bench/public.sh after common.sh,
# workloads.sh and the contenders). Needs REP, WL, CT, REPS, LOGS, NOTES, PAUSE, NODE_BENCH, COMMAND,
# QUICK; each contender CT defines CT_setup TARGET, CT_teardown; each workload WL a wl_WL function
# (idle-N: wl_idle N) and a real server from workload_target.

# shellcheck source=bench/lib/machine.sh
. "$ROOT/bench/lib/machine.sh"

on_exit() {
  local rc=$?
  trap - EXIT
  stop_all
  log "logs and raw results: $WORK"
  exit "$rc"
}

# run_workload: the current workload; with C_ROLES ("front:PID agent:PID ...") also records each
# role's CPU use during it, in percent of one core (cpu_pct_ROLE).
run_workload() {
  local role pids=() c0=() c1 i t0 t1
  for role in ${C_ROLES:-}; do pids+=("${role#*:}"); c0+=("$(node "$NODE_BENCH/proc-stats.js" cpu "${role#*:}")"); done
  t0=$(date +%s.%N)
  case $WL in
    idle-*) wl_idle "${WL#idle-}" ;;
    *) "wl_$WL" ;;
  esac
  t1=$(date +%s.%N)
  i=0
  for role in ${C_ROLES:-}; do
    c1=$(node "$NODE_BENCH/proc-stats.js" cpu "${pids[$i]}")
    record "cpu_pct_${role%%:*}" "$(calc "($c1 - ${c0[$i]}) * 100 / ($t1 - $t0)")"
    i=$((i + 1))
  done
}

run_case() {
  CASE="r$REP-$WL-$CT"
  local fn=${CT//-/_} pid
  TARGET="" C_PORT="" C_PIDS="" C_ROLES="" IPERF_PID=""
  if ! workload_target "$WL"; then
    record_failure "the real server did not start"
  elif ! "${fn}_setup" "$TARGET"; then
    record_failure "setup failed (logs: $LOGS/$CASE-*)"
  else
    log "rep $REP/$REPS  $WL  $CT  (127.0.0.1:$C_PORT)"
    run_workload
    for pid in $C_PIDS; do
      alive "$pid" || record_failure "tunnel process $pid ($(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null | cut -c1-40)) died during the workload (logs: $LOGS/$CASE-*)"
    done
  fi
  "${fn}_teardown"
  # Whatever the tunnel's processes logged (burrow at warn, sshd at ERROR, haproxy warnings) goes in the report.
  local logs=() f line
  for f in "$LOGS/$CASE"-*.log; do
    case $f in *-iperf3-server.log) ;; *) [ -s "$f" ] && logs+=("$f") ;; esac
  done
  if [ ${#logs[@]} -gt 0 ]; then
    while IFS= read -r line; do
      [ -n "$line" ] && printf '%s\t%s\t%s\t%s\n' "$REP" "$WL" "$CT" "$line" >>"$NOTES"
    done < <(node "$NODE_BENCH/log-summary.js" "${logs[@]}")
  fi
  # shellcheck disable=SC2086
  [ -n "$IPERF_PID" ] && stop_pids $IPERF_PID
  sleep "$PAUSE"
}

first_line() { "$@" 2>&1 | head -n 1; }

# machine_meta: the run's and the machine's lines of the meta file (key TAB value). Needs T_START,
# T_END, LOAD_START, DUR, CONNECT_COUNT, WORK, CONTENDERS.
machine_meta() {
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf 'command\t%s\n' "$COMMAND"
  printf 'quick\t%s\n' "$QUICK"
  printf 'reps\t%s\n' "$REPS"
  host_meta # bench/lib/machine.sh: CPU, flags, kernel, mitigations, Node, OpenSSL
  printf 'burrow\t%s\n' "$(node "$ROOT/dist/bin/burrow.js" --version)"
  printf 'haproxy\t%s\n' "$(first_line haproxy -v)"
  printf 'iperf3\t%s\n' "$(first_line iperf3 --version)"
  printf 'wrk\t%s\n' "$(first_line wrk -v)"
  printf 'nginx\t%s\n' "$(first_line nginx -v)"
  printf 'duration_s\t%s\n' "$DUR"
  printf 'connect_count\t%s\n' "$CONNECT_COUNT"
  printf 'wall_s\t%s\n' "$((T_END - T_START))"
  printf 'loadavg\t%s at the start, %s at the end\n' "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'work\t%s\n' "$WORK"
  printf 'contenders\t%s\n' "$CONTENDERS"
}
