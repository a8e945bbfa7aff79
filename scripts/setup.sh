#!/usr/bin/env bash
# Install what the build, the tests and the demo need (Debian 12, as root).
# Idempotent: on a machine that already has everything it changes nothing.
set -euo pipefail

# System packages: C libraries our system-library targets link against, the
# servers started by scripts/services.sh, kcat for poking at Kafka, and curl
# (the tests drive `tributary connect`'s REST API with it, as an operator does).
packages=(
  postgresql libpq-dev
  mariadb-server default-libmysqlclient-dev
  libcurl4-openssl-dev libssl-dev zlib1g-dev
  librdkafka-dev kcat
  curl pkg-config
  chromium # headless, for the web console's tests and screenshots
)

missing=()
for p in "${packages[@]}"; do
  # dpkg-query is fast and offline; "install ok installed" means fully set up.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  # Only the missing ones: naming an installed package would upgrade it.
  # Debian's postinst scripts try to start the system-wide servers; we never
  # use those (services.sh runs private ones), so tell invoke-rc.d not to.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

# The S3 stand-in (scripts/s3server.py) is moto's server, from PyPI.
if ! python3 -c 'import moto.server, boto3' 2>/dev/null; then
  echo "setup: installing moto[server]"
  python3 -m pip install 'moto[server]'
fi

# The tests parse /metrics with Prometheus's own Python client (an
# independent parser) and drive headless Chromium over its DevTools
# protocol with websocket-client (Tests/EndToEndTests/Support/browser.py).
if ! python3 -c 'import prometheus_client, websocket' 2>/dev/null; then
  echo "setup: installing prometheus_client and websocket-client"
  python3 -m pip install prometheus_client websocket-client
fi

# Avro and JSON Schema interop is tested against Confluent's own Python
# client (its AvroSerializer, AvroDeserializer, JSONSerializer and registry
# client) and fastavro.
if ! python3 -c 'import confluent_kafka.schema_registry.avro, confluent_kafka.schema_registry.json_schema, fastavro' 2>/dev/null; then
  echo "setup: installing confluent-kafka[avro,json,schemaregistry] and fastavro"
  python3 -m pip install 'confluent-kafka[avro,json,schemaregistry]==2.16.1' fastavro
fi

# postgres' binaries are not on PATH; services.sh looks for them here.
pg_bin=/usr/lib/postgresql/15/bin
for tool in "$pg_bin/initdb" "$pg_bin/pg_ctl" /usr/sbin/mariadbd /usr/bin/mariadb-install-db; do
  [[ -x $tool ]] || { echo "setup: $tool is missing after install" >&2; exit 1; }
done
echo "setup: ok"
