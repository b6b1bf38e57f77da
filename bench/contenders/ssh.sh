# Contenders "ssh-default" and "ssh-gcm": a local sshd is the relay; the server side keeps
# `ssh -N -R` to it, the client side `ssh -N -L`:
#   app -> ssh -L :CP => sshd (connects to its own -R listener :RP) => ssh -R -> real server
# "ssh-default" lets OpenSSH negotiate its default cipher; "ssh-gcm" forces aes128-gcm@openssh.com on
# both ssh connections. sshd has its own config, host key and authorized key in $WORK/ssh.

ssh_init() {
  local dir=$WORK/ssh
  mkdir -p "$dir" /run/sshd   # Debian's sshd refuses to start without its privilege separation dir
  chmod 700 "$dir"
  ssh-keygen -q -t ed25519 -N '' -C burrow-bench-host -f "$dir/host_key" || return 1
  ssh-keygen -q -t ed25519 -N '' -C burrow-bench-user -f "$dir/user_key" || return 1
  cp "$dir/user_key.pub" "$dir/authorized_keys"
  SSH_DEFAULT_CIPHER=$(ssh -F /dev/null -G 127.0.0.1 2>/dev/null </dev/null | awk '$1 == "ciphers" { split($2, c, ","); print c[1] }')
}

# ssh_start CIPHER TARGET: sshd plus the two ssh clients; sets C_PORT and C_PIDS.
ssh_start() {
  local cipher=$1 target=$2 dir=$WORK/ssh sp rp cp sshd server client
  pick_port sp && pick_port rp && pick_port cp || return 1
  cat >"$WORK/$CASE-sshd_config" <<CFG
ListenAddress 127.0.0.1:$sp
HostKey $dir/host_key
PidFile none
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
GatewayPorts no
X11Forwarding no
PermitTTY no
UseDNS no
LogLevel ERROR
CFG
  start_bg "$CASE-sshd" /usr/sbin/sshd -D -e -f "$WORK/$CASE-sshd_config"
  sshd=$BG_PID
  C_PIDS=$sshd
  wait_listen "$sp" 10 "$sshd" || return 1
  local opts=(-N -F /dev/null -p "$sp" -i "$dir/user_key" -o IdentitiesOnly=yes -o BatchMode=yes
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ExitOnForwardFailure=yes
    -o ControlMaster=no -o Compression=no -o LogLevel=ERROR)
  [ -n "$cipher" ] && opts+=(-c "$cipher")
  start_bg "$CASE-ssh-R" ssh "${opts[@]}" -R "127.0.0.1:$rp:127.0.0.1:$target" root@127.0.0.1
  server=$BG_PID
  start_bg "$CASE-ssh-L" ssh "${opts[@]}" -L "127.0.0.1:$cp:127.0.0.1:$rp" root@127.0.0.1
  client=$BG_PID
  C_PIDS="$client $sshd $server"
  wait_listen "$rp" 15 "$server" && wait_listen "$cp" 15 "$client" || return 1
  C_PORT=$cp
}

ssh_default_init() { ssh_init; }
ssh_default_setup() { ssh_start "" "$1"; }
ssh_default_teardown() {
  # shellcheck disable=SC2086
  stop_pids $C_PIDS
}

ssh_gcm_init() { [ -n "${SSH_DEFAULT_CIPHER:-}" ] || ssh_init; }
ssh_gcm_setup() { ssh_start aes128-gcm@openssh.com "$1"; }
ssh_gcm_teardown() { ssh_default_teardown; }
