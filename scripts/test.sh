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

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local rc=$? # the status this script exits with
  scripts/services.sh down || true
  if ((rc == 0 && own_state)); then
    rm -rf "$TRIBUTARY_STATE_DIR"
  else
    echo "test.sh: server logs are in $TRIBUTARY_STATE_DIR" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/services.sh up
# shellcheck source=/dev/null
. "$TRIBUTARY_STATE_DIR/env"

# The README's Swift snippets compile and construct their objects (a second,
# small package build; see the script).
scripts/check-readme.sh

# Serially (no --parallel): tests share the servers, and the machine is small.
# Last command: with set -e its status is the script's status.
swift test --skip-build "$@"
