#!/usr/bin/env bash
# Build, start private servers, run the whole test suite, stop the servers.
# Extra arguments go to `swift test`, e.g.  scripts/test.sh --filter S3SinkTests
# Exits with the status of `swift test`.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

scripts/setup.sh
# Build first: the Kafka broker is our own `tributary broker` executable.
swift build --build-tests

# A state dir of its own per run, unless the caller picked one: runs by
# different people (or CI) on this machine then never share servers, and
# this run's `down` cannot stop servers someone else is using. (Sourcing an
# env file exports TRIBUTARY_STATE_DIR too: then those servers are used and
# stopped at the end.)
if [[ -z ${TRIBUTARY_STATE_DIR:-} ]]; then
  export TRIBUTARY_STATE_DIR=$REPO/.state/test-$$
  own_state=1
else
  own_state=0
fi

# Two lanes, each with its own set of servers: most of the suite's time is
# spent waiting (outages, restarts, flush intervals, group joins), so two
# serial halves side by side finish in a little more than half the time.
# A lane never shares a server with the other one, so a test that stops
# Postgres or the broker cannot disturb a test in the other lane. Within a
# lane tests run one after another, as before.
LANE_B_STATE=$TRIBUTARY_STATE_DIR/lane-b
# Lane b runs these test modules; lane a runs the rest, new modules included.
LANE_B_MODULES=" S3SinkTests MySQLSinkTests PostgresSourceTests ConnectWorkerTests "

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local rc=$? # the status this script exits with
  ((${#watchdogs[@]} == 0)) || kill "${watchdogs[@]}" 2>/dev/null || true
  TRIBUTARY_STATE_DIR=$LANE_B_STATE scripts/services.sh down 2>/dev/null || true
  scripts/services.sh down || true
  if ((rc == 0 && own_state)); then
    rm -rf "$TRIBUTARY_STATE_DIR"
  else
    echo "test.sh: server logs are in $TRIBUTARY_STATE_DIR" >&2
  fi
}
watchdogs=()
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/services.sh up
# shellcheck source=/dev/null
. "$TRIBUTARY_STATE_DIR/env"

# The README's Swift snippets compile and construct their objects (a second,
# small package build; see the script).
scripts/check-readme.sh

if (($# > 0)); then
  # A chosen subset (e.g. --filter X): one lane, through swift test.
  swift test --skip-build "$@"
  exit
fi

TRIBUTARY_STATE_DIR=$LANE_B_STATE scripts/services.sh up

# The test bundle runs directly (what `swift test` runs): two `swift test`
# processes would wait for each other on the build directory's lock.
xctest=$(swift build --show-bin-path)/TributaryPackageTests.xctest
lane_a=() lane_b=()
while read -r suite; do
  if [[ $LANE_B_MODULES == *" ${suite%%.*} "* ]]; then lane_b+=("$suite"); else lane_a+=("$suite"); fi
done < <("$xctest" --list-tests | sed -n 's#^\([A-Za-z0-9_]*\.[A-Za-z0-9_]*\)/.*#\1#p' | sort -u)

# Runs one lane's suites against the servers of state dir $2, each output
# line prefixed with the lane's name and kept in $2/lane.log for the
# watchdog; returns the test bundle's status.
run_lane() {
  local name=$1 state=$2 suites
  shift 2
  suites=$(IFS=,; echo "$*")
  (
    # shellcheck source=/dev/null
    . "$state/env"
    echo "$BASHPID" >"$state/lane.pid"
    exec "$xctest" "$suites"
  ) 2>&1 | sed -u "s/^/[$name] /" | tee "$state/lane.log"
  return "${PIPESTATUS[0]}"
}

# A lane that prints nothing for this long is stuck (every test logs, and
# none takes minutes): its threads' stacks are printed and its test bundle
# is killed, so the run fails naming the test at fault instead of running
# out CI's time in silence.
LANE_SILENCE_LIMIT=${TRIBUTARY_LANE_SILENCE_LIMIT:-480}

# Watches lane $1 (state dir $2) until its test bundle exits.
watch_lane() {
  local name=$1 state=$2 pid age
  while sleep 20 >/dev/null 2>&1; do
    [[ -s $state/lane.pid && -f $state/lane.log ]] || continue
    pid=$(<"$state/lane.pid")
    kill -0 "$pid" 2>/dev/null || return 0
    age=$(($(date +%s) - $(stat -c %Y "$state/lane.log")))
    ((age > LANE_SILENCE_LIMIT)) || continue
    echo "test.sh: lane $name printed nothing for ${age} s; it was in: $(grep "' started at" "$state/lane.log" | tail -1)" >&2
    if command -v gdb >/dev/null; then
      timeout 120 gdb -p "$pid" -batch -ex "thread apply all bt 30" 2>&1 | sed "s/^/[$name stack] /" | head -n 600 >&2 || true
    fi
    # Its children too: one that kept the lane's output open would keep the
    # lane from ending after the bundle is gone.
    # shellcheck disable=SC2046 # one pid per word
    kill -KILL $(descendants "$pid") "$pid" 2>/dev/null || true
    return 0
  done
}

# Prints the pids of every process below $1.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}

echo "test.sh: lane a runs ${#lane_a[@]} suites, lane b ${#lane_b[@]} (${LANE_B_MODULES# })"
rm -f "$TRIBUTARY_STATE_DIR/lane.pid" "$LANE_B_STATE/lane.pid"
run_lane a "$TRIBUTARY_STATE_DIR" "${lane_a[@]}" &
pid_a=$!
run_lane b "$LANE_B_STATE" "${lane_b[@]}" &
pid_b=$!
watch_lane a "$TRIBUTARY_STATE_DIR" &
watchdogs=($!)
watch_lane b "$LANE_B_STATE" &
watchdogs+=($!)
status_a=0 status_b=0
wait "$pid_a" || status_a=$?
wait "$pid_b" || status_b=$?
echo "test.sh: lane a exited $status_a, lane b exited $status_b"
((status_a == 0 && status_b == 0))
