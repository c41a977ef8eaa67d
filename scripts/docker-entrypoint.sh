#!/bin/sh
# Entrypoint of the govgrid image (see Dockerfile and docs/deployment.md).
#
#   1. builds DATABASE_URL from the POSTGRES_* variables when DATABASE_URL is not set;
#   2. checks the settings load, then waits for the database (DB_WAIT_SECONDS, default
#      60; 0 skips the wait);
#   3. runs `manage.py migrate` when RUN_MIGRATIONS=1 (the web service only);
#   4. hands over to the command: gunicorn by default, or celery / manage.py / a shell.
set -eu

APP_DIR=$(cd "$(dirname "$0")/.." && pwd)

# cookiecutter-django style: .envs/.production/.postgres holds the credentials once, for
# both the postgis container and this one. Each part is percent-encoded, so a password
# with '@', ':' or '/' stays a valid URL (django-environ decodes it again).
if [ -z "${DATABASE_URL:-}" ] && [ -n "${POSTGRES_USER:-}" ]; then
  DATABASE_URL=$(python -c '
import os
from urllib.parse import quote
e = os.environ
print("postgis://%s:%s@%s:%s/%s" % (
    quote(e["POSTGRES_USER"], safe=""),
    quote(e.get("POSTGRES_PASSWORD", ""), safe=""),
    e.get("POSTGRES_HOST", "postgis"),
    e.get("POSTGRES_PORT", "5432"),
    quote(e.get("POSTGRES_DB") or e["POSTGRES_USER"], safe=""),
))')
  export DATABASE_URL
fi

# Settings are checked first: an empty DJANGO_SECRET_KEY would otherwise only show up as
# a 500 on the first request. Then the database: compose's depends_on already waits for a
# healthy postgis, but a database on another host, or one restarting underneath us, gives
# no such promise. Only "cannot connect" is retried; any other error fails at once.
python - <<'PY'
import os
import sys
import time

import django

django.setup()
from django.conf import settings
from django.db import connection
from django.db.utils import OperationalError

settings.SECRET_KEY  # raises ImproperlyConfigured when it is empty

wait = int(os.environ.get("DB_WAIT_SECONDS", "60"))
deadline = time.monotonic() + wait
while wait > 0:
    try:
        connection.ensure_connection()
        break
    except OperationalError as exc:
        if time.monotonic() >= deadline:
            sys.exit(f"docker-entrypoint: database not reachable: {exc}")
        print("docker-entrypoint: waiting for the database ...", file=sys.stderr)
        time.sleep(2)
connection.close()
PY

# Only one container may migrate: compose sets RUN_MIGRATIONS=1 on web and 0 on worker
# and beat. With several web replicas, migrate once by hand instead (docs/deployment.md).
if [ "${RUN_MIGRATIONS:-0}" = "1" ]; then
  python "$APP_DIR/manage.py" migrate --noinput
fi

exec "$@"
