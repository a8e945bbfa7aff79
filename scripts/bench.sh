#!/usr/bin/env bash
# End-to-end throughput of the seed's pipeline (Postgres -> Kafka -> MySQL + S3),
# with baselines measured in the same run on the same servers.
#
#   scripts/bench.sh [--rows N] [--flush-size N] [--compression lz4|none|zstd|…]
#                    [--set source|mysql|s3:KEY=VALUE]… [--timeout SECONDS]
#                    [--partitions N] [--worker-set KEY=VALUE]… [--no-build] [--keep-state]
#                    [--bin PATH] [--idle-seconds N] [--pipeline-only] [--format json|avro]
#                    [--cdc [--cdc-rows N]]
#
# --format avro runs the pipeline a second time, in the same run, with
# Confluent's AvroConverter for keys and values (`tributary registry` on a
# loopback port) and reports bytes per message and end-to-end rows/s of
# Avro against the JSON envelopes.
# --pipeline-only runs generate, pipeline and idle only (memory and CPU per
# row, in a third of the time), with a short report.
# --cdc runs the CDC phases instead (Debezium's PostgreSQL connector; see
# cdc_bench below): WAL -> Kafka streaming rows/s, commit -> MySQL latency at
# 1,000 rows/s, a snapshot of --cdc-rows rows (default 1,000,000) against
# psql's COPY TO, and one transaction of that many rows (peak RSS).
# --bin PATH runs that tributary binary instead of building this checkout's
# (e.g. a copy of main's release binary, for a baseline in the same session).
#
# Phases, each timed:
#   1. build      swift build -c release --product tributary (skip: --no-build)
#   2. generate   `tributary generate --rows N` into USERS, alone
#   3. source     the source connector alone, into a topic of its own, until
#                 Kafka's high watermarks reach N: the source's own capacity
#   4. pipeline   `tributary run` with the seed's three connector configs
#                 (their topic is created first through the broker's control
#                 FIFO, with --partitions N partitions or one per 12,500
#                 rows, 4 to 64), and tributary's peak RSS
#                 (Examples/connectors/*.json: fresh names, flush.size raised,
#                 anything given with --set) until MySQL and S3 hold every
#                 row. Per stage: the time from the start until Kafka's high
#                 watermarks (source), MySQL's COUNT(*) and the records in
#                 S3's objects reach N. The sinks can go no faster than the
#                 source feeds them, so then:
#      Then idle: the same three connectors started again with nothing left
#                 to do; tributary's resident memory after --idle-seconds
#                 (default 15: the group joins and the first polls are over).
#   5. backlog    each sink alone, under a fresh name, reading what the broker
#                 still holds of the topic: the sink's own capacity.
#   6. baselines  the same work done by stock tools, one at a time: psql
#                 \copy FROM and \copy (SELECT …) TO, kcat producing the same
#                 messages, mariadb LOAD DATA of the same rows, boto3
#                 uploading the same objects.
#
# Servers are private (own TRIBUTARY_STATE_DIR, loopback only) and stopped on
# exit; their logs are kept when the bench fails (or with --keep-state).
#
# Why producer compression (worker file, default lz4): the embedded broker
# keeps only about 5 MiB per partition and the seed's topic has 4: about
# 14,000 uncompressed records of ~1.5 KB. Whenever the sinks fall further
# behind the source than that, records are pruned before they are read (the
# sinks then stop with "records pruned before they were consumed").
# Compressed, the JSON envelopes (whose schema repeats in every record) take
# far less room: the broker then holds ~100,000 of them with lz4 and
# ~200,000 with zstd. Real Kafka keeps data for days: a limit of the test
# broker, not of the pipeline. kcat's baseline uses the same compression.
# lz4 rather than zstd since the topic got a partition per 12,500 rows:
# zstd was 16.5% of tributary's CPU in the pipeline (perf), and lz4 cut
# tributary's CPU per row by about a sixth in the same session (BENCHMARKS.md).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

rows=200000
flush_size=10000
compression=lz4
timeout_s=300
partitions=
build=1
keep_state=0
bin=
idle_s=15
pipeline_only=0
cdc=0
cdc_rows=1000000
format=json
registry_pid= # `tributary registry` with --format avro
overrides=()
worker_overrides=() # extra worker.properties lines, e.g. consumer.queued.max.messages.kbytes=65536

usage() { # EXIT-CODE
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit "$1"
}

while (($#)); do
  case $1 in
    --rows) rows=${2:?}; shift 2 ;;
    --flush-size) flush_size=${2:?}; shift 2 ;;
    --compression) compression=${2:?}; shift 2 ;;
    --set) overrides+=("${2:?}"); shift 2 ;;
    --timeout) timeout_s=${2:?}; shift 2 ;;
    --partitions) partitions=${2:?}; shift 2 ;;
    --worker-set) worker_overrides+=("${2:?}"); shift 2 ;;
    --no-build) build=0; shift ;;
    --bin) bin=${2:?}; build=0; shift 2 ;;
    --idle-seconds) idle_s=${2:?}; shift 2 ;;
    --pipeline-only) pipeline_only=1; shift ;;
    --cdc) cdc=1; shift ;;
    --cdc-rows) cdc_rows=${2:?}; shift 2 ;;
    --format) format=${2:?}; shift 2 ;;
    --keep-state) keep_state=1; shift ;;
    -h | --help) usage 0 ;;
    *) echo "bench: unknown argument $1" >&2; usage 2 ;;
  esac
done
[[ $rows =~ ^[1-9][0-9]*$ && $flush_size =~ ^[1-9][0-9]*$ && $timeout_s =~ ^[1-9][0-9]*$ && $idle_s =~ ^[1-9][0-9]*$ ]] ||
  { echo "bench: --rows, --flush-size, --timeout and --idle-seconds take positive integers" >&2; exit 2; }
[[ $format == json || $format == avro ]] || { echo "bench: --format takes json or avro" >&2; exit 2; }
[[ -z $partitions || $partitions =~ ^[1-9][0-9]*$ ]] ||
  { echo "bench: --partitions takes a positive integer" >&2; exit 2; }
# The test broker keeps about 5 MiB per partition; a sink lagging further
# behind than that on 4 auto-created partitions fails loudly (records
# pruned; at 200,000 rows it did with zstd as with lz4). Every run gets a
# partition per 12,500 rows (16 for 200,000, at most 64), at least 4.
if [[ -z $partitions ]]; then
  partitions=$(((rows + 12499) / 12500))
  ((partitions < 4)) && partitions=4
  ((partitions > 64)) && partitions=64
  echo "bench: $rows rows: the pipeline topic gets $partitions partitions (the test broker keeps ~5 MiB per partition; --partitions to choose)"
fi
for o in "${overrides[@]}"; do
  [[ $o =~ ^(source|mysql|s3):[^=]+=.*$ ]] || { echo "bench: --set expects source|mysql|s3:KEY=VALUE, got '$o'" >&2; exit 2; }
