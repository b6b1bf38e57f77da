#!/usr/bin/env bash
# UDP benchmark (issue 17): DNS queries per second and iperf3 -u throughput, on loopback only, through
# three paths of one shape
#   dns-load | iperf3 -c -> client-side forwarder -> relay -> server-side agent -> dnsmasq | iperf3 -s
# direct (dns-load straight to dnsmasq), socat (three `socat UDP4-LISTEN,fork` hops) and burrow
# (`client connect` on UDP, the relay, a skeleton with transport=udp; end-to-end encrypted).
#
#   bash bench/udp.sh [--reps N] [--seconds N] [--flows N] [--rates "50 100 200"]
#
# Each repetition runs the paths in turn (interleaved) with bench/dns-load.ts: FLOWS sockets, each a
# closed loop of one query at a time, for SECONDS. Prints a Markdown table (medians over the reps) and
# the burrow / socat ratio. Then iperf3 -u (its control connection over a TCP path of the same shape) at
# rising fixed rates (RATES, Mbit/s, 3 s each): the highest rate each path carries with under 1 % lost
# (the last rate before the first with 1 % or more lost; 0 if the lowest lost that much), and the jitter
# there. Installs dnsmasq, socat and iperf3 from Debian if missing (as root); logs stay in
# /tmp/burrow-bench.XXXXXX.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
NODE_BENCH=$ROOT/dist/bench
REPS=3 RUN_SECONDS=5 FLOWS=8 RATES="50 100 200 400 800"
while [ $# -gt 0 ]; do
  case $1 in
    --reps) REPS=${2:?}; shift ;;
    --seconds) RUN_SECONDS=${2:?}; shift ;;
    --flows) FLOWS=${2:?}; shift ;;
    --rates) RATES=${2:?}; shift ;;
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "udp.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
. "$ROOT/bench/lib/common.sh"
. "$ROOT/bench/lib/setup.sh"
. "$ROOT/bench/contenders/burrow.sh"
make_work_dir
trap stop_all EXIT
install_missing dnsmasq=dnsmasq socat=socat iperf3=iperf3 || exit 1
build_burrow bin/burrow.js bench/dns-load.js || exit 1
PATH=$PATH:/usr/sbin

# wait_udp PORT [PID]: until something is bound to 127.0.0.1:PORT/udp.
wait_udp() {
  local hex i
  hex=$(printf '0100007F:%04X' "$1")
  for i in $(seq 1 150); do
    awk -v a="$hex" 'FNR > 1 && $2 == a { found = 1 } END { exit !found }' /proc/net/udp && return 0
    if [ -n "${2:-}" ] && ! alive "$2"; then log "process $2 exited before binding udp $1"; return 1; fi
    sleep 0.1
  done
  log "nothing bound to 127.0.0.1:$1/udp after 15 s"
  return 1
}

pick_port DNS_PORT || exit 1
start_bg dnsmasq dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --listen-address=127.0.0.1 \
  --bind-interfaces --port="$DNS_PORT" --address=/example.net/192.0.2.7 --pid-file="$WORK/dnsmasq.pid" --cache-size=0
wait_udp "$DNS_PORT" "$BG_PID" || exit 1

# socat: three hops, each a fork per source (so each flow is its own socket, as in burrow).
pick_port S1 && pick_port S2 && pick_port S3 || exit 1
start_bg socat-server socat -T 30 UDP4-LISTEN:"$S3",bind=127.0.0.1,fork,reuseaddr UDP4:127.0.0.1:"$DNS_PORT"
start_bg socat-relay socat -T 30 UDP4-LISTEN:"$S2",bind=127.0.0.1,fork,reuseaddr UDP4:127.0.0.1:"$S3"
start_bg socat-client socat -T 30 UDP4-LISTEN:"$S1",bind=127.0.0.1,fork,reuseaddr UDP4:127.0.0.1:"$S2"
wait_udp "$S1" && wait_udp "$S2" && wait_udp "$S3" || exit 1

# iperf3: its server, and for socat a TCP chain (the control connection) and a UDP chain on the same port numbers.
pick_port IP && pick_port T1 && pick_port T2 && pick_port T3 || exit 1
start_bg iperf3-server iperf3 -s -B 127.0.0.1 -p "$IP" --forceflush
wait_listen "$IP" 15 "$BG_PID" || exit 1
for proto in TCP4 UDP4; do
  start_bg "socat-iperf-server-$proto" socat -T 30 "$proto-LISTEN:$T3,bind=127.0.0.1,fork,reuseaddr" "$proto:127.0.0.1:$IP"
  start_bg "socat-iperf-relay-$proto" socat -T 30 "$proto-LISTEN:$T2,bind=127.0.0.1,fork,reuseaddr" "$proto:127.0.0.1:$T3"
  start_bg "socat-iperf-client-$proto" socat -T 30 "$proto-LISTEN:$T1,bind=127.0.0.1,fork,reuseaddr" "$proto:127.0.0.1:$T2"
done
wait_listen "$T1" && wait_udp "$T1" || exit 1

# burrow: relay, skeleton (transport=udp) and client connect, as README.md's home DNS section.
burrow_init || exit 1
dir=$WORK/burrow
pick_port RCP && pick_port RSP && pick_port CP || exit 1
start_bg burrow-relay "${BURROW[@]}" relay --host 127.0.0.1 --client-port "$RCP" --skeleton-port "$RSP" \
  --keys "$dir/keys" --users "$dir/users.json" --log-level warn --drain 1 --admin 127.0.0.1:0
