# Contender "burrow": relay, skeleton and `client connect` as three processes, as in README.md:
#   app -> client connect :CP => relay (:RCP clients, :RSP skeletons) <= skeleton -> real server
# Streams are end-to-end encrypted (Noise NNpsk0, AES-GCM) between client and skeleton, always.
# Generous relay limits so that 10,000 concurrent streams from one client on 127.0.0.1 are allowed.

# As docs/examples/*.service run it (see DEPLOY.md, section 9: a roomier initial old generation).
BURROW=(node --initial-old-space-size=64 --max-semi-space-size=2 "$ROOT/dist/bin/burrow.js")

burrow_init() {
  local dir=$WORK/burrow
  mkdir -p "$dir"
  chmod 700 "$dir"
  head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$dir/password"
  local init_log=$LOGS/burrow-init.txt
  {
    "${BURROW[@]}" keys generate --dir "$dir/keys" &&
      "${BURROW[@]}" users add bench-home --users "$dir/users.json" --role skeleton --serve 'bench-*' --password-file "$dir/password" &&
      "${BURROW[@]}" users add bench-client --users "$dir/users.json" --role client --access 'bench-*' --password-file "$dir/password" &&
      "${BURROW[@]}" secret generate --out "$dir/bench.secret"
  } >"$init_log" 2>&1 || { log "burrow init failed: $(cat "$init_log")"; return 1; }
  BURROW_FP=$("${BURROW[@]}" keys fingerprint --dir "$dir/keys") || return 1
}

# burrow_wait_listed RELAY PATTERN SKELETON_PID ERRLOG: up to 10 s until `client list` at RELAY (as
# bench-client) prints a line matching PATTERN; fails at once if the skeleton exited.
burrow_wait_listed() {
  local relay=$1 pattern=$2 skeleton=$3 errlog=$4 i
  for i in $(seq 1 40); do
    "${BURROW[@]}" client list --relay "$relay" --fingerprint "$BURROW_FP" --user bench-client \
      --password-file "$WORK/burrow/password" 2>>"$errlog" | grep -q "$pattern" && return 0
    alive "$skeleton" || { log "burrow skeleton exited"; return 1; }
    sleep 0.25
  done
  return 0 # as before: the client's own start then reports what is wrong
}

burrow_setup() {
  local target=$1 dir=$WORK/burrow rcp rsp relay
  local -a extra=("${@:2}")
  pick_port rcp && pick_port rsp || return 1
  start_bg "$CASE-burrow-relay" "${BURROW[@]}" relay --host 127.0.0.1 --client-port "$rcp" --skeleton-port "$rsp" \
    --keys "$dir/keys" --users "$dir/users.json" --log-level warn --drain 1 --admin 127.0.0.1:0 \
    --max-streams-per-session 20000 --max-unauth 20000 --max-unauth-per-source 20000
  relay=$BG_PID
  C_PIDS=$relay
  wait_listen "$rsp" 15 "$relay" && wait_listen "$rcp" 15 "$relay" || return 1
  burrow_peers "$target" "127.0.0.1:$rsp" "127.0.0.1:$rcp" "${extra[@]}"
}

# burrow_peers TARGET SKELETON_RELAY CLIENT_RELAY [client args]: the skeleton and `client connect`
# (after the relay lists the server to the client account); adds their pids to C_PIDS, sets C_PORT.
burrow_peers() {
  local target=$1 srelay=$2 crelay=$3 dir=$WORK/burrow cp skeleton client
  local -a extra=("${@:4}")
  pick_port cp || return 1
  start_bg "$CASE-burrow-skeleton" "${BURROW[@]}" skeleton --relay "$srelay" --fingerprint "$BURROW_FP" \
    --user bench-home --password-file "$dir/password" --log-level warn \
    --server "bench-target=127.0.0.1:$target,secret-file=$dir/bench.secret"
  skeleton=$BG_PID
  C_PIDS="$C_PIDS $skeleton"
  # Ready once the relay lists the server to the client account.
  burrow_wait_listed "$crelay" '^bench-target' "$skeleton" "$LOGS/$CASE-burrow-list.err" || return 1
  start_bg "$CASE-burrow-client" "${BURROW[@]}" client connect bench-target --listen "127.0.0.1:$cp" \
    --secret-file "$dir/bench.secret" --relay "$crelay" --fingerprint "$BURROW_FP" \
    --user bench-client --password-file "$dir/password" --log-level warn "${extra[@]}"
  client=$BG_PID
  C_PIDS="$client $C_PIDS"
  wait_listen "$cp" 20 "$client" || return 1
  C_PORT=$cp
  C_RELAY_PORT=$rcp # the relay's client port (bench/startup.sh runs `client stdio` against it)
}

burrow_teardown() {
  # shellcheck disable=SC2086
  stop_pids $C_PIDS
}

# Contender "burrow-separate": the same, but every connection is its own relay stream and handshake
# (`--separate-streams`) instead of a channel of one tunnel: shows what the tunnel buys.
burrow_separate_init() { [ -n "${BURROW_FP:-}" ] || burrow_init; }
burrow_separate_setup() { burrow_setup "$1" --separate-streams; }
burrow_separate_teardown() { burrow_teardown; }
