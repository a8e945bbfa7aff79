#!/usr/bin/env bash
# Private servers for tests and the demo: PostgreSQL 15, MariaDB, S3 (moto)
# and Kafka (our own `tributary broker`), all on 127.0.0.1 with their own ports.
#
#   scripts/services.sh up       start whatever is not running (idempotent)
#   scripts/services.sh down     stop everything started here, delete the data
#   scripts/services.sh status   print each service up/down (exit 1 if any is down)
#   scripts/services.sh env      print the export lines (also in $STATE/env)
#   scripts/services.sh restart postgres|mariadb
#                                stop one server and start it again, same port and data
#
# Everything lives in one state dir, $TRIBUTARY_STATE_DIR (default
# $REPO/.state/services): data, sockets, pid files, logs, the env file.
# Logs are kept by `down`, so a failed run can still be read. PostgreSQL and
# MariaDB run as the users postgres and mysql; when they cannot enter the
# state dir (a clone in a private home or a 0700 temp dir), their data dirs
# go under /tmp/tributary-servers-<hash of the state dir> instead.
# TRIBUTARY_BIN (default $REPO/.build/debug/tributary) provides the broker;
# TRIBUTARY_SKIP_KAFKA=1 leaves Kafka out.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${TRIBUTARY_STATE_DIR:-$REPO/.state/services}
TRIBUTARY_BIN=${TRIBUTARY_BIN:-$REPO/.build/debug/tributary}
PG_BIN=/usr/lib/postgresql/15/bin # not on PATH on Debian

log() { echo "services: $*" >&2; }

# Print the last lines of a log and stop: a bare "failed" helps nobody.
die_with_log() {
  log "$1"
  if [[ -f $2 ]]; then
    echo "---- last lines of $2 ----" >&2
    tail -n 30 "$2" >&2
    echo "----" >&2
  fi
  exit 1
}

# True when both server users can reach (search) directory $1.
reachable_by_servers() {
  runuser -u postgres -- test -x "$1" 2>/dev/null && runuser -u mysql -- test -x "$1" 2>/dev/null
}

# Where the servers' data dirs live: the state dir when the server users can
# enter it, else a directory under /tmp named after the state dir, so `up`,
# `down` and `status` all find the same one. It is created by root with mode
# 755 and must be a real directory owned by root: a name in /tmp can be
# taken by anyone, and we must never follow someone else's symlink.
server_root() {
  if [[ -d $STATE ]] && reachable_by_servers "$STATE"; then
    echo "$STATE"
    return
  fi
  echo "/tmp/tributary-servers-$(printf '%s' "$STATE" | sha256sum | cut -c1-16)"
}

make_server_root() {
  [[ $SERVERS == "$STATE" ]] && return
  mkdir -m 755 "$SERVERS" 2>/dev/null || true
  if [[ -L $SERVERS || ! -d $SERVERS || $(stat -c %u "$SERVERS") != 0 ]]; then
    log "$SERVERS is not a directory of root's; remove it or set TRIBUTARY_STATE_DIR elsewhere"
    exit 1
  fi
  chmod 755 "$SERVERS"
  reachable_by_servers "$SERVERS" ||
    { log "$SERVERS is not reachable for users postgres and mysql; set TRIBUTARY_STATE_DIR elsewhere"; exit 1; }
  log "$STATE is private: PostgreSQL and MariaDB data go under $SERVERS"
}

# N distinct free TCP ports on 127.0.0.1. All sockets stay open until every
# port is chosen, so the kernel cannot hand out the same port twice.
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# Single-quote a value for the env file (each ' becomes '\''), so plain sh,
# humans and simple parsers can all read it.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

