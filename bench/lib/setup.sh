# Options, tools, build and work folder for the bench scripts (sourced by bench/run.sh and
# bench/public.sh before anything else runs). Needs ROOT and a `log` function (bench/lib/common.sh).

# parse_bench_args SCRIPT USAGE_LINES ARGS...: the options every bench script takes (see its header,
# lines USAGE_LINES, e.g. 2,15); sets QUICK, REPS, and OUT, WORKLOADS, CONTENDERS over the caller's
# defaults; then DUR, CONNECT_COUNT, CONNECT_WARMUP, REDIS_N, PAUSE from --quick.
parse_bench_args() {
  local script=$1 lines=$2 name
  name=$(basename "$script")
  shift 2
  QUICK=0 REPS=""
  usage() { sed -n "${lines}p" "$script" | sed 's/^# \{0,1\}//'; }
  while [ $# -gt 0 ]; do
    case $1 in
      --quick) QUICK=1 ;;
      --reps) REPS=${2:?--reps needs a number}; shift ;;
      --out) OUT=${2:?--out needs a file}; shift ;;
      --workloads) WORKLOADS=${2:?}; shift ;;
      --contenders) CONTENDERS=${2:?}; shift ;;
      -h | --help) usage; exit 0 ;;
      *) echo "$name: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
  done
  if [ "$QUICK" -eq 1 ]; then
    REPS=${REPS:-1} DUR=3 CONNECT_COUNT=100 CONNECT_WARMUP=5 REDIS_N=10000 PAUSE=0.5
  else
    REPS=${REPS:-3} DUR=10 CONNECT_COUNT=500 CONNECT_WARMUP=20 REDIS_N=100000 PAUSE=1
  fi
  case $REPS in '' | *[!0-9]* | 0) echo "$name: --reps must be a positive integer" >&2; exit 2 ;; esac
}

# check_names SCRIPT WHAT LIST PATTERN...: every name in the comma-separated LIST matches one of the
# glob PATTERNs (idle-[1-9]* reads idle-N in the message), else the script exits 2.
check_names() {
  local script=$1 what=$2 list=$3 name pat ok names=()
  shift 3
  IFS=, read -r -a names <<<"$list"
  for name in "${names[@]}"; do
    ok=0
    for pat in "$@"; do
      # shellcheck disable=SC2053
      [[ $name == $pat ]] && ok=1
    done
    [ "$ok" -eq 1 ] && continue
    echo "$script: unknown $what '$name' ($(printf '%s, ' "$@" | sed 's/\[1-9\]\*/N/; s/, $//'))" >&2
    exit 2
  done
}

# make_work_dir: a fresh /tmp/burrow-bench.XXXXXX; sets WORK, LOGS, RESULTS, FAILURES, NOTES, META.
make_work_dir() {
  WORK=$(mktemp -d /tmp/burrow-bench.XXXXXX)
  LOGS=$WORK/logs
  RESULTS=$WORK/results.tsv
  FAILURES=$WORK/failures.tsv
  NOTES=$WORK/notes.tsv
  META=$WORK/meta.tsv
  mkdir -p "$LOGS"
  : >"$RESULTS"
  : >"$FAILURES"
  : >"$NOTES"
}

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