done

log() { echo "bench: $*" >&2; }
now() { echo "$EPOCHREALTIME"; }
# Seconds from $1 to $2 (two `now` readings), 2 decimals.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# ------------------------------------------------------------------ build
scripts/setup.sh >/dev/null
if [[ -n $bin ]]; then
  bin=$(realpath "$bin")
else
  bin=$REPO/.build/release/tributary
fi
if ((build)); then
  log "release build of tributary"
  t=$(now)
  build_log=$(mktemp)
  swift build -c release --product tributary >"$build_log" 2>&1 ||
    { tail -n 30 "$build_log" >&2; rm -f "$build_log"; exit 1; }
  log "build took $(elapsed "$t" "$(now)") s, $(grep -c 'warning:' "$build_log" || true) warnings"
  rm -f "$build_log"
fi
[[ -x $bin ]] || { log "$bin missing (run without --no-build)"; exit 1; }

# ------------------------------------------------------------------ servers
# A state dir of our own: never reuses or stops anyone else's servers.
export TRIBUTARY_STATE_DIR=$REPO/.state/bench-$$
export TRIBUTARY_BIN=$bin
STATE=$TRIBUTARY_STATE_DIR
WORK=$STATE/bench
worker_pid= # the running `tributary run`, if any
worker_rc=0

# Stops the running `tributary run` (SIGTERM: finish, commit, exit 0); its
# exit status goes to worker_rc.
stop_worker() {
  worker_rc=0
  [[ -n $worker_pid ]] || return 0
  kill -TERM "$worker_pid" 2>/dev/null || true
  wait "$worker_pid" || worker_rc=$?
  worker_pid=
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local rc=$?
  stop_worker
  [[ -z $registry_pid ]] || { kill -TERM "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null || true; }
  scripts/services.sh down || true
  if ((rc == 0 && !keep_state)); then
    rm -rf "$STATE"
  else
    log "logs and data are in $STATE"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting private servers in $STATE"
scripts/services.sh up
# shellcheck source=/dev/null
. "$STATE/env"
mkdir -p "$WORK"

# Client settings for psql and mariadb in the environment and a private file,
# not on command lines (where `ps` shows them). Never echoed.
export PGHOST=127.0.0.1 PGPORT PGUSER=tributary PGDATABASE=tributary PGPASSWORD
PGPORT=$(<"$STATE/pg.port")
PGPASSWORD=$(<"$STATE/pg.password")
export MYCNF=$WORK/my.cnf
(
  umask 077
  printf '[client]\nhost=127.0.0.1\nport=%s\nuser=tributary\npassword=%s\ndatabase=tributary\n' \
    "$(<"$STATE/mysql.port")" "$(<"$STATE/mysql.password")" >"$MYCNF"
)
my() { mariadb --defaults-extra-file="$MYCNF" "$@"; }

# ------------------------------------------------------------------ machine
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
# shellcheck disable=SC1091 # a system file
os=$(. /etc/os-release && echo "$PRETTY_NAME")
echo "machine:  $(nproc) cores ($cpu), $mem RAM, $os, Linux $(uname -r)"
echo "swift:    $(swift --version 2>/dev/null | head -n 1), release build"
echo "binary:   $bin ($(stat -c %y "$bin" | cut -d. -f1))"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) before the run"
echo "run:      $rows rows, flush.size=$flush_size, producer compression=$compression, ${partitions:-4 (auto-created)} partitions${overrides[*]:+, --set ${overrides[*]}}${worker_overrides[*]:+, --worker-set ${worker_overrides[*]}}"

# ------------------------------------------------------------------ connectors
# connectors.py SRC DST SUFFIX [KEY=VALUE…]: the seed's configs under fresh
# names (a new consumer group, source offset, …) with the given changes.
# `source:`, `mysql:`, `s3:` select one connector; no prefix means all that
# already have the key.
cat >"$WORK/connectors.py" <<'EOF'
import json, os, sys
src, dst, suffix, changes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
kinds = {"postgres-source.json": "source", "mysql-sink.json": "mysql", "s3-sink.json": "s3"}
os.makedirs(dst, exist_ok=True)
for name, kind in kinds.items():
    with open(os.path.join(src, name)) as f:
        spec = json.load(f)
    spec["name"] = f"{spec['name']}-{suffix}"
    for change in changes:
        lhs, value = change.split("=", 1)
        target, _, key = lhs.rpartition(":")
        if target == kind or (not target and key in spec["config"]):
            spec["config"][key] = value
    with open(os.path.join(dst, name), "w") as f:
        json.dump(spec, f, indent=2)
EOF
run_id=$(date +%s)-$$
python3 "$WORK/connectors.py" "$REPO/Examples/connectors" "$WORK/pipeline" "bench-$run_id" \
  "s3:flush.size=$flush_size" "${overrides[@]}"
topic=P_USERS # the source config's topic.prefix + table.whitelist
rotate_ms=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["config"].get("rotate.schedule.interval.ms", "no"))' \
  "$WORK/pipeline/s3-sink.json")
{
  echo "bootstrap.servers=$TRIBUTARY_BOOTSTRAP"
  echo "offset.storage.file.filename=$WORK/source-offsets.json"
  [[ $compression == none ]] || echo "producer.compression.type=$compression"
  for o in "${worker_overrides[@]}"; do echo "$o"; done
} >"$WORK/worker.properties"

# ------------------------------------------------------------------ poller
# poll.py: polls the stages' counts until each reaches its target, and writes
# when it did (one process, one clock). Kafka's count (about 2 ms, through one
# client kept open) is read every 50 ms: a source alone takes under a second,
# and half-second polls of `tributary topics` made it look up to 0.5 s slower
# than kcat, which is timed to its exit. MySQL's and S3's counts cost more
# (a process, a listing) and are read every 0.5 s. Also notes when the
# worker's consumers were assigned their partitions (the end of the ~3 s group
# join), and keeps every S3 object it read, for the S3 baseline.
cat >"$WORK/poll.py" <<'EOF'
import argparse, os, subprocess, sys, time
import boto3
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

p = argparse.ArgumentParser()
p.add_argument("--stages", required=True)        # comma-separated: kafka, mysql, s3
p.add_argument("--target", type=int, required=True)
p.add_argument("--topic", required=True)
p.add_argument("--mysql-table")
p.add_argument("--s3-prefix")
p.add_argument("--keep-objects")
p.add_argument("--flush-size", type=int, default=0)  # objects of fewer records closed on the schedule
p.add_argument("--pid", type=int, required=True)
p.add_argument("--log", required=True)
p.add_argument("--t0", type=float, required=True)
p.add_argument("--timeout", type=float, required=True)
p.add_argument("--result", required=True)
a = p.parse_args()
stages = a.stages.split(",")
s3 = boto3.client("s3", endpoint_url=os.environ["TRIBUTARY_S3_ENDPOINT"], region_name=os.environ["AWS_REGION"])
bucket = os.environ["TRIBUTARY_S3_BUCKET"]


