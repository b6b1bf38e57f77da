#!/usr/bin/env bash
# Soak test (not part of npm test): builds, then runs real relay, skeleton and client processes on
# loopback for --minutes N (default 3, at most 60), restarting the relay every ~30 s (SIGTERM and
# kill -9 in turn) under thousands of checksummed streams. Other flags go to bench/soak.ts:
#   --concurrency N (default 8, at most 64)  --restart-every SECONDS (30)  --max-size BYTES (1048576)
set -euo pipefail

minutes=3
rest=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes="${2:?--minutes needs a number}"; shift 2 ;;
    --minutes=*) minutes="${1#*=}"; shift ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) rest+=("$1"); shift ;;
  esac
done
if ! [[ "$minutes" =~ ^[0-9]+$ ]] || (( minutes < 1 || minutes > 60 )); then
  echo "soak: --minutes must be a whole number from 1 to 60 (got '$minutes')" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
npx tsc -p .
exec node dist/bench/soak.js --minutes "$minutes" "${rest[@]}"
