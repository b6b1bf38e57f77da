# Tools and build for the bench scripts (sourced by bench/run.sh and bench/public.sh before anything
# else runs). Needs ROOT and a `log` function (bench/lib/common.sh).

# install_missing CMD=PACKAGE...: installs from Debian (as root) the packages whose command is missing.
install_missing() {
  local -A need=()
  local pair missing=() cmd pkg
  for pair in "$@"; do need[${pair%%=*}]=${pair#*=}; done
  for cmd in "${!need[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 && continue
    pkg=${need[$cmd]}
    [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing ${missing[*]}; run as root to install them"
    return 1
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packaged services (nginx, redis, haproxy) must not start on install: they would listen on
  # non-loopback addresses. Deny service starts for the duration, unless a policy is already there.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
  fi
  local rc=0
  apt-get update -q >&2 || rc=$?
  if [ "$rc" -eq 0 ]; then
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || {
      # nginx-light is a transitional package on some releases: fall back to nginx.
      log "install failed; retrying with nginx instead of nginx-light"
      apt-get install -y -q --no-install-recommends "${missing[@]/nginx-light/nginx}" >&2
    } || rc=$?
  fi
  [ "$made_policy" -eq 1 ] && rm -f "$policy"
  return "$rc"
}

# build_burrow FILE...: npm ci if needed, tsc, then checks that dist/FILE exists for each FILE.
build_burrow() {
  local f
  if [ ! -d "$ROOT/node_modules" ]; then
    log "npm ci"
    (cd "$ROOT" && npm ci --no-audit --no-fund) >&2 || return 1
  fi
  log "building (npx tsc -p .)"
  if ! (cd "$ROOT" && npx tsc -p .) >&2; then
    # tsc still emits on type errors (other work in progress in the tree); go on if the files are there.
    log "WARNING: tsc reported errors; continuing with what it emitted"
  fi
  for f in "$@"; do
    [ -f "$ROOT/dist/$f" ] || { log "dist/$f is missing after the build"; return 1; }
  done
}

# raise_nofile: the open-files limit up to its hard limit; sets NOFILE and exports BENCH_CLK_TCK.
raise_nofile() {
  ulimit -Hn 65536 2>/dev/null
  ulimit -n "$(ulimit -Hn)" 2>/dev/null
  NOFILE=$(ulimit -n)
  export BENCH_CLK_TCK
  BENCH_CLK_TCK=$(getconf CLK_TCK)
}
