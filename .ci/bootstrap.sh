#!/usr/bin/env bash
# What `make` needs on a fresh machine, shared by the Makefile and .ci/run.
#   .ci/bootstrap.sh uv ARGS...   run uv, installing it with pip first if it is missing
#   .ci/bootstrap.sh services     PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379, started if down
#   .ci/bootstrap.sh chromium     /usr/bin/chromium for the browser tests
#   .ci/bootstrap.sh tools        chromium, and a compose CLI that validates docker-compose.yml
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
apt_updated=""

apt_install() {
  if [ -z "$apt_updated" ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  $SUDO apt-get install -y -qq "$@" >/dev/null
}

run_uv() {
  if command -v uv >/dev/null 2>&1; then
    exec uv "$@"
  fi
  if ! python3 -m uv --version >/dev/null 2>&1; then
    echo "bootstrap: installing uv with pip" >&2
    python3 -m pip install --quiet uv \
      || python3 -m pip install --quiet --user --break-system-packages uv
  fi
  exec python3 -m uv "$@"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for_port() {
  for _ in $(seq 1 50); do
    if port_open "$1"; then return 0; fi
    sleep 0.2
  done
  echo "bootstrap: nothing answers on 127.0.0.1:$1" >&2
  return 1
}

ensure_postgres() {
  if port_open 5432; then return 0; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "bootstrap: installing PostgreSQL" >&2
    apt_install postgresql
    # A fresh cluster asks for passwords over TCP; the tests connect as postgres without one.
    $SUDO sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' \
      "/etc/postgresql/$(ls /etc/postgresql | sort -V | tail -1)/main/pg_hba.conf"
  fi
  local version
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  if port_open 5432; then
    # The package's own install script started it before pg_hba.conf was changed.
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    return 0
  fi
  echo "bootstrap: starting PostgreSQL" >&2
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for_port 5432
}

ensure_redis() {
  if port_open 6379; then return 0; fi
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "bootstrap: installing Redis" >&2
    apt_install redis-server
    if port_open 6379; then return 0; fi
  fi
  echo "bootstrap: starting Redis" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  wait_for_port 6379
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return 0; fi
  echo "bootstrap: installing Chromium" >&2
  apt_install chromium
}

# `docker compose config` is how we check docker-compose.yml; Debian's docker-compose gives the same check
# without a Docker engine.
ensure_compose() {
  if docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; then return 0; fi
  echo "bootstrap: installing docker-compose (to validate docker-compose.yml)" >&2
  apt_install docker-compose
}

case "${1:-}" in
  uv) shift; run_uv "$@" ;;
  services) ensure_postgres; ensure_redis ;;
  chromium) ensure_chromium ;;
  tools) ensure_chromium; ensure_compose ;;
  *) echo "usage: $0 uv ARGS... | services | chromium | tools" >&2; exit 2 ;;
esac