random_password() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# Print the pid in PIDFILE if that process is alive and its command line
# contains PATTERN; pids get reused, and we must never signal a stranger.
live_pid() {
  local pidfile=$1 pattern=$2 pid
  [[ -s $pidfile ]] || return 1
  pid=$(head -n 1 "$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 1
  echo "$pid"
}

# SIGTERM, wait up to $3 seconds, then SIGKILL. Services are started with
# setsid, so the pid is also a process group holding any helper processes;
# the group is signalled too so nothing is left behind.
stop_pid() {
  local pidfile=$1 pattern=$2 grace=${3:-10} pid target i
  pid=$(live_pid "$pidfile" "$pattern") || { rm -f "$pidfile"; return 0; }
  target=$pid
  [[ $(ps -o pgid= -p "$pid" | tr -d ' ') == "$pid" ]] && target=-$pid
  kill -TERM -- "$target" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    # live_pid, not kill -0: an exited child of PID 1 may linger as a zombie.
    live_pid "$pidfile" "$pattern" >/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "$target" 2>/dev/null || true
  rm -f "$pidfile"
}

# ---------------------------------------------------------------- PostgreSQL
SERVERS=$(server_root)
PG=$SERVERS/pg # owned by postgres: root may not run initdb or postgres

pg_pid() { live_pid "$PG/data/postmaster.pid" "$PG/data"; }

pg_up() {
  if pg_pid >/dev/null; then return; fi
  pg_down # clear a stale data dir; every start is a fresh cluster
  local port password
  port=$1
  password=$(random_password)
  mkdir -p "$PG/sock"
  chown -R postgres: "$PG"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$PG/data" -U postgres --no-locale -E UTF8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$PG/initdb.log" 2>&1 ||
    die_with_log "initdb failed" "$PG/initdb.log"
  # wal_level=logical and slots/senders: the Postgres source uses logical
  # decoding. fsync=off is safe for throwaway data (never synchronous_commit=off:
  # decoding then lags).
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG/data" -l "$PG/postgres.log" -w -t 30 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k '$PG/sock' -c wal_level=logical \
        -c max_replication_slots=10 -c max_wal_senders=10 -c fsync=off -c max_connections=200" \
    >/dev/null || die_with_log "postgres did not start" "$PG/postgres.log"
  # Superuser: tests create databases, publications and replication slots.
  runuser -u postgres -- "$PG_BIN/psql" -h "$PG/sock" -p "$port" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 -q \
    -c "CREATE ROLE tributary LOGIN SUPERUSER REPLICATION PASSWORD '$password'" \
    -c "CREATE DATABASE tributary OWNER tributary" >>"$PG/postgres.log" 2>&1 ||
    die_with_log "creating the tributary role/database failed" "$PG/postgres.log"
  echo "$port" >"$STATE/pg.port"
  echo "$password" >"$STATE/pg.password"
}

pg_down() {
  if pg_pid >/dev/null; then
    # fast = roll back sessions and stop now; its children go with it.
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG/data" -m fast -w -t 15 stop >/dev/null 2>&1 || true
    stop_pid "$PG/data/postmaster.pid" "$PG/data" 5
  fi
  rm -rf "$PG/data" "$PG/sock" "$STATE/pg.port" "$STATE/pg.password"
}

# ---------------------------------------------------------------- MariaDB
MY=$SERVERS/mysql # owned by mysql, which mariadbd runs as

my_pid() { live_pid "$STATE/mysql.pid" "$MY/data"; }

my_up() {
  if my_pid >/dev/null; then return; fi
  my_down
  local port password i host
  port=$1
  password=$(random_password)
  mkdir -p "$MY"
  chown mysql: "$MY"
  # --no-defaults everywhere: Debian's my.cnf points at /run/mysqld.
  mariadb-install-db --no-defaults --datadir="$MY/data" --user=mysql \
    --auth-root-authentication-method=normal --skip-test-db >"$MY/install.log" 2>&1 ||
    die_with_log "mariadb-install-db failed" "$MY/install.log"
  my_start "$port"
  # '127.0.0.1' is what TCP clients from here match (skip-name-resolve);
  # '%' for anything else. ALL on *.*: tests create their own databases.
  local sql="CREATE DATABASE tributary;"
  for host in 127.0.0.1 %; do
    sql+="CREATE USER 'tributary'@'$host' IDENTIFIED BY '$password';"
    sql+="GRANT ALL ON *.* TO 'tributary'@'$host' WITH GRANT OPTION;"
  done
  mariadb --no-defaults --socket="$MY/mysqld.sock" -uroot -e "$sql" >>"$MY/install.log" 2>&1 ||
    die_with_log "creating the tributary user/database failed" "$MY/install.log"
  echo "$port" >"$STATE/mysql.port"
  echo "$password" >"$STATE/mysql.password"
}

# Starts mariadbd on an installed data dir and waits until it answers.
my_start() {
  local port=$1 i
  setsid mariadbd --no-defaults --datadir="$MY/data" --user=mysql \
    --port="$port" --bind-address=127.0.0.1 --socket="$MY/mysqld.sock" \
    --pid-file="$MY/mysqld.pid" --log-error="$MY/error.log" --skip-name-resolve \
    --innodb-flush-log-at-trx-commit=2 --max-connections=300 \
    </dev/null >/dev/null 2>&1 &
  echo $! >"$STATE/mysql.pid"
  for ((i = 0; ; i++)); do
    mariadb-admin --no-defaults --socket="$MY/mysqld.sock" -uroot ping >/dev/null 2>&1 && break
    my_pid >/dev/null || die_with_log "mariadbd exited" "$MY/error.log"
    ((i < 200)) || die_with_log "mariadbd not answering after 20 s" "$MY/error.log"
    sleep 0.1
  done
}

my_down() {
  stop_pid "$STATE/mysql.pid" "$MY/data" 15
  rm -rf "$MY/data" "$MY/mysqld.sock" "$MY/mysqld.pid" "$STATE/mysql.port" "$STATE/mysql.password"
}

# ---------------------------------------------------------------- S3 (moto)
s3_pid() { live_pid "$STATE/s3.pid" "$STATE/s3.info"; }

# Starting only; s3_wait checks it, so the slow Python start overlaps the rest.
s3_start() {
  if s3_pid >/dev/null; then return; fi
  s3_down
  setsid python3 "$REPO/scripts/s3server.py" --info-file "$STATE/s3.info" \
    </dev/null >"$STATE/s3.log" 2>&1 &
  echo $! >"$STATE/s3.pid"
}

s3_wait() {
  local i
  for ((i = 0; ; i++)); do
    [[ -s $STATE/s3.info ]] && return
    s3_pid >/dev/null || die_with_log "s3server exited" "$STATE/s3.log"
    ((i < 200)) || die_with_log "s3server not ready after 20 s" "$STATE/s3.log"
    sleep 0.1
  done
}

s3_down() {
  stop_pid "$STATE/s3.pid" "$STATE/s3.info" 5
  rm -f "$STATE/s3.info"
}

# ---------------------------------------------------------------- Kafka
# The broker reads fault commands ("down 1") on stdin. stdin is a FIFO that a
# `sleep infinity` holds open for writing, so the broker never sees EOF and
# tests can `echo "down 1" > $TRIBUTARY_BROKER_CONTROL` at any time.
CTL=$STATE/broker.ctl

kafka_pid() { live_pid "$STATE/kafka.pid" "$STATE/kafka.bootstrap"; }
holder_pid() { live_pid "$STATE/broker-ctl-holder.pid" "sleep"; }
# Without its FIFO holder the broker has seen EOF: that counts as down.
kafka_ok() { kafka_pid >/dev/null && holder_pid >/dev/null; }

kafka_wanted() {
  [[ -z ${TRIBUTARY_SKIP_KAFKA:-} ]] || return 1
  [[ -x $TRIBUTARY_BIN ]] && return
  log "warning: $TRIBUTARY_BIN missing (swift build first); Kafka not started"
  return 1
}

kafka_start() {
  if kafka_ok; then return; fi
  kafka_down
  mkfifo "$CTL"
  # Each open of a FIFO blocks until the other end opens; both run in the
  # background, so they meet without blocking this script.
  setsid sleep infinity >"$CTL" 2>/dev/null </dev/null &
  echo $! >"$STATE/broker-ctl-holder.pid"
  setsid "$TRIBUTARY_BIN" broker --brokers 3 --partitions 4 \
    --bootstrap-file "$STATE/kafka.bootstrap" <"$CTL" >"$STATE/kafka.log" 2>&1 &
  echo $! >"$STATE/kafka.pid"
}

kafka_wait() {
  local i
  for ((i = 0; ; i++)); do
    [[ -s $STATE/kafka.bootstrap ]] && return
    kafka_pid >/dev/null || die_with_log "tributary broker exited" "$STATE/kafka.log"
    ((i < 200)) || die_with_log "no bootstrap file after 20 s" "$STATE/kafka.log"
    sleep 0.1
  done
}

kafka_down() {
  stop_pid "$STATE/kafka.pid" "$STATE/kafka.bootstrap" 10
  stop_pid "$STATE/broker-ctl-holder.pid" "sleep" 1
  rm -f "$CTL" "$STATE/kafka.bootstrap"
}

# ---------------------------------------------------------------- env file
# env_lines NAME VALUE [NAME VALUE...] -> export NAME='VALUE' lines
env_lines() {
  while (($#)); do
    echo "export $1=$(shq "$2")"
    shift 2
  done
}

write_env() {
  local -A s3
  local k v
  while IFS='=' read -r k v; do s3[$k]=$v; done <"$STATE/s3.info"
  {
    echo "# written by scripts/services.sh up; source it"
    env_lines \
      TRIBUTARY_STATE_DIR "$STATE" \
      TRIBUTARY_PG_URL "postgresql://tributary:$(<"$STATE/pg.password")@127.0.0.1:$(<"$STATE/pg.port")/tributary" \
      TRIBUTARY_MYSQL_URL "mysql://tributary:$(<"$STATE/mysql.password")@127.0.0.1:$(<"$STATE/mysql.port")/tributary" \
      TRIBUTARY_PG_DATA "$PG/data" \
      TRIBUTARY_S3_ENDPOINT "${s3[endpoint]}" \
      TRIBUTARY_S3_BUCKET "${s3[bucket]}" \
      AWS_ACCESS_KEY_ID "${s3[access_key_id]}" \
      AWS_SECRET_ACCESS_KEY "${s3[secret_access_key]}" \
      AWS_REGION "${s3[region]}"
    # Without a broker the Kafka variables are left unset, so tests can skip.
    if kafka_ok; then
      env_lines \
        TRIBUTARY_BOOTSTRAP "$(head -n 1 "$STATE/kafka.bootstrap")" \
        TRIBUTARY_BROKER_CONTROL "$CTL"
    fi
  } >"$STATE/env.tmp"
  mv "$STATE/env.tmp" "$STATE/env"
}

# ---------------------------------------------------------------- commands
cmd_up() {
  [[ $(id -u) == 0 ]] || { log "must run as root (initdb runs as postgres, mariadbd as mysql)"; exit 1; }
  mkdir -p "$STATE"
  chmod 755 "$STATE"
  # The state dir may have been created just now: decide again where data goes.
  SERVERS=$(server_root)
  PG=$SERVERS/pg
  MY=$SERVERS/mysql
  make_server_root
  local kafka=0 ports pg_job my_job
  rm -f "$STATE/env" # never leave a stale one behind if a start fails
  s3_start
  if kafka_wanted; then kafka=1; kafka_start; fi
  read -ra ports <<<"$(free_ports 2)"
  # initdb and mariadb-install-db take a second or two each: run them side by
  # side. A failing one prints its log; `wait` then fails and stops us.
  pg_up "${ports[0]}" &
  pg_job=$!
  my_up "${ports[1]}" &
  my_job=$!
  wait "$pg_job"
  wait "$my_job"
  s3_wait
  if ((kafka)); then kafka_wait; else kafka_down; fi
  write_env
  cmd_status >&2 || true
}

cmd_down() {
  [[ -d $STATE ]] || return 0
  kafka_down
  s3_down
  my_down
  pg_down
  rm -f "$STATE/env"
  # Only data and logs lived there: keep the logs in $STATE, where a failed
  # run's message points, and remove the rest.
  if [[ $SERVERS != "$STATE" && -d $SERVERS && ! -L $SERVERS ]]; then
    local dir
    for dir in pg mysql; do
      [[ -d $SERVERS/$dir ]] || continue
      mkdir -p "$STATE/$dir"
      cp "$SERVERS/$dir"/*.log "$STATE/$dir/" 2>/dev/null || true
    done
    rm -rf "$SERVERS"
  fi
}

cmd_status() {
  local ok=0 name fn
  for name in postgres mariadb s3 kafka; do
    case $name in
      postgres) fn=pg_pid ;; mariadb) fn=my_pid ;; s3) fn=s3_pid ;; kafka) fn=kafka_ok ;;
    esac
    if $fn >/dev/null; then
      printf '%-9s up\n' "$name"
    else
      printf '%-9s down\n' "$name"
      ok=1
    fi
  done
  return $ok
}

# Stops one server and starts it again on the same port and data: an outage
# its clients must ride out (the fault suite uses it).
cmd_restart() {
  case ${1:-} in
    postgres)
      pg_pid >/dev/null || { log "postgres is not running"; exit 1; }
      runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG/data" -l "$PG/postgres.log" -m fast -w -t 30 restart >/dev/null ||
        die_with_log "postgres did not restart" "$PG/postgres.log"
      ;;
    mariadb)
      my_pid >/dev/null || { log "mariadb is not running"; exit 1; }
      stop_pid "$STATE/mysql.pid" "$MY/data" 15
      my_start "$(<"$STATE/mysql.port")"
      ;;
    *) log "usage: $0 restart postgres|mariadb"; exit 2 ;;
  esac
}

cmd_env() {
  [[ -f $STATE/env ]] || { log "no $STATE/env; run: scripts/services.sh up"; exit 1; }
  cat "$STATE/env"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  restart) cmd_restart "${2:-}" ;;
  *)
    echo "usage: $0 up|down|status|env|restart postgres|mariadb" >&2
    exit 2
    ;;
esac
