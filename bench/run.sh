#!/usr/bin/env bash
# Benchmark: burrow against what users would otherwise use, on loopback (127.0.0.1) only.
#
#   bash bench/run.sh [--quick] [--reps N] [--out FILE] [--workloads a,b] [--contenders a,b]
#
# Every contender has the same three-hop shape:
#   app -> client-side forwarder -> relay -> server-side agent -> real server
# Contenders (interleaved in each repetition, per workload): direct, haproxy (3 plain TCP hops),
# ssh-default and ssh-gcm (sshd as relay, ssh -R / ssh -L), burrow (relay, skeleton, client connect),
# and on request burrow-separate (client connect --separate-streams: one relay stream per connection),
# burrow-ws and burrow-ws-separate (skeleton and client on ws:// through nginx; transport-ratios.js
# then prints burrow-ws / burrow and burrow-ws-separate / burrow-separate).
# Workloads: iperf1 iperf4 wrk_close wrk_ka connect redis idle-1000 [idle-10000].
#
# Installs what is missing from Debian (as root), builds burrow, runs everything, writes a Markdown
# report (default docs/BENCHMARKS.md) and prints it. --quick: 1 repetition, 3 s runs, small counts.
# Logs and raw results stay in /tmp/burrow-bench.XXXXXX (printed at the end).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
NODE_BENCH=$ROOT/dist/bench
COMMAND="bash bench/run.sh${*:+ $*}"

QUICK=0
REPS=""
OUT=docs/BENCHMARKS.md
WORKLOADS=""
CONTENDERS="direct,haproxy,ssh-default,ssh-gcm,burrow"
usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --reps) REPS=${2:?--reps needs a number}; shift ;;
    --out) OUT=${2:?--out needs a file}; shift ;;
    --workloads) WORKLOADS=${2:?}; shift ;;
    --contenders) CONTENDERS=${2:?}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [ "$QUICK" -eq 1 ]; then
  REPS=${REPS:-1} DUR=3 CONNECT_COUNT=100 CONNECT_WARMUP=5 REDIS_N=10000 PAUSE=0.5
else
  REPS=${REPS:-3} DUR=10 CONNECT_COUNT=500 CONNECT_WARMUP=20 REDIS_N=100000 PAUSE=1
fi
case $REPS in '' | *[!0-9]* | 0) echo "run.sh: --reps must be a positive integer" >&2; exit 2 ;; esac
# Names are checked before anything is installed or built.
IFS=, read -r -a _names <<<"$CONTENDERS"
for CT in "${_names[@]}"; do
  case $CT in direct | haproxy | ssh-default | ssh-gcm | burrow | burrow-separate | burrow-ws | burrow-ws-separate) ;;
    *) echo "run.sh: unknown contender '$CT' (direct, haproxy, ssh-default, ssh-gcm, burrow, burrow-separate, burrow-ws, burrow-ws-separate)" >&2; exit 2 ;;
  esac
done
IFS=, read -r -a _names <<<"$WORKLOADS"
for WL in "${_names[@]}"; do
  case $WL in iperf1 | iperf4 | wrk_close | wrk_ka | connect | redis | idle-[1-9]*) ;;
    *) echo "run.sh: unknown workload '$WL' (iperf1, iperf4, wrk_close, wrk_ka, connect, redis, idle-N)" >&2; exit 2 ;;
  esac
done
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- 1. tools from Debian, only what is missing ---------------------------------------------------
install_missing() {
  local -A need=(
    [iperf3]=iperf3 [wrk]=wrk [haproxy]=haproxy [/usr/sbin/sshd]=openssh-server [ssh]=openssh-client
    [ssh-keygen]=openssh-client [redis-server]=redis-server [redis-benchmark]=redis-tools [nginx]=nginx-light
  )
  local missing=() cmd pkg
  for cmd in "${!need[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 && continue
    pkg=${need[$cmd]}
    [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "missing ${missing[*]}; run as root to install them"
    return 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packaged services (nginx, redis, haproxy) must not start on install: they would listen on
  # non-loopback addresses. Deny service starts for the duration, unless a policy is already there.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
  fi
  local rc=0
  apt-get update -q >&2 || rc=$?
  if [ "$rc" -eq 0 ]; then
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || {
      # nginx-light is a transitional package on some releases: fall back to nginx.
      say "install failed; retrying with nginx instead of nginx-light"
      apt-get install -y -q --no-install-recommends "${missing[@]/nginx-light/nginx}" >&2
    } || rc=$?
  fi
  [ "$made_policy" -eq 1 ] && rm -f "$policy"
  return "$rc"
}
install_missing || { say "could not install the tools"; exit 1; }

# --- 2. build ----------------------------------------------------------------------------------------
if [ ! -d node_modules ]; then
  say "npm ci"
  npm ci --no-audit --no-fund >&2 || exit 1
fi
say "building (npx tsc -p .)"
if ! npx tsc -p . >&2; then
  # tsc still emits on type errors (other work in progress in the tree); go on if the files are there.
  say "WARNING: tsc reported errors; continuing with what it emitted"
fi
for f in bin/burrow.js bench/proc-stats.js bench/echo-server.js bench/connect-latency.js bench/idle-conns.js bench/parse-output.js bench/report.js bench/log-summary.js; do
  [ -f "dist/$f" ] || { say "dist/$f is missing after the build"; exit 1; }
done

# --- 3. limits, work dir, cleanup ------------------------------------------------------------------
ulimit -Hn 65536 2>/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)
export BENCH_CLK_TCK
BENCH_CLK_TCK=$(getconf CLK_TCK)
# The 10,000-connection case: relay, client forwarder and each haproxy hop hold 2 sockets per
# connection. If the open-files limit cannot hold 10,000 of them, run the largest multiple of 1,000
# that fits and say so in the report.
IDLE_COUNTS=(1000)
BIG_NOTE=""
if [ "$QUICK" -eq 0 ]; then
  BIG=$(( (NOFILE - 512) / 2 / 1000 * 1000 ))
  [ "$BIG" -gt 10000 ] && BIG=10000
  if [ "$BIG" -lt 10000 ]; then
    BIG_NOTE="10,000 idle connections need ulimit -n >= 20512 for the contenders that hold 2 sockets per connection in one process (each haproxy hop, sshd, burrow's relay and client with --separate-streams); this machine allows $NOFILE (hard limit, not raisable here), so the large case ran with $BIG. A burrow tunnel holds 1 per connection in the client and the skeleton and 2 in all at the relay: \`--workloads idle-10000 --contenders burrow\` runs it at full size."
    say "$BIG_NOTE"
  fi
  [ "$BIG" -gt 1000 ] && IDLE_COUNTS+=("$BIG")
