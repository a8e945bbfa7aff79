#!/usr/bin/env bash
# Run `tributary demo` against private local servers, then stop them.
# Extra arguments go to `tributary demo`.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

scripts/setup.sh
# Build before starting the servers: the Kafka broker is this very binary.
swift build -c release --product tributary
bin=$REPO/.build/release/tributary
export TRIBUTARY_BIN=$bin
# Own state dir, so the demo neither reuses nor stops servers started by hand
# (default dir) or by a test run.
export TRIBUTARY_STATE_DIR=${TRIBUTARY_STATE_DIR:-$REPO/.state/demo}

if ! "$bin" demo --help >/dev/null 2>&1; then
  echo "demo.sh: '$bin demo' is not available in this build (not implemented yet?)" >&2
  exit 1
fi

trap 'scripts/services.sh down || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The demo runs its own embedded Kafka cluster in-process: no broker service needed.
export TRIBUTARY_SKIP_KAFKA=1
scripts/services.sh up
# shellcheck source=/dev/null
. "$TRIBUTARY_STATE_DIR/env"
"$bin" demo "$@"
