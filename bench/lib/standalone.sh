# The common start of the burrow-only bench scripts (cpu-account.sh, startup.sh), sourced at their top
# level after ROOT and NODE_BENCH: a work folder /tmp/burrow-$STANDALONE.XXXXXX (WORK, LOGS), the helpers,
# the burrow contender, the machine description, and the EXIT trap that stops what they started.
WORK=$(mktemp -d "/tmp/burrow-${STANDALONE:?}.XXXXXX")
LOGS=$WORK/logs
mkdir -p "$LOGS"
BENCH_CLK_TCK=$(getconf CLK_TCK)
export BENCH_CLK_TCK
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
# shellcheck source=bench/lib/backends.sh
. "$ROOT/bench/lib/backends.sh"
# shellcheck source=bench/contenders/burrow.sh
. "$ROOT/bench/contenders/burrow.sh"
# shellcheck source=bench/lib/machine.sh
. "$ROOT/bench/lib/machine.sh"
trap stop_all EXIT
