# The real servers behind every tunnel (sourced by bench/run.sh): nginx with a small static file,
# redis, the Node echo server (started once per run), and an iperf3 server (one per iperf3 case).
# All listen on 127.0.0.1 only, with their own configuration in $WORK.

NGINX_FILE_BYTES=1024

start_nginx() {
  local dir=$WORK/nginx
  mkdir -p "$dir/www" "$dir/tmp"
  head -c "$NGINX_FILE_BYTES" /dev/zero | tr '\0' 'x' >"$dir/www/small.html"
  pick_port NGINX_PORT || return 1
  cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
user root;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $dir/www;
  }
}
EOF
  start_bg nginx nginx -p "$dir" -c "$dir/nginx.conf"
  wait_listen "$NGINX_PORT" 10 "$BG_PID"
}

start_redis() {
  pick_port REDIS_PORT || return 1
  mkdir -p "$WORK/redis"
  start_bg redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --dir "$WORK/redis" --maxclients 10000 --protected-mode yes
  wait_listen "$REDIS_PORT" 10 "$BG_PID"
}

start_echo() {
  pick_port ECHO_PORT || return 1
  start_bg echo-server node "$NODE_BENCH/echo-server.js" "$ECHO_PORT"
  wait_listen "$ECHO_PORT" 10 "$BG_PID"
}

start_backends() {
  start_nginx && start_redis && start_echo || return 1
  log "backends: nginx 127.0.0.1:$NGINX_PORT, redis 127.0.0.1:$REDIS_PORT, echo 127.0.0.1:$ECHO_PORT"
}

# start_iperf3_server: a one-off iperf3 server (-1: exits after one test); sets IPERF_PORT, IPERF_PID.
start_iperf3_server() {
  pick_port IPERF_PORT || return 1
  start_bg "$CASE-iperf3-server" iperf3 -s -1 -B 127.0.0.1 -p "$IPERF_PORT"
  IPERF_PID=$BG_PID
  wait_listen "$IPERF_PORT" 10 "$IPERF_PID"
}
