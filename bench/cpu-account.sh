#!/usr/bin/env bash
# Where one bulk stream's CPU goes, per burrow process (relay, skeleton, client forwarder).
#
#   bash bench/cpu-account.sh [--gib N] [--reps N] [--perf] [--extra-node-flags '...'] [--bins A,B]
#
# Starts relay, skeleton and `client connect` (as bench/contenders/burrow.sh does, --log-level warn),
# sends N GiB (default 2) with `iperf3 -n` through the forwarder to an iperf3 server behind the skeleton,
# and prints per process: CPU-s per GiB (user and system), read and write syscalls per MiB and the
# average bytes per syscall (from /proc/PID/io, exact and free). With --perf it also samples each
# process with `perf record` and splits its CPU into crypto, kernel copy, kernel rest (TCP, syscalls),
# GC, user-space copy, JavaScript and the rest of the runtime (bench/perf-classify.awk).
# --bins A,B compares builds (paths of burrow.js, default this tree's dist/bin/burrow.js; PATH+FLAGS adds
# node flags to one, e.g. dist/bin/burrow.js+--max-semi-space-size=32): within each
# repetition every build runs in turn, so they share the machine's load. Loopback only; every transfer is
# bounded by size and by `timeout`. Median over --reps (default 3).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
NODE_BENCH=$ROOT/dist/bench
ARGS="$*"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
GIB=2
REPS=3
PERF=0
EXTRA_FLAGS=""
BINS=$ROOT/dist/bin/burrow.js
while [ $# -gt 0 ]; do
  case $1 in
    --gib) GIB=${2:?}; shift ;;
    --reps) REPS=${2:?}; shift ;;
    --perf) PERF=1 ;;
    --extra-node-flags) EXTRA_FLAGS=${2:?}; shift ;;
    --bins) BINS=${2:?}; shift ;;
    -h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cpu-account.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
for tool in iperf3 node; do command -v "$tool" >/dev/null || { echo "cpu-account.sh: needs $tool" >&2; exit 1; }; done
[ "$PERF" -eq 0 ] || command -v perf >/dev/null || { echo "cpu-account.sh: --perf needs perf (linux-perf)" >&2; exit 1; }
[ -f dist/bin/burrow.js ] || npx tsc -p . >&2 || exit 1

STANDALONE=cpu
# shellcheck source=bench/lib/standalone.sh
. "$ROOT/bench/lib/standalone.sh"
IFS=, read -r -a BIN_LIST <<<"$BINS"
use_bin() {
  local path=${1%%+*} flags=""
  [ "$path" = "$1" ] || flags=${1#*+}
  # shellcheck disable=SC2206
  BURROW=(node --initial-old-space-size=64 --max-semi-space-size=2 $EXTRA_FLAGS $flags "$path")
}

# snap PID: "utime_ticks stime_ticks syscr syscw rchar wchar"
snap() {
  local stat io
  stat=$(awk '{ sub(/.*\) /, ""); print $12, $13 }' "/proc/$1/stat")
  io=$(awk '/^(syscr|syscw|rchar|wchar):/ { v[$1] = $2 } END { print v["syscr:"], v["syscw:"], v["rchar:"], v["wchar:"] }' "/proc/$1/io")
  echo "$stat $io"
}

use_bin "${BIN_LIST[0]}"
burrow_init || exit 1
BYTES=$((GIB * 1024 * 1024 * 1024))
ROWS=$WORK/rows.tsv
: >"$ROWS"
for REP in $(seq 1 "$REPS"); do
for BIN in "${BIN_LIST[@]}"; do
  use_bin "$BIN"
  CASE=rep$REP-$(echo "$BIN" | tr -c 'A-Za-z0-9=\n' '_' | tail -c 60)
  # A persistent iperf3 server (not -s -1): one warm-up transfer, then the measured one.
  pick_port IPERF_PORT || exit 1
  start_bg "$CASE-iperf3-server" iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT"
  IPERF_PID=$BG_PID
  wait_listen "$IPERF_PORT" 10 "$IPERF_PID" || exit 1
  burrow_setup "$IPERF_PORT" || { log "setup failed; logs in $LOGS"; exit 1; }
  read -r P_CLIENT P_RELAY P_SKEL <<<"$C_PIDS"
  declare -A BEFORE=() AFTER=()
  # Warm-up: the first stream pays the JIT and the window growth.
  timeout -k 5 30 iperf3 -c 127.0.0.1 -p "$C_PORT" -n 256M --connect-timeout 5000 >/dev/null 2>&1
  for role in client relay skeleton; do
    pid_var=P_${role^^}; [ "$role" = skeleton ] && pid_var=P_SKEL
    BEFORE[$role]=$(snap "${!pid_var}")
  done
  PERF_PIDS=()
  if [ "$PERF" -eq 1 ]; then
    for role in client relay skeleton; do
      pid_var=P_${role^^}; [ "$role" = skeleton ] && pid_var=P_SKEL
      perf record ${PERF_RECORD_FLAGS:-} -F 999 -q -o "$WORK/$CASE-$role.perf" -p "${!pid_var}" >/dev/null 2>&1 &
      PERF_PIDS+=($!)
    done
    sleep 0.5
  fi
  t0=$(date +%s.%N)
  timeout -k 5 120 iperf3 -c 127.0.0.1 -p "$C_PORT" -n "$BYTES" -J --connect-timeout 5000 >"$LOGS/$CASE-iperf3.json" 2>&1
  t1=$(date +%s.%N)
  for role in client relay skeleton; do
    pid_var=P_${role^^}; [ "$role" = skeleton ] && pid_var=P_SKEL
    AFTER[$role]=$(snap "${!pid_var}")
  done
  for p in "${PERF_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
  for p in "${PERF_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  secs=$(calc "$t1 - $t0")
  for role in client relay skeleton; do
    read -r u0 s0 r0 w0 rc0 wc0 <<<"${BEFORE[$role]}"
    read -r u1 s1 r1 w1 rc1 wc1 <<<"${AFTER[$role]}"
    gib=$(calc "$BYTES / 1073741824")
    mib=$(calc "$BYTES / 1048576")
    row="$REP	$role	$(calc "($u1 - $u0) / $BENCH_CLK_TCK / $gib")	$(calc "($s1 - $s0) / $BENCH_CLK_TCK / $gib")"
    row+="	$(calc "($r1 - $r0) / $mib")	$(calc "($rc1 - $rc0) / (($r1 - $r0) + 0.0001) / 1024")"
    row+="	$(calc "($w1 - $w0) / $mib")	$(calc "($wc1 - $wc0) / (($w1 - $w0) + 0.0001) / 1024")	$(calc "$BYTES * 8 / $secs / 1e9")	$BIN"
    if [ "$PERF" -eq 1 ]; then
      row+="	$(perf report -i "$WORK/$CASE-$role.perf" --no-children --sort dso,sym --stdio -q 2>/dev/null | awk -f "$ROOT/bench/perf-classify.awk")"
    fi
    echo "$row" >>"$ROWS"
  done
  stop_pids "$P_CLIENT" "$P_RELAY" "$P_SKEL"
  stop_pids "$IPERF_PID"
done
done

# The median of each column per role.
node "$NODE_BENCH/cpu-account-report.js" "$ROWS" "$PERF"
echo
echo "bash bench/cpu-account.sh${ARGS:+ $ARGS}, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
host_markdown
echo "raw rows and logs: $WORK" >&2
