#!/usr/bin/env bash
# Benchmark of public ingress (issue 16): the public reaching a home server through burrow's relay,
# beside a reverse proxy of the same shape, on loopback (127.0.0.1) only.
#
#   bash bench/public.sh [--quick] [--reps N] [--out FILE] [--workloads a,b] [--contenders a,b]
#
# Shape, the same for both contenders:
#   public client (wrk, iperf3 -c, connect-latency) -> front on the relay host -> agent "at home" -> real server
# Contenders (interleaved in each repetition, per workload):
#   haproxy-pub  haproxy in front (mode http routed by Host for HTTP, mode tcp for the rest), a second
#                haproxy (mode tcp) as the home agent;
#   burrow-pub   burrow relay --http-port / --public-ports, burrow skeleton --publish http:// / tcp://.
# Workloads: wrk_ka (keep-alive, Host header), wrk_close (Connection: close), iperf1 (iperf3 upload,
# 1 stream, through a tcp publication), connect (fresh connections + 32-byte echo, through a tcp publication).
#
# Writes the section "Public ingress" of FILE (default docs/BENCHMARKS.md; replaced if there) and prints
# it. --quick: 1 repetition, 3 s runs, 100 connections, a smoke check: its report goes to the work
# folder unless --out says otherwise. Logs stay in /tmp/burrow-bench.XXXXXX.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
NODE_BENCH=$ROOT/dist/bench
COMMAND="bash bench/public.sh${*:+ $*}"

OUT=""
WORKLOADS="wrk_ka,wrk_close,iperf1,connect"
CONTENDERS="haproxy-pub,burrow-pub"
. "$ROOT/bench/lib/common.sh"
. "$ROOT/bench/lib/setup.sh"
parse_bench_args "${BASH_SOURCE[0]}" 2,18 "$@"
check_names public.sh contender "$CONTENDERS" haproxy-pub burrow-pub
check_names public.sh workload "$WORKLOADS" wrk_ka wrk_close iperf1 connect
IFS=, read -r -a CT_LIST <<<"$CONTENDERS"
IFS=, read -r -a WL_LIST <<<"$WORKLOADS"
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

install_missing iperf3=iperf3 wrk=wrk haproxy=haproxy nginx=nginx-light curl=curl ||
  { log "could not install the tools"; exit 1; }
build_burrow bin/burrow.js bench/proc-stats.js bench/echo-server.js bench/connect-latency.js \
  bench/parse-output.js bench/public-report.js bench/log-summary.js || exit 1
raise_nofile

make_work_dir
[ -n "$OUT" ] || { if [ "$QUICK" -eq 1 ]; then OUT=$WORK/public.md; else OUT=docs/BENCHMARKS.md; fi; }

. "$ROOT/bench/lib/backends.sh"
. "$ROOT/bench/lib/workloads.sh"
. "$ROOT/bench/lib/cases.sh"
. "$ROOT/bench/contenders/haproxy.sh"
. "$ROOT/bench/contenders/burrow.sh"
. "$ROOT/bench/lib/public-contenders.sh"
trap on_exit EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

start_nginx && start_echo || { log "real servers did not start (logs in $LOGS)"; exit 1; }
log "real servers: nginx 127.0.0.1:$NGINX_PORT, echo 127.0.0.1:$ECHO_PORT"
for CT in "${CT_LIST[@]}"; do
  "${CT//-/_}_init" || { log "$CT: init failed"; exit 1; }
done

for REP in $(seq 1 "$REPS"); do
  for WL in "${WL_LIST[@]}"; do
    # HTTP goes through the shared HTTP front, routed by Host; the rest through a tcp publication.
    case $WL in wrk_*) KIND=http WRK_HOST=$PUB_HOST ;; *) KIND=tcp WRK_HOST="" ;; esac
    for CT in "${CT_LIST[@]}"; do run_case; done
  done
done
T_END=$(date +%s)

{
  machine_meta
} >"$META"

mkdir -p "$(dirname "$OUT")"
node "$NODE_BENCH/public-report.js" --results "$RESULTS" --failures "$FAILURES" --meta "$META" --notes "$NOTES" --out "$OUT" || exit 1
log "section \"Public ingress\" written to $OUT ($(( T_END - T_START )) s)"