fi

WORK=$(mktemp -d /tmp/burrow-bench.XXXXXX)
LOGS=$WORK/logs
RESULTS=$WORK/results.tsv
FAILURES=$WORK/failures.tsv
NOTES=$WORK/notes.tsv
META=$WORK/meta.tsv
mkdir -p "$LOGS"
: >"$RESULTS"
: >"$FAILURES"
: >"$NOTES"

# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
. "$ROOT/bench/lib/backends.sh"
. "$ROOT/bench/lib/workloads.sh"
for f in "$ROOT"/bench/contenders/*.sh; do . "$f"; done

on_exit() {
  local rc=$?
  trap - EXIT
  stop_all
  log "logs and raw results: $WORK"
  exit "$rc"
}
trap on_exit EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# --- 4. run ------------------------------------------------------------------------------------------
IFS=, read -r -a CT_LIST <<<"$CONTENDERS"
if [ -n "$WORKLOADS" ]; then
  IFS=, read -r -a WL_LIST <<<"$WORKLOADS"
else
  WL_LIST=(iperf1 iperf4 wrk_close wrk_ka connect redis)
  for n in "${IDLE_COUNTS[@]}"; do WL_LIST+=("idle-$n"); done
fi

start_backends || { log "backends did not start (logs in $LOGS)"; exit 1; }
for CT in "${CT_LIST[@]}"; do
  "${CT//-/_}_init" || { log "$CT: init failed"; exit 1; }
done

run_case() {
  CASE="r$REP-$WL-$CT"
  local fn=${CT//-/_} pid
  TARGET="" C_PORT="" C_PIDS="" IPERF_PID=""
  if ! workload_target "$WL"; then
    record_failure "the real server did not start"
  elif ! "${fn}_setup" "$TARGET"; then
    record_failure "setup failed (logs: $LOGS/$CASE-*)"
  else
    log "rep $REP/$REPS  $WL  $CT  (127.0.0.1:$C_PORT)"
    case $WL in
      idle-*) wl_idle "${WL#idle-}" ;;
      *) "wl_$WL" ;;
    esac
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

for REP in $(seq 1 "$REPS"); do
  for WL in "${WL_LIST[@]}"; do
    for CT in "${CT_LIST[@]}"; do run_case; done
  done
done
T_END=$(date +%s)

# --- 5. report ---------------------------------------------------------------------------------------
first_line() { "$@" 2>&1 | head -n 1; }
{
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf 'command\t%s\n' "$COMMAND"
  printf 'quick\t%s\n' "$QUICK"
  printf 'reps\t%s\n' "$REPS"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  printf 'kernel\t%s\n' "$(uname -r)"
  printf 'node\t%s\n' "$(node --version)"
  printf 'burrow\t%s\n' "$(node "$ROOT/dist/bin/burrow.js" --version)"
  printf 'openssh\t%s\n' "$(first_line ssh -V)"
  printf 'ssh_default_cipher\t%s\n' "${SSH_DEFAULT_CIPHER:-}"
  printf 'haproxy\t%s\n' "$(first_line haproxy -v)"
  printf 'iperf3\t%s\n' "$(first_line iperf3 --version)"
  printf 'wrk\t%s\n' "$(first_line wrk -v)"
  printf 'redis\t%s\n' "$(first_line redis-server --version)"
  printf 'nginx\t%s\n' "$(first_line nginx -v)"
  printf 'duration_s\t%s\n' "$DUR"
  printf 'connect_count\t%s\n' "$CONNECT_COUNT"
  printf 'redis_n\t%s\n' "$REDIS_N"
  printf 'nofile\t%s\n' "$NOFILE"
  printf 'big_note\t%s\n' "$BIG_NOTE"
  printf 'wall_s\t%s\n' "$((T_END - T_START))"
  printf 'loadavg\t%s at the start, %s at the end\n' "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'work\t%s\n' "$WORK"
  printf 'contenders\t%s\n' "$CONTENDERS"
} >"$META"

mkdir -p "$(dirname "$OUT")"
node "$NODE_BENCH/report.js" --results "$RESULTS" --failures "$FAILURES" --meta "$META" --notes "$NOTES" --out "$OUT" || exit 1
log "report written to $OUT ($(( T_END - T_START )) s)"
case ",$CONTENDERS," in *,burrow-ws*) node "$NODE_BENCH/transport-ratios.js" --results "$RESULTS" ;; esac
