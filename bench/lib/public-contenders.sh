# The two contenders of bench/public.sh (sourced after common.sh and contenders/{haproxy,burrow}.sh).
# Same shape for both:  public client -> front on the relay host -> agent "at home" -> real server.
# KIND (set by public.sh per workload) is http (routed by Host) or tcp (a port of its own).
# Each setup sets C_PORT (where the public client connects), C_PIDS, C_FRONT and C_AGENT (pids).

PUB_HOST=www.home.example.net

# --- haproxy-pub: haproxy in front (mode http, routed by Host; or mode tcp), a second haproxy (mode tcp)
# as the home agent. Both with haproxy's defaults otherwise (threads: one per CPU).
haproxy_pub_init() { haproxy_init; }

haproxy_pub_setup() {
  local target=$1 front_port agent_port cfg=$WORK/$CASE-haproxy-front.cfg
  pick_port front_port && pick_port agent_port || return 1
  haproxy_hop agent "$agent_port" "$target"; C_AGENT=$BG_PID
  if [ "$KIND" = http ]; then
    cat >"$cfg" <<CFG
global
  maxconn $HAPROXY_MAXCONN
defaults
  mode http
  timeout connect 10s
  timeout client 1h
  timeout server 1h
frontend public_http
  bind 127.0.0.1:$front_port
  use_backend home_web if { req.hdr(host),field(1,:),lower -m str $PUB_HOST }
backend home_web
  server agent 127.0.0.1:$agent_port
CFG
    start_bg "$CASE-haproxy-front" haproxy -db -f "$cfg"
  else
    haproxy_hop front "$front_port" "$agent_port"
  fi
  C_FRONT=$BG_PID
  C_PIDS="$C_FRONT $C_AGENT" C_ROLES="front:$C_FRONT agent:$C_AGENT"
  wait_listen "$agent_port" 10 "$C_AGENT" && wait_listen "$front_port" 10 "$C_FRONT" || return 1
  C_PORT=$front_port
}

haproxy_pub_teardown() {
  # shellcheck disable=SC2086
  stop_pids $C_PIDS
}

# --- burrow-pub: `burrow relay --http-port --public-ports` in front, `burrow skeleton --publish` at home.
# The relay's per-source limits are raised (every public client here is 127.0.0.1); the skeleton keeps
# its defaults (--pool 2).
burrow_pub_init() {
  local dir=$WORK/burrow-pub init_log=$LOGS/burrow-pub-init.txt
  mkdir -p "$dir"
  chmod 700 "$dir"
  head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$dir/password"
  {
    "${BURROW[@]}" keys generate --dir "$dir/keys" &&
      "${BURROW[@]}" users add home --users "$dir/users.json" --role skeleton --serve 'home-*' \
        --publish '*.home.example.net' --publish tcp:20000-31999 --password-file "$dir/password"
  } >"$init_log" 2>&1 || { log "burrow init failed: $(cat "$init_log")"; return 1; }
  BURROW_PUB_FP=$("${BURROW[@]}" keys fingerprint --dir "$dir/keys") || return 1
}

burrow_pub_setup() {
  local target=$1 dir=$WORK/burrow-pub rcp rsp hp pp publish i code
  pick_port rcp && pick_port rsp && pick_port hp && pick_port pp || return 1
  start_bg "$CASE-burrow-relay" "${BURROW[@]}" relay --host 127.0.0.1 --client-port "$rcp" --skeleton-port "$rsp" \
    --http-port "$hp" --public-ports "$pp" --public-host 127.0.0.1 \
    --keys "$dir/keys" --users "$dir/users.json" --log-level warn --drain 1 --admin 127.0.0.1:0 \
    --public-max-per-source 20000 --public-rate-per-source 1000000 --public-max-conns 20000
  C_FRONT=$BG_PID
  C_PIDS=$C_FRONT
  wait_listen "$rsp" 15 "$C_FRONT" && wait_listen "$hp" 15 "$C_FRONT" || return 1
  if [ "$KIND" = http ]; then publish="home-web=http://$PUB_HOST"; else publish="home-web=tcp://:$pp"; fi
  start_bg "$CASE-burrow-skeleton" "${BURROW[@]}" skeleton --relay "127.0.0.1:$rsp" --fingerprint "$BURROW_PUB_FP" \
    --user home --password-file "$dir/password" --log-level warn \
    --server "home-web=127.0.0.1:$target" --publish "$publish"
  C_AGENT=$BG_PID
  C_PIDS="$C_FRONT $C_AGENT" C_ROLES="front:$C_FRONT agent:$C_AGENT"
  if [ "$KIND" = tcp ]; then
    # The relay listens on a tcp publication's port once the skeleton published it. (No probe: an
    # iperf3 -1 server would count it as its one test.)
    wait_listen "$pp" 20 "$C_AGENT" || return 1
    C_PORT=$pp
    return 0
  fi
  # http: ready once the relay routes the name (404 until the skeleton published it).
  for i in $(seq 1 80); do
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' -H "Host: $PUB_HOST" "http://127.0.0.1:$hp/small.html")
    [ "$code" = 200 ] && { C_PORT=$hp; return 0; }
    alive "$C_AGENT" || { log "burrow skeleton exited"; return 1; }
    sleep 0.25
  done
  log "burrow: $PUB_HOST not routed after 20 s (last answer $code)"
  return 1
}

burrow_pub_teardown() {
  # shellcheck disable=SC2086
  stop_pids $C_PIDS
}
