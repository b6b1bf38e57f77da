# Contender "haproxy": three plain TCP forwarders in a chain, one haproxy process (mode tcp) per hop:
# app -> client-side :P1 -> "relay" :P2 -> server-side :P3 -> real server. No encryption: the cost of
# forwarding alone. (haproxy rather than socat: socat forks a process per connection, so 10,000
# connections would be 30,000 processes, near this machine's pid_max of 32768.)

haproxy_init() {
  # Each hop holds two sockets per connection; stay within the open-files limit.
  HAPROXY_MAXCONN=$(( ($(ulimit -n) - 200) / 2 ))
}

# haproxy_hop NAME LISTEN_PORT TO_PORT: starts one hop, sets BG_PID.
haproxy_hop() {
  local cfg=$WORK/$CASE-haproxy-$1.cfg
  cat >"$cfg" <<CFG
global
  maxconn $HAPROXY_MAXCONN
defaults
  mode tcp
  timeout connect 10s
  timeout client 1h
  timeout server 1h
listen hop
  bind 127.0.0.1:$2
  server next 127.0.0.1:$3
CFG
  start_bg "$CASE-haproxy-$1" haproxy -db -f "$cfg"
}

haproxy_setup() {
  local target=$1 p1 p2 p3 server relay client
  pick_port p1 && pick_port p2 && pick_port p3 || return 1
  haproxy_hop server "$p3" "$target"; server=$BG_PID
  haproxy_hop relay "$p2" "$p3"; relay=$BG_PID
  haproxy_hop client "$p1" "$p2"; client=$BG_PID
  C_PIDS="$client $relay $server"
  wait_listen "$p3" 10 "$server" && wait_listen "$p2" 10 "$relay" && wait_listen "$p1" 10 "$client" || return 1
  C_PORT=$p1
}

haproxy_teardown() {
  # shellcheck disable=SC2086
  stop_pids $C_PIDS
}