RELAY=$BG_PID
wait_listen "$RSP" 15 "$RELAY" && wait_listen "$RCP" 15 "$RELAY" || exit 1
start_bg burrow-skeleton "${BURROW[@]}" skeleton --relay "127.0.0.1:$RSP" --fingerprint "$BURROW_FP" \
  --user bench-home --password-file "$dir/password" --log-level warn \
  --server "bench-dns=127.0.0.1:$DNS_PORT,secret-file=$dir/bench.secret,transport=udp" \
  --server "bench-iperf=127.0.0.1:$IP,secret-file=$dir/bench.secret" \
  --server "bench-iperf-udp=127.0.0.1:$IP,secret-file=$dir/bench.secret,transport=udp"
SKELETON=$BG_PID
burrow_wait_listed "127.0.0.1:$RCP" '^bench-dns	udp' "$SKELETON" "$LOGS/burrow-list.err" || exit 1
start_bg burrow-client "${BURROW[@]}" client connect bench-dns --listen "127.0.0.1:$CP" --quiet \
  --secret-file "$dir/bench.secret" --relay "127.0.0.1:$RCP" --fingerprint "$BURROW_FP" \
  --user bench-client --password-file "$dir/password" --log-level warn
wait_udp "$CP" "$BG_PID" || exit 1
pick_port CPI || exit 1
for id in bench-iperf bench-iperf-udp; do
  start_bg "burrow-client-$id" "${BURROW[@]}" client connect "$id" --listen "127.0.0.1:$CPI" --quiet \
    --secret-file "$dir/bench.secret" --relay "127.0.0.1:$RCP" --fingerprint "$BURROW_FP" \
    --user bench-client --password-file "$dir/password" --log-level warn
done
wait_listen "$CPI" 20 && wait_udp "$CPI" || exit 1

declare -A PORT_OF=([direct]=$DNS_PORT [socat]=$S1 [burrow]=$CP)
declare -A IPERF_OF=([direct]=$IP [socat]=$T1 [burrow]=$CPI)
IPERF=$WORK/iperf.tsv
: >"$IPERF"
for rep in $(seq 1 "$REPS"); do
  for path in direct socat burrow; do
    log "rep $rep: $path"
    line=$(node "$NODE_BENCH/dns-load.js" 127.0.0.1 "${PORT_OF[$path]}" example.net --flows "$FLOWS" --seconds "$RUN_SECONDS") || { log "$path: dns-load failed"; continue; }
    printf '%s\t%s\t%s\n' "$rep" "$path" "$line" >>"$RESULTS"
    for rate in $RATES; do
      out=$(iperf3 -c 127.0.0.1 -p "${IPERF_OF[$path]}" -u -b "${rate}M" -l 1400 -t 3 --json 2>>"$LOGS/iperf3-$path.err") || { log "$path: iperf3 at ${rate}M failed"; break; }
      lost=$(printf '%s' "$out" | node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); process.stdout.write(`${r.end.sum.lost_percent} ${r.end.sum.jitter_ms}`)') || break
      printf '%s\t%s\t%s\t%s\n' "$rep" "$path" "$rate" "$lost" >>"$IPERF"
      log "rep $rep: $path iperf3 -u ${rate}M: lost % and jitter ms: $lost"
    done
  done
done

node --input-type=module -e '
import { readFileSync } from "node:fs";
const rows = readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => { const [rep, path, json] = l.split("\t"); return { rep, path, ...JSON.parse(json) }; });
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const by = (p) => rows.filter((r) => r.path === p);
console.log(`| path | queries/s (median of ${by("burrow").length}) | RTT median ms | RTT p99 ms | lost |`);
console.log("|---|---|---|---|---|");
for (const p of ["direct", "socat", "burrow"]) {
  const r = by(p);
  console.log(`| ${p} | ${median(r.map((x) => x.qps))} | ${median(r.map((x) => x.rttMedianMs))} | ${median(r.map((x) => x.rttP99Ms))} | ${r.reduce((a, x) => a + x.lost, 0)} of ${r.reduce((a, x) => a + x.sent, 0)} |`);
}
const ratio = median(by("burrow").map((x) => x.qps)) / median(by("socat").map((x) => x.qps));
console.log(`\nburrow / socat queries per second: ${ratio.toFixed(2)}x (target >= 1x)`);
' "$RESULTS"

node --input-type=module -e '
import { readFileSync } from "node:fs";
const rows = readFileSync(process.argv[1], "utf8").trim().split("\n").filter(Boolean).map((l) => { const [rep, path, rate, both] = l.split("\t"); const [lost, jitter] = both.split(" ").map(Number); return { rep, path, rate: Number(rate), lost, jitter }; });
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
// Per repetition, the rates are tried from low to high: the last one before the first with 1 % or more lost.
const best = (p) => [...new Set(rows.map((r) => r.rep))].map((rep) => {
  let last;
  for (const r of rows.filter((x) => x.path === p && x.rep === rep).sort((x, y) => x.rate - y.rate)) { if (r.lost >= 1) break; last = r; }
  return last ?? { rate: 0, jitter: NaN };
});
console.log("\n| path | iperf3 -u: highest rate with < 1 % lost, Mbit/s: median (each repetition) | jitter there, ms (median) |");
console.log("|---|---|---|");
for (const p of ["direct", "socat", "burrow"]) {
  const b = best(p);
  console.log(`| ${p} | ${median(b.map((x) => x.rate))} (${b.map((x) => x.rate).join(", ")}) | ${median(b.map((x) => x.jitter).filter(Number.isFinite)).toFixed(3)} |`);
}
const ratio = median(best("burrow").map((x) => x.rate)) / median(best("socat").map((x) => x.rate));
console.log(`\nburrow / socat UDP throughput at < 1 % loss: ${ratio.toFixed(2)}x (target >= 1x; rates tried: '"$RATES"' Mbit/s)`);
' "$IPERF"
log "logs and raw results: $WORK"
