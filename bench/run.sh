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

OUT=docs/BENCHMARKS.md
WORKLOADS=""
CONTENDERS="direct,haproxy,ssh-default,ssh-gcm,burrow"
. "$ROOT/bench/lib/common.sh"
. "$ROOT/bench/lib/setup.sh"
parse_bench_args "${BASH_SOURCE[0]}" 2,15 "$@"
# Names are checked before anything is installed or built.
check_names run.sh contender "$CONTENDERS" direct haproxy ssh-default ssh-gcm burrow burrow-separate burrow-ws burrow-ws-separate
check_names run.sh workload "$WORKLOADS" iperf1 iperf4 wrk_close wrk_ka connect redis 'idle-[1-9]*'
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- 1. tools from Debian, only what is missing; 2. build -------------------------------------------
install_missing iperf3=iperf3 wrk=wrk haproxy=haproxy /usr/sbin/sshd=openssh-server ssh=openssh-client \
  ssh-keygen=openssh-client redis-server=redis-server redis-benchmark=redis-tools nginx=nginx-light ||
  { say "could not install the tools"; exit 1; }
build_burrow bin/burrow.js bench/proc-stats.js bench/echo-server.js bench/connect-latency.js bench/idle-conns.js \
  bench/parse-output.js bench/report.js bench/log-summary.js || exit 1

# --- 3. limits, work dir, cleanup ------------------------------------------------------------------
raise_nofile
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

make_work_dir

. "$ROOT/bench/lib/backends.sh"
. "$ROOT/bench/lib/workloads.sh"
. "$ROOT/bench/lib/cases.sh"
for f in "$ROOT"/bench/contenders/*.sh; do . "$f"; done

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

for REP in $(seq 1 "$REPS"); do
  for WL in "${WL_LIST[@]}"; do
    for CT in "${CT_LIST[@]}"; do run_case; done
  done
done
T_END=$(date +%s)

# --- 5. report ---------------------------------------------------------------------------------------
{
  machine_meta
  printf 'openssh\t%s\n' "$(first_line ssh -V)"
  printf 'ssh_default_cipher\t%s\n' "${SSH_DEFAULT_CIPHER:-}"
  printf 'redis\t%s\n' "$(first_line redis-server --version)"
  printf 'redis_n\t%s\n' "$REDIS_N"
  printf 'nofile\t%s\n' "$NOFILE"
  printf 'big_note\t%s\n' "$BIG_NOTE"
} >"$META"

mkdir -p "$(dirname "$OUT")"
node "$NODE_BENCH/report.js" --results "$RESULTS" --failures "$FAILURES" --meta "$META" --notes "$NOTES" --out "$OUT" || exit 1
log "report written to $OUT ($(( T_END - T_START )) s)"
case ",$CONTENDERS," in *,burrow-ws*) node "$NODE_BENCH/transport-ratios.js" --results "$RESULTS" ;; esac