admin = AdminClient({"bootstrap.servers": os.environ["TRIBUTARY_BOOTSTRAP"]})
partitions = []  # of a.topic, once it exists


def kafka_count():
    """Sum of the topic's high watermarks. One call per partition: confluent-kafka's
    list_offsets of several partitions at once got wrong offsets back from the
    embedded broker (librdkafka 2.0.2's offsets_for_times does not). The
    topic list is read whole, as asking for one topic would create it."""
    global partitions
    if not partitions:
        md = admin.list_topics(timeout=5).topics.get(a.topic)
        if md is None or md.error is not None or not md.partitions:
            return 0
        partitions = [TopicPartition(a.topic, p) for p in sorted(md.partitions)]
    return sum(admin.list_offsets({tp: OffsetSpec.latest()})[tp].result().offset for tp in partitions)


def mysql_count():
    r = subprocess.run(["mariadb", "--defaults-extra-file=" + os.environ["MYCNF"], "-N", "-B", "-e",
                        f"SELECT COUNT(*) FROM `{a.mysql_table}`"], capture_output=True, text=True)
    return int(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip() else 0  # no table yet


objects = {}  # key -> records
full_files_at = None  # when the last object of flush.size records was first seen


def s3_count():
    global full_files_at
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=a.s3_prefix):
        for obj in page.get("Contents", []):
            if obj["Key"] in objects:
                continue
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            if a.keep_objects:
                os.makedirs(a.keep_objects, exist_ok=True)
                with open(os.path.join(a.keep_objects, f"{len(objects):06d}.json"), "wb") as f:
                    f.write(body)
            objects[obj["Key"]] = body.count(b"\n") + (0 if body.endswith(b"\n") or not body else 1)
            if objects[obj["Key"]] == a.flush_size:
                full_files_at = time.time()
    return sum(objects.values())


