# The workloads (sourced by bench/run.sh). Each runs against 127.0.0.1:$C_PORT (the contender's
# client-side port, or the real server for "direct") and records its metrics; every tool runs under
# `timeout`, every loop is bounded in count and time. Settings come from run.sh: DUR, CONNECT_COUNT,
# CONNECT_WARMUP, REDIS_N.

declare -gA PARSED

# parse_into FILE TOOL [KEYS...]: PARSED[metric]=value from parse-output; records them all.
parse_into() {
  local out k v
  PARSED=()
  out=$(node "$NODE_BENCH/parse-output.js" "$2" "$1" "${@:3}" 2>&1) || {
    record_failure "$2: $out (output in $1)"
    return 1
  }
  while read -r k v; do
    [ -n "$k" ] || continue
    PARSED[$k]=$v
    record "$k" "$v"
  done <<<"$out"
}

# The real server each workload talks to (iperf3: a fresh one-off server per case).
workload_target() {
  case $1 in
    iperf1 | iperf4) start_iperf3_server && TARGET=$IPERF_PORT ;;
    wrk_close | wrk_ka) TARGET=$NGINX_PORT ;;
    redis) TARGET=$REDIS_PORT ;;
    connect | idle-*) TARGET=$ECHO_PORT ;;
    *) return 1 ;;
  esac
}

# iperf3 upload (client -> server) for DUR seconds; Gbit/s and the tunnel's CPU seconds per GiB.
wl_iperf() {
  local parallel=$1 out=$LOGS/$CASE-iperf3.json c0 c1 e0 e1 rc
  e0=$(cpu_each_now)
  c0=$(cpu_now)
  timeout -k 5 $((DUR + 30)) iperf3 -c 127.0.0.1 -p "$C_PORT" -t "$DUR" -P "$parallel" -J --connect-timeout 5000 >"$out" 2>&1
  rc=$?
  c1=$(cpu_now)
  e1=$(cpu_each_now)
  [ "$rc" -eq 0 ] || record_failure "iperf3 exited $rc (output in $out)"
  parse_into "$out" iperf3 || return 1
  [ -n "$c0" ] && record cpu_s_per_gib "$(calc "($c1 - $c0) / (${PARSED[bytes]} / 1073741824)")"
  record_each cpu_s_per_gib "$e0" "$e1" "(${PARSED[bytes]} / 1073741824)"
}
wl_iperf1() { wl_iperf 1; }
wl_iperf4() { wl_iperf 4; }

# wrk, 2 threads, 32 connections, DUR seconds, against a 1 KiB static file.
wl_wrk() {
  local out=$LOGS/$CASE-wrk.txt c0 c1 e0 e1 rc
  e0=$(cpu_each_now)
  c0=$(cpu_now)
  local host=()
  # WRK_HOST: a Host header for fronts that route by name (bench/public.sh).
  [ -n "${WRK_HOST:-}" ] && host=(-H "Host: $WRK_HOST")
  timeout -k 5 $((DUR + 30)) wrk -t2 -c32 -d"${DUR}s" --timeout 5s --latency "${host[@]}" "$@" "http://127.0.0.1:$C_PORT/small.html" >"$out" 2>&1
  rc=$?
  c1=$(cpu_now)
  e1=$(cpu_each_now)
  [ "$rc" -eq 0 ] || record_failure "wrk exited $rc (output in $out)"
  parse_into "$out" wrk || return 1
  [ "${PARSED[errors]}" -eq 0 ] || record_failure "wrk: ${PARSED[errors]} errors ($(grep -E 'Socket errors|Non-2xx' "$out" | tr -s ' ' | tr '\n' ' '))"
  [ -n "$c0" ] && [ "${PARSED[requests]}" -gt 0 ] && record cpu_ms_per_kreq "$(calc "($c1 - $c0) * 1000000 / ${PARSED[requests]}")"
  [ "${PARSED[requests]}" -gt 0 ] && record_each cpu_ms_per_kreq "$e0" "$e1" "(${PARSED[requests]} / 1000000)"
}
wl_wrk_close() { wl_wrk -H 'Connection: close'; }
wl_wrk_ka() { wl_wrk; }

# CONNECT_COUNT sequential fresh connections, one 32-byte echo each (after CONNECT_WARMUP unrecorded).
wl_connect() {
  local out=$LOGS/$CASE-connect.json
  timeout -k 5 150 node "$NODE_BENCH/connect-latency.js" --port "$C_PORT" --count "$CONNECT_COUNT" \
    --warmup "$CONNECT_WARMUP" --timeout-ms 5000 --deadline-ms 120000 >"$out" 2>&1
  parse_into "$out" json p50_ms p99_ms ok failed || return 1
  [ "${PARSED[ok]}" -eq "$CONNECT_COUNT" ] || record_failure "connect: ${PARSED[ok]}/$CONNECT_COUNT ok: $(tail -1 "$out")"
}

# redis-benchmark SET and GET, 50 clients, REDIS_N requests each.
wl_redis() {
  local out=$LOGS/$CASE-redis.csv rc
  timeout -k 5 300 redis-benchmark -h 127.0.0.1 -p "$C_PORT" -t set,get -n "$REDIS_N" -c 50 --csv >"$out" 2>&1
  rc=$?
  [ "$rc" -eq 0 ] || record_failure "redis-benchmark exited $rc (output in $out)"
  parse_into "$out" redis
}

# N concurrent idle connections: the tunnel's memory before and after, and a round trip on each.
wl_idle() {
  local n=$1 out=$LOGS/$CASE-idle.json
  timeout -k 5 660 node "$NODE_BENCH/idle-conns.js" --port "$C_PORT" --count "$n" --pids "$C_PIDS" \
    --concurrency 100 --timeout-ms 20000 --settle-ms 2000 --deadline-ms 600000 >"$out" 2>&1
  if [ -n "$C_PIDS" ]; then
    parse_into "$out" json opened verified open_seconds pss_before_kib pss_after_kib pss_per_conn_kib rss_per_conn_kib || return 1
  else
    parse_into "$out" json opened verified open_seconds || return 1
  fi
  [ "${PARSED[verified]:-0}" -eq "$n" ] || record_failure "idle $n: opened ${PARSED[opened]}, verified ${PARSED[verified]}: $(tail -1 "$out")"
}
