# Shared by scripts/start and scripts/test: a virtualenv with the project installed, and a
# reachable PostgreSQL and Redis — the configured ones, else local ones, started (or installed
# from Debian's packages) when they are not running.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 60); do port_open "$1" "$2" && return 0; sleep 0.5; done
  echo "error: nothing answers on $1:$2" >&2
  return 1
}

apt_install() {
  if ! command -v apt-get >/dev/null; then
    echo "error: $* is not installed and there is no apt-get to install it" >&2
    return 1
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing $* from Debian's packages"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

ensure_venv() {
  local python=${PYTHON:-python3}
  [ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$python" -m venv "$VENV"; }
  local stamp="$VENV/.roster-installed"
  local want
  want=$(cat "$ROOT/pyproject.toml" "$ROOT/requirements-dev.txt" | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing Roster and exactly the versions of requirements-dev.txt into $VENV"
    # Every package, pip and setuptools included, comes pinned and checked against its hashes;
    # then Roster itself, built with that setuptools and asking for nothing more.
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes \
      -r "$ROOT/requirements-dev.txt"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
      --no-build-isolation -e "$ROOT"
    echo "$want" >"$stamp"
  fi
}

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then return 0; fi
  if port_open 127.0.0.1 5432; then return 0; fi
  if command -v pg_lsclusters >/dev/null && [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
    say "starting the local PostgreSQL cluster"
    local version
    version=$(pg_lsclusters -h | awk 'NR==1 {print $1}')
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    if port_open 127.0.0.1 5432 || wait_port 127.0.0.1 5432; then return 0; fi
  fi
  # A cluster of our own, with trust authentication for local connections only.
  command -v pg_createcluster >/dev/null || apt_install postgresql
  local version
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  if ! pg_lsclusters -h | awk '{print $2}' | grep -qx roster; then
    say "creating a PostgreSQL cluster for Roster on port 5433"
    pg_createcluster "$version" roster -p 5433 -- -A trust >/dev/null
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" roster start || true
  wait_port 127.0.0.1 5433
  export DATABASE_URL="postgresql://postgres@localhost:5433/roster"
}

ensure_redis() {
  if [ -n "${REDIS_URL:-}" ]; then return 0; fi
  if port_open 127.0.0.1 6379; then return 0; fi
  command -v redis-server >/dev/null || apt_install redis-server
  say "starting Redis on 127.0.0.1:6379 (nothing kept on disk)"
  mkdir -p "$ROOT/.roster/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "$ROOT/.roster/redis" --logfile "$ROOT/.roster/redis/redis.log"
  wait_port 127.0.0.1 6379
}

# Headless Chromium, for the tests that look at pages as a person would: Playwright
# (tests/console) launches this one by its path and never downloads a browser of its own.
ensure_chromium() {
  command -v chromium >/dev/null || apt_install chromium
}