def alive(pid):
    """False once the process exited (a zombie not yet reaped by bash counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def assigned():
    try:
        with open(a.log, errors="replace") as f:
            return "] assigned " in f.read()
    except FileNotFoundError:
        return False


count = {"kafka": kafka_count, "mysql": mysql_count, "s3": s3_count}
counts = {s: 0 for s in stages}
interval = {"kafka": 0.05, "mysql": 0.5, "s3": 0.5}
due = {s: 0.0 for s in stages}
done, joined, peak_backlog, last_report = {}, None, 0, 0.0
while True:
    now = time.time()
    if not alive(a.pid):
        print(f"bench: tributary run exited after {now - a.t0:.1f} s, counts {counts}", file=sys.stderr)
        sys.exit(1)
    if joined is None and assigned():
        joined = now
    for stage in stages:
        if stage not in done and now >= due[stage]:
            due[stage] = now + interval[stage]
            asked = time.time()
            counts[stage] = count[stage]()
            if counts[stage] >= a.target:
                done[stage] = time.time()
                # A count that took long may be late by as much (the admin
                # client's first requests to a new topic's leaders take up to a second).
                if stage == "kafka" and done[stage] - asked > 0.2:
                    print(f"bench: warning: the Kafka count that reached {a.target} took {done[stage] - asked:.2f} s;"
                          " the Kafka time may be late by that much", file=sys.stderr)
    # Records in Kafka that a sink has not written yet: what the broker must retain.
    if "kafka" in counts and len(counts) > 1:
        peak_backlog = max(peak_backlog, counts["kafka"] - min(v for k, v in counts.items() if k != "kafka"))
    if now - last_report >= 10:
        print(f"bench:   {now - a.t0:6.1f} s  " + "  ".join(f"{s} {counts[s]:>7}" for s in stages), file=sys.stderr)
        last_report = now
    if len(done) == len(stages):
        break
    if now - a.t0 > a.timeout:
        print(f"bench: timed out after {a.timeout:.0f} s with counts {counts} (target {a.target})", file=sys.stderr)
        sys.exit(1)
    time.sleep(max(0.0, min(due[s] for s in stages if s not in done) - time.time()))

with open(a.result, "w") as f:
    for stage in stages:
        f.write(f"{stage}_s={done[stage] - a.t0:.2f}\n{stage}_count={counts[stage]}\n")
    f.write(f"joined_s={(joined or a.t0) - a.t0:.2f}\ns3_objects={len(objects)}\npeak_backlog={peak_backlog}\n")
    if "s3" in stages:
        # Objects of fewer than flush.size records close only on the
        # rotate.schedule.interval.ms grid (wall clock): up to one interval
        # after the last full file, at a phase no run controls.
        # "none": every file was cut by the schedule before it filled.
        f.write(f"s3_full_files_s={'none' if full_files_at is None else f'{full_files_at - a.t0:.2f}'}\n")
EOF
# cpu.py [WORKER-PID]: CPU seconds used so far (user + system, threads and
# reaped children included) by our worker and by each server, one
# `name seconds` line each, then the whole machine's busy and total CPU
# seconds. Over a phase they tell who was busy, and whether the machine (shared
# with whoever else runs on it) had any CPU left.
cat >"$WORK/cpu.py" <<'EOF'
import os, sys
tick = os.sysconf("SC_CLK_TCK")
state = os.environ["TRIBUTARY_STATE_DIR"]


def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is the state, [1] the ppid, [11:15] utime stime cutime cstime.
    return int(fields[1]), sum(int(x) for x in fields[11:15])


def group(pid):
    """Seconds of pid and its direct children (Postgres backends, helpers)."""
    total = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid, ticks = stat(int(entry))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if int(entry) == pid or ppid == pid:
                total += ticks
    return total / tick


def pidfile(path):
    try:
        with open(path) as f:
            return int(f.readline())
    except (FileNotFoundError, ValueError):
        return None


pids = {
    "tributary": int(sys.argv[1]) if len(sys.argv) > 1 else None,
    "postgres": pidfile(f"{state}/pg/data/postmaster.pid"),
    "mariadb": pidfile(f"{state}/mysql.pid"),
    "s3": pidfile(f"{state}/s3.pid"),
    "broker": pidfile(f"{state}/kafka.pid"),
}
for name, pid in pids.items():
    print(name, f"{group(pid):.2f}" if pid else "0")
# The whole machine (every core, everyone's processes): /proc/stat's cpu line
# is user nice system idle iowait irq softirq steal …; idle and iowait are not busy.
with open("/proc/stat") as f:
    ticks = [int(x) for x in f.readline().split()[1:9]]
print("=busy", f"{(sum(ticks) - ticks[3] - ticks[4]) / tick:.2f}")
print("=total", f"{sum(ticks) / tick:.2f}")
EOF
# cpu_diff BEFORE AFTER WALL-SECONDS: who used how much CPU over a phase.
cpu_diff() {
  awk -v wall="$3" 'NR == FNR { before[$1] = $2; next }
    { d = $2 - before[$1] }
    $1 == "=busy" { busy = d; next }
    $1 == "=total" { total = d; next }
    { out = out sprintf("%s %.1f, ", $1, d); sum += d }
    END { printf "%sours %.1f CPU s in %.1f s; machine %.0f%% busy\n", out, sum, wall, (total > 0 ? 100 * busy / total : 0) }' "$1" "$2"
}

# landed SECONDS|none: when S3's last object of flush.size records landed, in words.
landed() { if [[ $1 == none ]]; then echo "nowhere (every file cut by the schedule)"; else echo "at $1 s"; fi; }

# result FILE KEY: one value from a poll.py result file.
result() { sed -n "s/^$2=//p" "$1"; }

# run_worker NAME TARGET STAGES POLL-ARGS… -- CONNECTOR-FILES…: starts
# `tributary run`, polls until every stage holds TARGET records, stops it.
# POLL-ARGS come last, so `--topic T` there wins over the default topic.
run_worker() {
  local name=$1 target=$2 stages=$3 poll_args=() files start
  shift 3
  while [[ $1 != -- ]]; do poll_args+=("$1"); shift; done
  shift
  files=("$@")
  python3 "$WORK/cpu.py" >"$WORK/$name.cpu-before"
  start=$(now)
  "$bin" run --worker "$WORK/worker.properties" --progress-interval 10 "${files[@]}" >"$WORK/$name.log" 2>&1 &
  worker_pid=$!
  python3 "$WORK/poll.py" --stages "$stages" --target "$target" --topic "$topic" --pid "$worker_pid" --flush-size "$flush_size" \
    --log "$WORK/$name.log" --t0 "$start" --timeout "$timeout_s" --result "$WORK/$name.result" "${poll_args[@]}" ||
    {
      log "$name failed; the last lines of its log:"
      tail -n 25 "$WORK/$name.log" >&2
      if grep -q "records pruned" "$WORK/$name.log"; then
        log "a sink fell further behind the source than the embedded broker retains (~5 MiB a partition);" \
          "try --compression zstd, more --partitions or fewer --rows"
      fi
      exit 1
    }
  python3 "$WORK/cpu.py" "$worker_pid" >"$WORK/$name.cpu-after"
  cpu_diff "$WORK/$name.cpu-before" "$WORK/$name.cpu-after" "$(elapsed "$start" "$(now)")" >"$WORK/$name.cpu"
  # Peak resident memory of the worker (started for this phase alone): VmHWM.
  awk '/^VmHWM:/ { printf "%.1f MB\n", $2 / 1024 }' "/proc/$worker_pid/status" >"$WORK/$name.rss"
  # A graceful stop must work too: SIGTERM, finish, commit, exit 0.
  stop_worker
  ((worker_rc == 0)) ||
    { log "$name: tributary run exited $worker_rc on SIGTERM, expected 0"; tail -n 25 "$WORK/$name.log" >&2; exit 1; }
}

# ------------------------------------------------------------------ cdc
# CDC phases (--cdc), each with a connector, slot and table of its own.
# Functions of their own, so other phases' changes merge without touching them.

# cdc_connector FILE NAME TABLE SNAPSHOT-MODE [KEY=VALUE…]: Debezium's
# PostgreSQL connector for public.TABLE, topic cdc.public.TABLE, slot and
# publication bench_NAME, offsets in $WORK/NAME.offsets.json.
cdc_connector() {
  local file=$1 name=$2 table=$3 mode=$4
  shift 4
  python3 - "$file" "$name" "$table" "$mode" "$PGPORT" "$WORK/$name.offsets.json" "$@" <<'EOF'
import json, os, sys
file, name, table, mode, port, offsets, extra = *sys.argv[1:7], sys.argv[7:]
config = {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "database.hostname": "127.0.0.1", "database.port": port, "database.user": "tributary",
    "database.password": os.environ["PGPASSWORD"], "database.dbname": "tributary", "topic.prefix": "cdc",
    "table.include.list": f"public.{table}", "slot.name": f"bench_{name}", "publication.name": f"bench_{name}",
    "publication.autocreate.mode": "filtered", "snapshot.mode": mode, "offset.storage.file.filename": offsets,
}
config.update(dict(kv.split("=", 1) for kv in extra))
with open(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
    json.dump({"name": f"cdc-{name}", "config": config}, f, indent=2)
EOF
}

# cdc_create_slot NAME FILE: runs the connector until its slot exists and
# it streams, then stops it: what is committed next is streamed on its next start.
cdc_create_slot() {
  local name=$1 file=$2
  "$bin" run --worker "$WORK/worker.properties" "$file" >"$WORK/$name.slot.log" 2>&1 &
  worker_pid=$!
  for _ in $(seq 120); do
    grep -q "streaming replication slot" "$WORK/$name.slot.log" && break
    sleep 0.5
  done
  grep -q "streaming replication slot" "$WORK/$name.slot.log" ||
    { log "$name: the slot was not created"; tail -n 20 "$WORK/$name.slot.log" >&2; exit 1; }
  stop_worker
}

# cdc_generate ROWS TABLE [OPTIONS…]: `tributary generate` (creating TABLE), its progress in a log.
cdc_generate() {
  local rows=$1 table=$2
  shift 2
  "$bin" generate --rows "$rows" --table "$table" "$@" >>"$WORK/cdc-generate.log" 2>&1 ||
    { tail -n 20 "$WORK/cdc-generate.log" >&2; exit 1; }
}

# psql_s ARGS…: seconds psql takes to run them.
psql_s() {
  local t
  t=$(now)
  psql -X -q -v ON_ERROR_STOP=1 "$@" >/dev/null
  elapsed "$t" "$(now)"
}

# cdc_latency PG-CSV MYSQL-CSV: percentiles of landed - committed, both `index,epoch seconds`.
cdc_latency() {
  python3 - "$1" "$2" <<'EOF'
import sys
committed = dict(line.strip().split(",") for line in open(sys.argv[1]) if line.strip())
landed = dict(line.strip().split(",") for line in open(sys.argv[2]) if line.strip())
ms = sorted((float(landed[k]) - float(v)) * 1000 for k, v in committed.items() if k in landed)
missing = len(committed) - len(ms)
pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]
print(f"p50 {pick(0.5):.0f} ms, p99 {pick(0.99):.0f} ms, max {ms[-1]:.0f} ms over {len(ms)} rows" + (f" ({missing} missing!)" if missing else ""))
EOF
}

# cdc_kafka_latency < `CreateTime<TAB>value` lines: percentiles of CreateTime - payload.source.ts_ms (ms).
cdc_kafka_latency() {
  python3 -c '
import json, sys
ms = []
for line in sys.stdin:
    stamp, _, value = line.rstrip("\n").partition("\t")
    if not value:
        continue
    event = json.loads(value)
    source = event.get("payload", event)["source"]
    ms.append(int(stamp) - source["ts_ms"])
ms.sort()
pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]
print(f"p50 {pick(0.5)} ms, p99 {pick(0.99)} ms, max {ms[-1]} ms over {len(ms)} events (what the broker still holds)" if ms else "no events read")
'
}

cdc_bench() {
  local stream_rows=200000 lat_rows=30000 columns
  cdc_rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }'; }
  echo "cdc:      $cdc_rows rows (snapshot, one transaction), $stream_rows streamed inserts, $lat_rows rows at 1,000 rows/s"

  # 1. Streaming inserts: committed (10,000 rows a transaction) while the
  # connector was stopped, then the connector alone until Kafka has them all.
  log "cdc stream: $stream_rows inserts from the WAL into Kafka"
  cdc_generate 1 CDC_STREAM
  cdc_connector "$WORK/cdc-stream.json" stream CDC_STREAM no_data
  cdc_create_slot stream "$WORK/cdc-stream.json"
  cdc_generate "$stream_rows" CDC_STREAM
  run_worker cdc-stream "$stream_rows" kafka --topic cdc.public.CDC_STREAM -- "$WORK/cdc-stream.json"
  local stream_s
  stream_s=$(result "$WORK/cdc-stream.result" kafka_s)

  # 2. Latency: connector and MySQL sink running, `generate --rate 1000` (a
  # COPY transaction of 100 rows every 0.1 s). A row's latency is when MariaDB
  # inserted it (a DATETIME(6) column defaulting to the insert time, added
  # once a warm-up row made the sink create the table) minus its updated_at
  # (clock_timestamp() at its insert, just before COMMIT): commit -> MySQL, a little over.
  log "cdc latency: $lat_rows rows at 1,000 rows/s, commit -> MySQL"
  cdc_generate 1 CDC_LAT
  cdc_connector "$WORK/cdc-lat.json" lat CDC_LAT no_data
  cat >"$WORK/cdc-lat-sink.json" <<'EOF'
{"name": "cdc-lat-mysql", "config": {"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
  "topics": "cdc.public.CDC_LAT", "connection.url": "${env:TRIBUTARY_MYSQL_URL}", "table.name.format": "CDC_LAT",
  "insert.mode": "upsert", "pk.mode": "record_key", "auto.create": "true"}}
EOF
  cdc_create_slot lat "$WORK/cdc-lat.json"
  "$bin" run --worker "$WORK/worker.properties" "$WORK/cdc-lat.json" "$WORK/cdc-lat-sink.json" >"$WORK/cdc-lat.log" 2>&1 &
  worker_pid=$!
  cdc_generate 1 CDC_LAT
  for _ in $(seq 120); do
    [[ $(my -N -B -e 'SELECT COUNT(*) FROM `CDC_LAT`' 2>/dev/null) == 1 ]] && break
    sleep 0.5
  done
  my -e 'ALTER TABLE `CDC_LAT` ADD COLUMN `landed` DATETIME(6) NULL DEFAULT CURRENT_TIMESTAMP(6)'
  cdc_generate "$lat_rows" CDC_LAT --rate 1000
  for _ in $(seq 120); do
    (($(my -N -B -e 'SELECT COUNT(*) FROM `CDC_LAT`') >= lat_rows + 1)) && break
    sleep 0.5
  done
  stop_worker
  psql -X -q -v ON_ERROR_STOP=1 -c "\\copy (SELECT \"index\", extract(epoch FROM updated_at) FROM \"CDC_LAT\" WHERE \"index\" > 2) TO '$WORK/lat.pg' WITH (FORMAT csv)"
  my -N -B -e 'SELECT `index`, UNIX_TIMESTAMP(`landed`) FROM `CDC_LAT` WHERE `index` > 2' | tr '\t' ',' >"$WORK/lat.mysql"
  local latency to_kafka
  latency=$(cdc_latency "$WORK/lat.pg" "$WORK/lat.mysql")
  # The connector's share: each event's Kafka timestamp (CreateTime: when the
  # connector handed it to the producer) minus its source.ts_ms (the commit).
  to_kafka=$(kcat -C -b "$TRIBUTARY_BOOTSTRAP" -t cdc.public.CDC_LAT -o beginning -e -q -f '%T\t%s\n' 2>/dev/null | cdc_kafka_latency)

  # 3. Snapshot of cdc_rows rows (the connector alone until Kafka holds them) against COPY TO.
  log "cdc snapshot: $cdc_rows rows"
  cdc_generate "$cdc_rows" CDC_SNAP
  cdc_connector "$WORK/cdc-snap.json" snap CDC_SNAP initial
  run_worker cdc-snap "$cdc_rows" kafka --topic cdc.public.CDC_SNAP -- "$WORK/cdc-snap.json"
  local snap_s copy_s
  snap_s=$(result "$WORK/cdc-snap.result" kafka_s)
  copy_s=$(psql_s -c "\\copy (SELECT * FROM \"CDC_SNAP\") TO '$WORK/snap.csv' WITH (FORMAT csv)")
  rm -f "$WORK/snap.csv"

  # 4. One transaction of cdc_rows rows, committed while the connector was
  # stopped, then the connector alone: its peak RSS says whether memory stays bounded.
  log "cdc transaction: one INSERT of $cdc_rows rows"
  cdc_generate 1 CDC_BIG
  cdc_connector "$WORK/cdc-big.json" big CDC_BIG no_data
  cdc_create_slot big "$WORK/cdc-big.json"
  columns=$(psql -X -A -t -c "SELECT string_agg(quote_ident(attname), ',' ORDER BY attnum) FROM pg_attribute
    WHERE attrelid = '\"CDC_SNAP\"'::regclass AND attnum > 1 AND NOT attisdropped")
  local insert_s big_s
  insert_s=$(psql_s -c "INSERT INTO \"CDC_BIG\" ($columns) SELECT $columns FROM \"CDC_SNAP\"")
  run_worker cdc-big "$cdc_rows" kafka --topic cdc.public.CDC_BIG -- "$WORK/cdc-big.json"
  big_s=$(result "$WORK/cdc-big.result" kafka_s)

  echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) after the run"
  echo "cdc stream:      $stream_rows inserts WAL -> Kafka in $stream_s s, $(cdc_rate "$stream_rows" "$stream_s") rows/s (timed from the connector's start)"
  echo "                 cpu: $(<"$WORK/cdc-stream.cpu"); peak RSS $(<"$WORK/cdc-stream.rss")"
  echo "cdc latency:     commit -> MySQL at 1,000 rows/s: $latency"
  echo "                 commit -> producer (Kafka CreateTime - source.ts_ms): $to_kafka"
  echo "cdc snapshot:    $cdc_rows rows -> Kafka in $snap_s s, $(cdc_rate "$cdc_rows" "$snap_s") rows/s; psql \\copy TO $copy_s s," \
    "$(cdc_rate "$cdc_rows" "$copy_s") rows/s; snapshot/COPY $(awk -v a="$copy_s" -v b="$snap_s" 'BEGIN { printf "%.2f", a / b }')"
  echo "                 cpu: $(<"$WORK/cdc-snap.cpu"); peak RSS $(<"$WORK/cdc-snap.rss")"
  echo "cdc transaction: one INSERT of $cdc_rows rows ($insert_s s in psql) WAL -> Kafka in $big_s s," \
    "$(cdc_rate "$cdc_rows" "$big_s") rows/s; peak RSS $(<"$WORK/cdc-big.rss")"
  echo "                 cpu: $(<"$WORK/cdc-big.cpu")"
}

if ((cdc)); then
  cdc_bench
  exit 0
fi

# ------------------------------------------------------------------ generate
log "generate: $rows rows into USERS"
t=$(now)
"$bin" generate --rows "$rows" --log-level warning >"$WORK/generate.log" 2>&1 ||
  { tail -n 20 "$WORK/generate.log" >&2; exit 1; }
generate_s=$(elapsed "$t" "$(now)")

# ------------------------------------------------------------------ source
if ((!pipeline_only)); then
  log "source: the source connector alone until Kafka holds $rows records"
  python3 "$WORK/connectors.py" "$REPO/Examples/connectors" "$WORK/source-alone" "alone-$run_id" \
    "${overrides[@]}" "source:topic.prefix=ALONE_"
  run_worker source-alone "$rows" kafka --topic ALONE_USERS -- "$WORK/source-alone/postgres-source.json"
  source_alone_s=$(result "$WORK/source-alone.result" kafka_s)
fi

# ------------------------------------------------------------------ pipeline
log "pipeline: the three connectors until MySQL and S3 hold $rows rows"
# create_topic TOPIC PARTITIONS: the broker has no CreateTopics API; its
# control FIFO creates the topic before the source would auto-create it with 4 partitions.
create_topic() {
  echo "create $1 $2" >"$TRIBUTARY_BROKER_CONTROL"
  for _ in $(seq 20); do
    "$bin" topics --bootstrap-servers "$TRIBUTARY_BOOTSTRAP" 2>/dev/null | grep -q "^$1  partitions=$2 " && return 0
    sleep 0.5
  done
  log "the broker did not create $1 with $2 partitions"
  exit 1
}
[[ -z $partitions ]] || create_topic "$topic" "$partitions"
run_worker pipeline "$rows" kafka,mysql,s3 \
  --mysql-table "$topic" --s3-prefix "topics/$topic/" --keep-objects "$WORK/objects" -- \
  "$WORK/pipeline/postgres-source.json" "$WORK/pipeline/mysql-sink.json" "$WORK/pipeline/s3-sink.json"
R=$WORK/pipeline.result
kafka_s=$(result "$R" kafka_s) mysql_s=$(result "$R" mysql_s) s3_s=$(result "$R" s3_s) s3_full_s=$(result "$R" s3_full_files_s)
s3_objects=$(result "$R" s3_objects) peak_backlog=$(result "$R" peak_backlog)

# Exactly once: every row once in MySQL (distinct keys) and in S3.
mysql_count=$(result "$R" mysql_count) s3_count=$(result "$R" s3_count) kafka_count=$(result "$R" kafka_count)
mysql_distinct=$(my -N -B -e "SELECT COUNT(DISTINCT \`index\`) FROM \`$topic\`")
if ((kafka_count != rows || mysql_count != rows || mysql_distinct != rows || s3_count != rows)); then
  log "row counts differ: kafka $kafka_count, mysql $mysql_count ($mysql_distinct distinct), s3 $s3_count; expected $rows"
  exit 1
fi

# ------------------------------------------------------------------ avro
# bytes_per_message TOPIC: mean key and value bytes of up to 20,000 messages.
bytes_per_message() {
  kcat -C -b "$TRIBUTARY_BOOTSTRAP" -t "$1" -o beginning -e -q -c 20000 -f '%K %S\n' 2>/dev/null |
    awk '{ k += ($1 < 0 ? 0 : $1); v += $2; n++ } END { if (n) printf "%.0f B (key %.0f, value %.0f)", (k + v) / n, k / n, v / n }'
}
if [[ $format == avro ]]; then
  log "avro: the pipeline again with Confluent's AvroConverter and tributary registry"
  echo "create _schemas 1" >"$TRIBUTARY_BROKER_CONTROL"
  "$bin" registry --listeners http://127.0.0.1:0 --bootstrap-servers "$TRIBUTARY_BOOTSTRAP" >"$WORK/registry.log" 2>&1 &
  registry_pid=$!
  registry_url=
  for _ in $(seq 100); do
    registry_url=$(sed -n 's/.*schema registry listening on \(http:[^ ]*\).*/\1/p' "$WORK/registry.log" | head -n 1)
    [[ -n $registry_url ]] && break
    sleep 0.2
  done
  [[ -n $registry_url ]] || { log "tributary registry did not start"; tail -n 20 "$WORK/registry.log" >&2; exit 1; }
  avro_topic=AVRO_USERS
  avro=()
  for side in key value; do
    avro+=("$side.converter=io.confluent.connect.avro.AvroConverter" "$side.converter.schema.registry.url=$registry_url")
  done
  python3 "$WORK/connectors.py" "$REPO/Examples/connectors" "$WORK/avro" "avro-$run_id" \
    "s3:flush.size=$flush_size" "${overrides[@]}" "${avro[@]/#/source:}" "${avro[@]/#/mysql:}" "s3:${avro[2]}" "s3:${avro[3]}" \
    "source:topic.prefix=AVRO_" "mysql:topics=$avro_topic" "s3:topics=$avro_topic"
  [[ -z $partitions ]] || create_topic "$avro_topic" "$partitions"
  saved_topic=$topic topic=$avro_topic
  run_worker avro "$rows" kafka,mysql,s3 --mysql-table "$avro_topic" --s3-prefix "topics/$avro_topic/" -- \
    "$WORK/avro/postgres-source.json" "$WORK/avro/mysql-sink.json" "$WORK/avro/s3-sink.json"
  topic=$saved_topic
  A=$WORK/avro.result
  avro_mysql_distinct=$(my -N -B -e "SELECT COUNT(DISTINCT \`index\`) FROM \`$avro_topic\`")
  ((avro_mysql_distinct == rows)) || { log "avro: MySQL holds $avro_mysql_distinct distinct rows, expected $rows"; exit 1; }
  json_e2e_s=$(awk -v a="$mysql_s" -v b="$s3_s" 'BEGIN { print (a > b ? a : b) }')
  avro_e2e_s=$(awk -v a="$(result "$A" mysql_s)" -v b="$(result "$A" s3_s)" 'BEGIN { print (a > b ? a : b) }')
  rows_per_s() { awk -v n="$rows" -v s="$1" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }'; }
  format_report=$(
    printf '%-6s %-40s %12s %10s\n' format "bytes per message (mean of up to 20,000)" "end to end" "rows/s"
    printf '%-6s %-40s %10s s %10s\n' json "$(bytes_per_message "$topic")" "$json_e2e_s" "$(rows_per_s "$json_e2e_s")"
    printf '%-6s %-40s %10s s %10s\n' avro "$(bytes_per_message "$avro_topic")" "$avro_e2e_s" "$(rows_per_s "$avro_e2e_s")"
  )
  kill -TERM "$registry_pid" 2>/dev/null || true
  wait "$registry_pid" 2>/dev/null || true
  registry_pid=
fi

# ------------------------------------------------------------------ idle
# The same three connectors again (same names: the source's offset and the
# sinks' groups are at the end), with nothing to do: tributary's footprint
# when idle. VmRSS after idle_s seconds; VmHWM too (the start-up peak).
log "idle: the three connectors again with nothing to do, for $idle_s s"
"$bin" run --worker "$WORK/worker.properties" --progress-interval 10 \
  "$WORK/pipeline/postgres-source.json" "$WORK/pipeline/mysql-sink.json" "$WORK/pipeline/s3-sink.json" \
  >"$WORK/idle.log" 2>&1 &
worker_pid=$!
sleep "$idle_s"
kill -0 "$worker_pid" 2>/dev/null || { log "idle: tributary run exited early"; tail -n 25 "$WORK/idle.log" >&2; exit 1; }
idle_rss=$(awk '/^VmRSS:/ { rss = $2 } /^VmHWM:/ { hwm = $2 } END { printf "%.1f MB (peak %.1f MB)", rss / 1024, hwm / 1024 }' "/proc/$worker_pid/status")
stop_worker
((worker_rc == 0)) || { log "idle: tributary run exited $worker_rc on SIGTERM, expected 0"; tail -n 25 "$WORK/idle.log" >&2; exit 1; }
idle_rows=$(my -N -B -e "SELECT COUNT(*) FROM \`$topic\`")
((idle_rows == rows)) || { log "idle: MySQL holds $idle_rows rows after the idle run, expected $rows"; exit 1; }

pipeline_cpu=$(sed -n 's/^tributary \([0-9.]*\),.*/\1/p' "$WORK/pipeline.cpu")
cpu_per_row=$(awk -v c="$pipeline_cpu" -v n="$rows" 'BEGIN { printf "%.1f", c * 1e6 / n }')
if ((pipeline_only)); then
  e2e_s=$(awk -v a="$mysql_s" -v b="$s3_s" 'BEGIN { print (a > b ? a : b) }')
  echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) after the run"
  echo "pipeline: $rows rows end to end in $e2e_s s (source $kafka_s s, MySQL $mysql_s s, S3 $s3_s s); peak backlog $peak_backlog"
  echo "s3 grid:  the last object of flush.size records landed $(landed "$s3_full_s"); smaller ones close on the" \
    "${rotate_ms} ms rotate.schedule.interval.ms boundaries (wall clock), which also cut files mid-drain"
  echo "cpu:      $(<"$WORK/pipeline.cpu")"
  echo "          tributary's CPU in the pipeline phase: $pipeline_cpu s, $cpu_per_row µs per row"
  echo "rss:      tributary's peak (VmHWM) in the pipeline: $(<"$WORK/pipeline.rss"); idle with three connectors: $idle_rss"
  [[ $format == json ]] || printf 'format:   JSON envelopes against Avro (same rows, same run)\n%s\n' "$format_report"
  exit 0
fi

# ------------------------------------------------------------------ backlog
# What the broker still holds of the topic; nothing is produced any more, so
# nothing more is pruned while the sinks read it.
read -r low high < <(python3 -c '
import subprocess, sys
out = subprocess.run([sys.argv[1], "topics", "--filter", sys.argv[2]], capture_output=True, text=True).stdout
rows = [l.split() for l in out.splitlines() if l.startswith(" ") and len(l.split()) == 5 and l.split()[0].isdigit()]
print(sum(int(r[2]) for r in rows), sum(int(r[3]) for r in rows))' "$bin" "$topic")
backlog=$((high - low))
log "backlog: each sink alone on the $backlog records the broker still holds (offsets $low..$high summed)"
python3 "$WORK/connectors.py" "$REPO/Examples/connectors" "$WORK/backlog" "backlog-$run_id" \
  "s3:flush.size=$flush_size" "${overrides[@]}" "mysql:table.name.format=\${topic}_BACKLOG" "s3:topics.dir=backlog"
run_worker backlog-mysql "$backlog" mysql --mysql-table "${topic}_BACKLOG" -- "$WORK/backlog/mysql-sink.json"
run_worker backlog-s3 "$backlog" s3 --s3-prefix "backlog/$topic/" -- "$WORK/backlog/s3-sink.json"
mysql_alone_s=$(result "$WORK/backlog-mysql.result" mysql_s) mysql_join_s=$(result "$WORK/backlog-mysql.result" joined_s)
s3_alone_s=$(result "$WORK/backlog-s3.result" s3_s) s3_join_s=$(result "$WORK/backlog-s3.result" joined_s)
s3_alone_full_s=$(result "$WORK/backlog-s3.result" s3_full_files_s)

# ------------------------------------------------------------------ baselines
# Each alone, on the same servers and the same data.
log "baselines"
csv=$WORK/users.csv

# Postgres read: what the source must at least do, by the fastest client path.
t=$(now)
psql -X -q -v ON_ERROR_STOP=1 -c "\\copy (SELECT * FROM \"USERS\") TO '$csv' WITH (FORMAT csv, HEADER)"
pg_read_s=$(elapsed "$t" "$(now)")

# Postgres write: COPY of the same rows, the ceiling for `generate`.
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE TABLE "USERS_BASELINE" (LIKE "USERS" INCLUDING ALL)'
t=$(now)
psql -X -q -v ON_ERROR_STOP=1 -c "\\copy \"USERS_BASELINE\" FROM '$csv' WITH (FORMAT csv, HEADER)"
pg_write_s=$(elapsed "$t" "$(now)")

# Kafka: kcat producing N of the pipeline's own messages (keys and values as
# they are on the topic, cycled from what the broker still holds) with our
# producer's settings, into a new topic of the same broker.
kcat -C -b "$TRIBUTARY_BOOTSTRAP" -t "$topic" -o beginning -e -q -c 20000 -f '%k\t%s\n' >"$WORK/sample.tsv" 2>/dev/null
python3 - "$WORK/sample.tsv" "$WORK/messages.tsv" "$rows" <<'EOF'
import sys
sample = [line for line in open(sys.argv[1], "rb") if line.strip()]
with open(sys.argv[2], "wb") as out:
    for i in range(int(sys.argv[3])):
        out.write(sample[i % len(sample)])
EOF
message_bytes=$(awk '{ n++; s += length($0) } END { printf "%d", s / n }' "$WORK/sample.tsv")
kcat_opts=(-X enable.idempotence=true -X linger.ms=5 -X batch.num.messages=10000 -X acks=all)
[[ $compression == none ]] || kcat_opts+=(-X "compression.codec=$compression")
t=$(now)
kcat -P -b "$TRIBUTARY_BOOTSTRAP" -t BASELINE_KCAT -K $'\t' "${kcat_opts[@]}" -l "$WORK/messages.tsv"
kcat_s=$(elapsed "$t" "$(now)")
# Partition rows of `tributary topics`: partition leader low high messages.
kcat_count=$("$bin" topics --filter BASELINE_KCAT | awk 'NF == 5 && $1 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/ { h += $4 } END { print h + 0 }')
((kcat_count == rows)) || log "warning: the kcat baseline topic holds $kcat_count messages, expected $rows"

# MySQL: LOAD DATA of the same rows into a table shaped like the sink's.
header=$(head -n 1 "$csv")
columns=\`${header//,/\`,\`}\`
columns=${columns//\`created_at\`/@created_at}
columns=${columns//\`updated_at\`/@updated_at}
my -e "CREATE TABLE \`${topic}_BASELINE\` LIKE \`$topic\`"
t=$(now)
# Postgres writes a timestamptz as '2024-01-02 03:04:05.678+00'; DATETIME takes no zone.
my --local-infile=1 -e "LOAD DATA LOCAL INFILE '$csv' INTO TABLE \`${topic}_BASELINE\` CHARACTER SET utf8mb4
  FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' LINES TERMINATED BY '\n' IGNORE 1 LINES
  ($columns) SET created_at = SUBSTRING_INDEX(@created_at, '+', 1), updated_at = SUBSTRING_INDEX(@updated_at, '+', 1)"
mysql_load_s=$(elapsed "$t" "$(now)")
mysql_load_count=$(my -N -B -e "SELECT COUNT(*) FROM \`${topic}_BASELINE\`")
((mysql_load_count == rows)) || log "warning: the LOAD DATA baseline loaded $mysql_load_count rows, expected $rows"

# S3: boto3 uploading the very objects the sink wrote, one after another.
s3_bytes=$(du -sb "$WORK/objects" | cut -f1)
s3_put_s=$(OBJECTS=$WORK/objects python3 - <<'EOF'
import os, time
import boto3
s3 = boto3.client("s3", endpoint_url=os.environ["TRIBUTARY_S3_ENDPOINT"], region_name=os.environ["AWS_REGION"])
bucket, folder = os.environ["TRIBUTARY_S3_BUCKET"], os.environ["OBJECTS"]
bodies = [open(os.path.join(folder, name), "rb").read() for name in sorted(os.listdir(folder))]
start = time.time()
for i, body in enumerate(bodies):
    s3.put_object(Bucket=bucket, Key=f"baseline/{i}.json", Body=body)
print(f"{time.time() - start:.2f}")
EOF
)

# ------------------------------------------------------------------ report
e2e_s=$(awk -v a="$mysql_s" -v b="$s3_s" 'BEGIN { print (a > b ? a : b) }')
# rate ROWS SECONDS
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }'; }
cols() { printf '%-30s %8s %8s %8s   %-32s %8s %8s %6s\n' "$@"; }
line() { # stage rows seconds [baseline-name baseline-rows baseline-seconds]
  if (($# > 3)); then
    cols "$1" "$2" "$3" "$(rate "$2" "$3")" "$4" "$6" "$(rate "$5" "$6")" \
      "$(awk -v n1="$2" -v s1="$3" -v n2="$5" -v s2="$6" 'BEGIN { printf "%.2f", (s1 > 0 && n2 > 0 ? (n1 / s1) / (n2 / s2) : 0) }')"
  else
    cols "$1" "$2" "$3" "$(rate "$2" "$3")" "" "" "" ""
  fi
}

echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) after the run"
echo "data:     ~$message_bytes bytes a Kafka message (key + value); $s3_objects S3 objects, $((s3_bytes / 1048576)) MiB"
echo "pipeline: peak backlog $peak_backlog records in Kafka not yet in both sinks"
echo "s3 grid:  the last object of flush.size records landed $(landed "$s3_full_s") (pipeline), $(landed "$s3_alone_full_s") (S3 alone);" \
  "smaller ones close on the ${rotate_ms} ms rotate.schedule.interval.ms boundaries (wall clock), which also cut files mid-drain"
echo "backlog:  $backlog records; group joined after $mysql_join_s s (MySQL), $s3_join_s s (S3); after the join" \
  "$(rate "$backlog" "$(elapsed "$mysql_join_s" "$mysql_alone_s")") rows/s (MySQL), $(rate "$backlog" "$(elapsed "$s3_join_s" "$s3_alone_s")") rows/s (S3)"
echo "cpu:      source alone:  $(<"$WORK/source-alone.cpu")"
echo "          pipeline:      $(<"$WORK/pipeline.cpu")"
echo "          MySQL alone:   $(<"$WORK/backlog-mysql.cpu")"
echo "          S3 alone:      $(<"$WORK/backlog-s3.cpu")"
echo "rss:      tributary's peak (VmHWM): pipeline $(<"$WORK/pipeline.rss"), source alone $(<"$WORK/source-alone.rss");" \
  "idle with three connectors: $idle_rss"
echo "          tributary's CPU in the pipeline phase: $pipeline_cpu s, $cpu_per_row µs per row"
echo
cols stage rows seconds rows/s baseline seconds rows/s ratio
line "generate -> Postgres" "$rows" "$generate_s" "psql \\copy FROM (same rows)" "$rows" "$pg_write_s"
line "alone: source -> Kafka" "$rows" "$source_alone_s" "psql \\copy (SELECT *) TO" "$rows" "$pg_read_s"
line "" "$rows" "$source_alone_s" "kcat produce (same messages)" "$rows" "$kcat_s"
line "alone: MySQL sink (backlog)" "$backlog" "$mysql_alone_s" "mariadb LOAD DATA (same rows)" "$rows" "$mysql_load_s"
line "alone: S3 sink (backlog)" "$backlog" "$s3_alone_s" "boto3 put_object (same objects)" "$rows" "$s3_put_s"
line "pipeline: source -> Kafka" "$rows" "$kafka_s"
line "pipeline: MySQL sink" "$rows" "$mysql_s"
line "pipeline: S3 sink" "$rows" "$s3_s"
line "pipeline: end to end" "$rows" "$e2e_s"
echo
echo "'alone': one connector in its own \`tributary run\`, timed from its start (sinks: group join"
echo "included) until it holds all its rows. 'pipeline': the three connectors in one \`tributary run\`,"
echo "rows already in Postgres; each sink is fed no faster than the source. Baselines run alone."
echo "ratio = our rows/s / baseline rows/s."
if [[ $format == avro ]]; then
  echo
  echo "JSON envelopes against Avro (AvroConverter, tributary registry), same rows, same run:"
  echo "$format_report"
fi
