#!/usr/bin/env python3
"""The fault suite's driver; run it through scripts/faults.sh.

For each fault: a fresh table, the seed's three connectors in one
`tributary run` (fresh names), writers inserting rows all along, the fault
injected while rows flow, then a wait until MySQL and S3 hold what Postgres
holds. Reported per fault: rows in Postgres, missing and duplicated rows in
MySQL and S3, whether the worker kept running, and the seconds from the
service's recovery until each destination grew again.

Postgres is the truth: the writers' batches that failed during an outage
are not in it and are not expected downstream.
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import boto3
from botocore.config import Config

ENV = os.environ
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(text):
    print(f"faults: {text}", file=sys.stderr, flush=True)


class Servers:
    """The private servers of scripts/services.sh and the clients to count with."""

    def __init__(self, work):
        self.state = ENV["TRIBUTARY_STATE_DIR"]
        self.control = ENV["TRIBUTARY_BROKER_CONTROL"]
        self.mycnf = os.path.join(work, "my.cnf")
        with open(os.open(self.mycnf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            port = open(os.path.join(self.state, "mysql.port")).read().strip()
            password = open(os.path.join(self.state, "mysql.password")).read().strip()
            f.write(f"[client]\nhost=127.0.0.1\nport={port}\nuser=tributary\npassword={password}\ndatabase=tributary\n")
        self.s3 = boto3.client(
            "s3", endpoint_url=ENV["TRIBUTARY_S3_ENDPOINT"], region_name=ENV["AWS_REGION"],
            config=Config(retries={"max_attempts": 10, "mode": "standard"}, s3={"addressing_style": "path"}))
        self.bucket = ENV["TRIBUTARY_S3_BUCKET"]

    def broker(self, command):
        with open(self.control, "w") as f:
            f.write(command + "\n")

    def psql(self, sql):
        out = subprocess.run(["psql", ENV["TRIBUTARY_PG_URL"], "-tAc", sql], capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip())
        return out.stdout.strip()

    def mysql(self, sql):
        out = subprocess.run(["mariadb", f"--defaults-extra-file={self.mycnf}", "-NBe", sql],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip())
        return out.stdout.strip()

    def restart(self, name):
        subprocess.run([os.path.join(REPO, "scripts/services.sh"), "restart", name], check=True)


class Scenario:
    """One fault's pipeline: table, connector files, worker, writers, counters."""

    def __init__(self, servers, args, name, s3_endpoint):
        self.servers, self.args, self.name = servers, args, name
        self.table = "F_" + name.upper().replace("-", "_") + "_" + str(os.getpid())
        self.topic = "P_" + self.table
        self.dir = os.path.join(args.work, name)
        self.s3_prefix = f"faults/{self.table}/"
        os.makedirs(self.dir, exist_ok=True)
        self.worker = None
        self.worker_log = open(os.path.join(self.dir, "worker.log"), "ab")
        self.worker_exits = []  # unexpected exits (status) of the worker
        self.stop_writing = threading.Event()
        self.writer = None
        self.s3_counted = {}
        self.write_connectors(s3_endpoint)

    def write_connectors(self, s3_endpoint):
        changes = {
            "postgres-source.json": {"table.whitelist": self.table},
            "mysql-sink.json": {"topics": self.topic},
            # Rotation every second, not the seed's 6 s: "flowing again" is
            # then seen within a second of the sink writing again.
            "s3-sink.json": {"topics": self.topic, "store.url": s3_endpoint, "topics.dir": self.s3_prefix.rstrip("/"),
                             "flush.size": str(self.args.flush_size), "rotate.schedule.interval.ms": "1000"},
        }
        self.files = []
        for file, config in changes.items():
            with open(os.path.join(REPO, "Examples/connectors", file)) as f:
                spec = json.load(f)
            spec["name"] = f"{spec['name']}-{self.table.lower()}"
            spec["config"].update(config)
            path = os.path.join(self.dir, file)
            with open(path, "w") as f:
                json.dump(spec, f, indent=2)
            self.files.append(path)
        with open(os.path.join(self.dir, "worker.properties"), "w") as f:
            f.write(f"bootstrap.servers={ENV['TRIBUTARY_BOOTSTRAP']}\n")
            f.write(f"offset.storage.file.filename={self.dir}/source-offsets.json\n")
            # Compressed, the mock broker's ~5 MiB per partition hold ~50k records.
            f.write("producer.compression.type=zstd\n")

    # -- processes
    def generate(self, rows, seed):
        return subprocess.run(
            [self.args.bin, "generate", "--rows", str(rows), "--table", self.table, "--seed", str(seed),
             "--batch-size", str(max(1, min(rows, 10000)))],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode

    def prepare(self, partitions, preload=0):
        if self.generate(0, 1) != 0:
            raise RuntimeError(f"could not create {self.table}")
        self.servers.broker(f"create {self.topic} {partitions}")
        if preload:
            log(f"{self.name}: loading {preload} rows before the worker starts")
            if self.generate(preload, 2) != 0:
                raise RuntimeError("preload failed")

    def start_worker(self):
        self.worker_log.write(f"==== start at {time.ctime()}\n".encode())
        self.worker_log.flush()
        self.worker = subprocess.Popen(
            [self.args.bin, "run", *self.files, "--worker", os.path.join(self.dir, "worker.properties")],
            cwd=self.dir, stdin=subprocess.DEVNULL, stdout=self.worker_log, stderr=subprocess.STDOUT)

    def check_worker(self):
        """Records an exit the suite did not cause (an outage must never end the run)."""
        if self.worker and self.worker.poll() is not None:
            self.worker_exits.append(self.worker.returncode)
            log(f"{self.name}: the worker exited by itself with {self.worker.returncode}; restarting it")
            self.start_worker()

    def kill_worker(self):
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait()

    def stop_worker(self):
        if self.worker and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                return self.worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                return "hung on SIGTERM"
        return self.worker.returncode if self.worker else None

    def start_writers(self, rate):
        """About `rate` rows/s in batches of 100, retried through outages."""
        def loop():
            seed = 1000
            while not self.stop_writing.is_set():
                started = time.time()
                self.generate(100, seed)
                seed += 1
                time.sleep(max(0.0, 100 / rate - (time.time() - started)))
        self.writer = threading.Thread(target=loop, daemon=True)
        self.writer.start()

    def stop_writers(self):
        self.stop_writing.set()
        if self.writer:
            self.writer.join()

    # -- counts
    def mysql_count(self):
        try:
            return int(self.servers.mysql(f"SELECT COUNT(*) FROM `{self.topic}`") or 0)
        except Exception:
            return None  # table not created yet, or MariaDB restarting

    def s3_objects(self):
        keys = []
        for page in self.servers.s3.get_paginator("list_objects_v2").paginate(Bucket=self.servers.bucket, Prefix=self.s3_prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return keys

    def s3_object_count(self):
        try:
            return len(self.s3_objects())
        except Exception:
            return None

    def verdict(self):
        expected = set(int(x) for x in self.servers.psql(f'SELECT "index" FROM "{self.table}"').split())
        mysql_rows = [int(x) for x in self.servers.mysql(f"SELECT `index` FROM `{self.topic}`").split()]
        s3_rows = []
        for key in self.s3_objects():
            body = self.servers.s3.get_object(Bucket=self.servers.bucket, Key=key)["Body"].read()
            s3_rows += [json.loads(line)["index"] for line in body.splitlines() if line.strip()]
        return {
            "postgres": len(expected),
            "mysql_missing": len(expected - set(mysql_rows)), "mysql_duplicates": len(mysql_rows) - len(set(mysql_rows)),
            "s3_missing": len(expected - set(s3_rows)), "s3_duplicates": len(s3_rows) - len(set(s3_rows)),
            "unexpected_rows": len((set(mysql_rows) | set(s3_rows)) - expected),
        }

    def wait_converged(self, timeout):
        """Until MySQL and S3 hold as many rows as Postgres (or the timeout)."""
        deadline = time.time() + timeout
        target = int(self.servers.psql(f'SELECT COUNT(*) FROM "{self.table}"'))
        while time.time() < deadline:
            self.check_worker()
            mysql = self.mysql_count() or 0
            s3 = self.s3_record_count()
            if mysql >= target and s3 >= target:
                return True
            time.sleep(1)
        return False

    def s3_record_count(self):
        """Records in the scenario's objects. Names are deterministic and a
        rebuilt object has the same content, so each name is read once."""
        try:
            for key in self.s3_objects():
                if key not in self.s3_counted:
                    body = self.servers.s3.get_object(Bucket=self.servers.bucket, Key=key)["Body"].read()
                    self.s3_counted[key] = body.count(b"\n")
        except Exception:
            pass
        return sum(self.s3_counted.values())

    def seconds_until_growth(self, timeout=60):
        """Seconds from now until MySQL's row count and S3's object count each grow."""
        start = time.time()
        base_mysql, base_s3 = self.mysql_count(), self.s3_object_count()
        mysql_at = s3_at = None
        while time.time() - start < timeout and (mysql_at is None or s3_at is None):
            self.check_worker()
            m, s = self.mysql_count(), self.s3_object_count()
            if mysql_at is None and m is not None and (base_mysql is None or m > base_mysql):
                mysql_at = time.time() - start
            if s3_at is None and s is not None and (base_s3 is None or s > base_s3):
                s3_at = time.time() - start
            time.sleep(0.2)
        return mysql_at, s3_at


# ---------------------------------------------------------------- faults
def broker_down(seconds):
    def inject(s, proxy_mode):
        for broker in (1, 2, 3):
            s.servers.broker(f"down {broker}")
        wait_out(s, seconds)
        for broker in (1, 2, 3):
            s.servers.broker(f"up {broker}")
    return inject


def restart(name):
    def inject(s, proxy_mode):
        s.servers.restart(name)
    return inject


def s3_mode(mode, seconds):
    def inject(s, proxy_mode):
        proxy_mode(mode)
        wait_out(s, seconds)
        proxy_mode("pass")
    return inject


def wait_out(s, seconds):
    end = time.time() + seconds
    while time.time() < end:
        s.check_worker()
        time.sleep(0.5)


FAULTS = {
    "broker-down-10s": broker_down(10),
    "broker-down-60s": broker_down(60),
    "mariadb-restart": restart("mariadb"),
    "postgres-restart": restart("postgres"),
    "s3-503-10s": s3_mode("503", 10),
    "s3-silent-30s": s3_mode("silent", 30),
}


def run_outage(servers, args, name, proxy_url, proxy_mode):
    s = Scenario(servers, args, name, proxy_url)
    s.prepare(args.partitions)
    s.start_worker()
    s.start_writers(args.rate)
    # Flowing first: the fault must hit a running pipeline.
    mysql_at, s3_at = s.seconds_until_growth(timeout=60)
    log(f"{name}: flowing (MySQL after {mysql_at} s, S3 after {s3_at} s); injecting the fault")
    time.sleep(3)
    FAULTS[name](s, proxy_mode)
    recovered = s.seconds_until_growth(timeout=120)
    log(f"{name}: service back; MySQL grew after {recovered[0]} s, S3 after {recovered[1]} s")
    time.sleep(5)
    s.stop_writers()
    converged = s.wait_converged(args.timeout)
    exit_status = s.stop_worker()
    return finish(s, converged, exit_status, recovered)


def run_kills(servers, args, proxy_url):
    s = Scenario(servers, args, "kill9", proxy_url)
    s.prepare(args.kill_partitions, preload=args.kill_rows)
    s.start_worker()
    s.start_writers(args.rate)
    kills = 0
    while kills < args.kills:
        wait_out(s, random.uniform(4, 15))
        s.kill_worker()
        kills += 1
        s.start_worker()
        log(f"kill9: kill -9 number {kills}, restarted; MySQL holds {s.mysql_count()} rows")
    recovered = s.seconds_until_growth(timeout=120)
    s.stop_writers()
    converged = s.wait_converged(args.timeout)
    exit_status = s.stop_worker()
    return finish(s, converged, exit_status, recovered)


def finish(s, converged, exit_status, recovered):
    result = {"fault": s.name, "converged": converged, **s.verdict(),
              "worker_exits_during_run": s.worker_exits, "exit_on_sigterm": exit_status,
              "mysql_flowing_after_s": round(recovered[0], 1) if recovered[0] is not None else None,
              "s3_flowing_after_s": round(recovered[1], 1) if recovered[1] is not None else None}
    result["ok"] = (converged and result["mysql_missing"] == 0 and result["mysql_duplicates"] == 0
                    and result["s3_missing"] == 0 and result["s3_duplicates"] == 0
                    and not s.worker_exits and exit_status == 0)
    log(json.dumps(result))
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--proxy-url", required=True)
    p.add_argument("--proxy-mode-file", required=True)
    p.add_argument("--only", action="append", help="run only these faults (kill9 for the kill test)")
    p.add_argument("--rate", type=float, default=1000, help="rows/s the writers insert")
    p.add_argument("--partitions", type=int, default=8)
    p.add_argument("--kill-partitions", type=int, default=32,
                   help="the kill test's topic: 1,000,000 compressed records need more than 20 of ~5 MiB")
    p.add_argument("--flush-size", type=int, default=500)
    p.add_argument("--kills", type=int, default=25)
    p.add_argument("--kill-rows", type=int, default=1_000_000)
    p.add_argument("--timeout", type=int, default=900, help="seconds to wait for convergence")
    args = p.parse_args()
    servers = Servers(args.work)

    def proxy_mode(mode):
        with open(args.proxy_mode_file + ".tmp", "w") as f:
            f.write(mode)
        os.replace(args.proxy_mode_file + ".tmp", args.proxy_mode_file)

    wanted = args.only or [*FAULTS, "kill9"]
    results = []
    for name in wanted:
        log(f"---- {name}")
        results.append(run_kills(servers, args, args.proxy_url) if name == "kill9"
                       else run_outage(servers, args, name, args.proxy_url, proxy_mode))
    print()
    print("| fault | rows | MySQL missing / doubled | S3 missing / doubled | exits | MySQL flowing after | S3 flowing after | ok |")
    print("|---|---:|---:|---:|---|---:|---:|---|")
    for r in results:
        print(f"| {r['fault']} | {r['postgres']} | {r['mysql_missing']} / {r['mysql_duplicates']} | "
              f"{r['s3_missing']} / {r['s3_duplicates']} | {r['worker_exits_during_run'] or 'none'} | "
              f"{r['mysql_flowing_after_s']} s | {r['s3_flowing_after_s']} s | {'yes' if r['ok'] else 'NO'} |")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
