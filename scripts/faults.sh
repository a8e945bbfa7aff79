#!/usr/bin/env bash
# The fault suite: the seed pipeline with writers going, one fault at a time.
#
#   scripts/faults.sh [--only FAULT]… [--rate ROWS_PER_S] [--kills N] [--kill-rows N]
#                     [--no-build] [--bin PATH]
#
# Faults: broker-down-10s, broker-down-60s (longer than the session timeout),
# mariadb-restart, postgres-restart, s3-503-10s, s3-silent-30s, and kill9
# (N random kill -9s of `tributary run`, 4-15 s apart, on a table that starts
# with --kill-rows rows). After each: rows missing and doubled in MySQL and
# S3, whether the worker exited on its own, and the seconds from the
# service's recovery until MySQL and S3 grew again. Exits 1 if any fault lost
# or doubled a row, or ended the worker. Servers are private and stopped on
# exit (logs kept in the state dir when a fault fails).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
build=1
bin=$REPO/.build/release/tributary
args=()
while (($#)); do
  case $1 in
    --no-build) build=0; shift ;;
    --bin) bin=${2:?}; build=0; shift 2 ;; # e.g. a debug build, while another build holds .build
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done

log() { echo "faults: $*" >&2; }
scripts/setup.sh >/dev/null
if ((build)); then
  log "release build of tributary"
  swift build -c release --product tributary >/dev/null
fi
[[ -x $bin ]] || { log "$bin missing (run without --no-build)"; exit 1; }

export TRIBUTARY_STATE_DIR=$REPO/.state/faults-$$ TRIBUTARY_BIN=$bin
STATE=$TRIBUTARY_STATE_DIR
WORK=$STATE/faults
proxy_pid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local rc=$?
  [[ -z $proxy_pid ]] || kill "$proxy_pid" 2>/dev/null || true
  scripts/services.sh down || true
  if ((rc == 0)); then rm -rf "$STATE"; else log "logs are in $STATE"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/services.sh up
# shellcheck source=/dev/null
. "$STATE/env"
mkdir -p "$WORK"

# The S3 sink talks to moto through a proxy that can answer 503 or nothing.
python3 scripts/s3faultproxy.py --upstream "$TRIBUTARY_S3_ENDPOINT" \
  --mode-file "$WORK/s3.mode" --port-file "$WORK/s3proxy.port" >"$WORK/s3proxy.log" 2>&1 &
proxy_pid=$!
for ((i = 0; i < 100; i++)); do [[ -s $WORK/s3proxy.port ]] && break; sleep 0.1; done
[[ -s $WORK/s3proxy.port ]] || { log "the S3 fault proxy did not start"; exit 1; }

python3 scripts/faults.py --bin "$bin" --work "$WORK" \
  --proxy-url "http://127.0.0.1:$(<"$WORK/s3proxy.port")" --proxy-mode-file "$WORK/s3.mode" "${args[@]}"
