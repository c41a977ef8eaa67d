#!/usr/bin/env bash
# Prepare this machine for govgrid: system packages, services, virtualenv, database.
# Safe to run again: every step checks before it acts. Used by `make run` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }

PG_HOST=${PGHOST:-127.0.0.1}
PG_PORT=${PGPORT:-5432}
PG_USER=${PGUSER:-postgres}
DB_NAME=${GOVGRID_DB_NAME:-govgrid}
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
}

# --- System packages -----------------------------------------------------------------
missing=()
command -v gdalinfo >/dev/null 2>&1 || missing+=(gdal-bin libgdal-dev)
ldconfig -p 2>/dev/null | grep libgeos_c >/dev/null || missing+=(libgeos-dev)
ldconfig -p 2>/dev/null | grep libproj >/dev/null || missing+=(libproj-dev)
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v psql >/dev/null 2>&1 || missing+=(postgresql postgresql-client)
PG_MAJOR=""
if command -v pg_lsclusters >/dev/null 2>&1; then
  PG_MAJOR=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1{print $1}')
fi
if [ -z "$PG_MAJOR" ] && [ -d /usr/lib/postgresql ]; then
  PG_MAJOR=$(ls /usr/lib/postgresql | sort -n | tail -1)
fi
if [ -n "$PG_MAJOR" ] && [ ! -f "/usr/share/postgresql/$PG_MAJOR/extension/postgis.control" ]; then
  missing+=("postgresql-$PG_MAJOR-postgis-3")
fi
if [ "${GOVGRID_BROWSER:-1}" = "1" ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || missing+=(fonts-noto-cjk)
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing system packages: ${missing[*]}"
  if command -v apt-get >/dev/null 2>&1 && as_root true; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if [ -z "$PG_MAJOR" ] && [ -d /usr/lib/postgresql ]; then
      PG_MAJOR=$(ls /usr/lib/postgresql | sort -n | tail -1)
      if [ ! -f "/usr/share/postgresql/$PG_MAJOR/extension/postgis.control" ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$PG_MAJOR-postgis-3" >/dev/null
      fi
    fi
  else
    die "Please install these packages (Debian names): ${missing[*]}"
  fi
fi

# --- Services --------------------------------------------------------------------------
if ! pg_isready -h "$PG_HOST" -p "$PG_PORT" -q 2>/dev/null; then
  say "Starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -n "$PG_MAJOR" ]; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -h "$PG_HOST" -p "$PG_PORT" -q && break; sleep 1; done
  pg_isready -h "$PG_HOST" -p "$PG_PORT" -q || die "PostgreSQL is not answering on $PG_HOST:$PG_PORT"
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "Starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/govgrid-redis.log
  for _ in $(seq 1 20); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.5; done
  redis-cli ping >/dev/null 2>&1 || die "Redis is not answering on 127.0.0.1:6379"
fi

# --- Python environment -----------------------------------------------------------------
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  say "Installing govgrid into .venv"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  log=$(mktemp)
  if ! { .venv/bin/pip install -q --upgrade pip && .venv/bin/pip install -q -e ".[dev]"; } >"$log" 2>&1; then
    cat "$log"; die "pip install failed"
  fi
  rm -f "$log"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# --- Database ------------------------------------------------------------------------------
if ! psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
  say "Creating database $DB_NAME"
  psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "CREATE DATABASE \"$DB_NAME\""
fi
psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$DB_NAME" -qc "CREATE EXTENSION IF NOT EXISTS postgis" 2>&1 \
  | grep -v "already exists" || true
# Tests create their own database from template1: give it PostGIS too, so the test
# runner does not need to.
psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d template1 -qc "CREATE EXTENSION IF NOT EXISTS postgis" 2>&1 \
  | grep -v "already exists" || true

# --- Front-end libraries (npm, pinned by package-lock.json) -------------------------------
scripts/vendor.sh

say "Compiling translations"
.venv/bin/python manage.py compilemessages --ignore=.venv -v 0
