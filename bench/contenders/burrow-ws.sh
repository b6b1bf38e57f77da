# Contender "burrow-ws": burrow with the skeleton and `client connect` on ws:// through a real nginx in
# front of the relay's WebSocket endpoint (docs/examples/nginx-burrow.conf, TLS taken out):
#   app -> client connect :CP => nginx :NP => relay :WP (WebSocket) <= nginx :NP <= skeleton -> real server
# Compare with "burrow" in the same run: the same three processes over plain TCP, without nginx.

burrow_ws_init() { [ -n "${BURROW_FP:-}" ] || burrow_init; }

# The sample as a user has it, with its ports changed and its TLS lines dropped (nginx listens plain).
burrow_ws_nginx_conf() {
  local np=$1 wp=$2 dir=$3
  mkdir -p "$dir/tmp"
  sed -e "s|listen 443 ssl;|listen 127.0.0.1:$np;|" -e "s|127.0.0.1:8080|127.0.0.1:$wp|" -e '/ssl_/d' \
    "$ROOT/docs/examples/nginx-burrow.conf" >"$dir/burrow.conf"
  cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body; proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi; uwsgi_temp_path $dir/tmp/uwsgi; scgi_temp_path $dir/tmp/scgi;
  include $dir/burrow.conf;
}
CONF
}

burrow_ws_setup() {
  local target=$1 dir=$WORK/burrow rcp rsp wp np relay ngx url ndir
  local -a extra=("${@:2}")
  pick_port rcp && pick_port rsp && pick_port wp && pick_port np || return 1
  start_bg "$CASE-burrow-relay" "${BURROW[@]}" relay --host 127.0.0.1 --client-port "$rcp" --skeleton-port "$rsp" \
    --ws-port "$wp" --ws-path /any/path \
    --keys "$dir/keys" --users "$dir/users.json" --log-level warn --drain 1 --admin 127.0.0.1:0 \
    --max-streams-per-session 20000 --max-unauth 20000 --max-unauth-per-source 20000
  relay=$BG_PID
  C_PIDS=$relay
  wait_listen "$wp" 15 "$relay" || return 1
  ndir=$WORK/nginx-$CASE
  burrow_ws_nginx_conf "$np" "$wp" "$ndir"
  start_bg "$CASE-burrow-nginx" nginx -p "$ndir" -c "$ndir/nginx.conf"
  ngx=$BG_PID
  C_PIDS="$relay $ngx"
  wait_listen "$np" 15 "$ngx" || return 1
  url=ws://127.0.0.1:$np/any/path
  burrow_peers "$target" "$url" "$url" "${extra[@]}"
}

burrow_ws_teardown() { burrow_teardown; }

# "burrow-ws-separate": every connection its own WebSocket stream through nginx (a data connection and
# an upgrade per stream, from the skeleton's pool of pre-upgraded ones): the stream setup cost.
burrow_ws_separate_init() { burrow_ws_init; }
burrow_ws_separate_setup() { burrow_ws_setup "$1" --separate-streams; }
burrow_ws_separate_teardown() { burrow_teardown; }
