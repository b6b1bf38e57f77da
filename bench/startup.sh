#!/usr/bin/env bash
# How long a `burrow` command takes from exec to exit, beside bare node, with hyperfine.
#
#   bash bench/startup.sh [--runs N] [BIN...]
#
# Commands: `node -e 0`, `BIN --help`, and one request through `BIN client stdio` (a line through a
# relay and a skeleton on loopback to an echo server, stdin closed after it: the whole process, login,
# handshake, echo and exit, as an ssh ProxyCommand pays it). BIN defaults to dist/bin/burrow.js and
# dist/bundle/burrow.js (the bundle `npm run build` makes: package.json `bin`). Every command runs with
# node's flags from the shebang. hyperfine runs the commands in turn, --runs each (default 20) after 3
# warm-ups, through sh (whose own start it measures and subtracts); the table gives median, min-max and
# CPU time, which holds better than wall time on a busy host. The machine is printed beside it.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
NODE_BENCH=$ROOT/dist/bench
RUNS=20
BINS=()
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=${2:?}; shift ;;
    -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) BINS+=("$1") ;;
  esac
  shift
done
command -v hyperfine >/dev/null || { echo "startup.sh: needs hyperfine (apt-get install -y hyperfine)" >&2; exit 1; }
[ -f dist/bin/burrow.js ] || npx tsc -p . >&2 || exit 1
if [ ${#BINS[@]} -eq 0 ]; then
  BINS=(dist/bin/burrow.js)
  [ -f dist/bundle/burrow.js ] && BINS+=(dist/bundle/burrow.js)
fi

STANDALONE=startup
# shellcheck source=bench/lib/standalone.sh
. "$ROOT/bench/lib/standalone.sh"

CASE=startup
burrow_init || exit 1
start_echo || exit 1
burrow_setup "$ECHO_PORT" || { log "setup failed; logs in $LOGS"; exit 1; }
dir=$WORK/burrow
FLAGS=(--initial-old-space-size=64 --max-semi-space-size=2)
printf 'ping\n' >"$WORK/input"
CMDS=('node -e 0')
for bin in "${BINS[@]}"; do
  CMDS+=("node ${FLAGS[*]} $bin --help")
  # One request: a line in, its echo out, stdin closed (hyperfine --input), the process exits.
  CMDS+=("node ${FLAGS[*]} $bin client stdio bench-target --relay 127.0.0.1:${C_RELAY_PORT:?} --fingerprint $BURROW_FP --user bench-client --password-file $dir/password --secret-file $dir/bench.secret <$WORK/input")
done
# The request must really go through: its echo is checked once before timing.
out=$(timeout 20 sh -c "${CMDS[2]}" 2>"$LOGS/stdio-check.err")
[ "$out" = ping ] || { log "client stdio did not echo (got '$out'; $(cat "$LOGS/stdio-check.err"))"; exit 1; }
hyperfine -w 3 -r "$RUNS" --export-json "$WORK/startup.json" "${CMDS[@]}" 2>&1
node -e "
const r = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')).results;
const ms = (x) => (x * 1000).toFixed(0);
console.log('\n| command | median ms | min-max ms | user ms | system ms |\n|---|---:|---:|---:|---:|');
for (const c of r) console.log('| \`' + c.command.replace(/ --relay .*/, ' ... <one line>').replace(/^node --initial-old-space-size=64 /, '') + '\` | ' + ms(c.median) + ' | ' + ms(c.min) + '-' + ms(c.max) + ' | ' + ms(c.user) + ' | ' + ms(c.system) + ' |');
" "$WORK/startup.json"
echo
echo "bash bench/startup.sh --runs $RUNS ${BINS[*]}, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
host_markdown
