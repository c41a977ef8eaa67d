#!/usr/bin/env bash
# Start web, Celery worker and Celery beat in the background (logs in .run/), then print
# the address and the demo logins. Running it again restarts them.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .run
PORT=${PORT:-8000}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-govgrid.settings.local}

stop() {
  local f=.run/$1.pid
  if [ -f "$f" ]; then
    kill "$(cat "$f")" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$(cat "$f")" 2>/dev/null || break; sleep 0.25; done
    rm -f "$f"
  fi
}
for p in web worker beat; do stop $p; done

.venv/bin/python manage.py collectstatic --noinput -v 0
nohup .venv/bin/gunicorn govgrid.wsgi:application --bind "0.0.0.0:$PORT" --workers 3 \
  --env DJANGO_SETTINGS_MODULE="$DJANGO_SETTINGS_MODULE" --access-logfile .run/web-access.log \
  > .run/web.log 2>&1 &
echo $! > .run/web.pid
nohup .venv/bin/celery -A govgrid worker --loglevel INFO --concurrency 2 > .run/worker.log 2>&1 &
echo $! > .run/worker.pid
nohup .venv/bin/celery -A govgrid beat --loglevel INFO --schedule .run/celerybeat-schedule \
  > .run/beat.log 2>&1 &
echo $! > .run/beat.pid

for _ in $(seq 1 40); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "web did not start; see .run/web.log"; tail -20 .run/web.log; exit 1; }

cat <<MSG

  govgrid is running at  http://127.0.0.1:$PORT/
  (web, Celery worker and Celery beat; logs in .run/, stop with 'make stop')

  Demo logins, all with the password  Govgrid#2026
    admin       administrator
    leader      leader (whole city, read-only views)
    district    district centre (江汉区综治中心)
    street      street centre
    station     community station
    gridleader  grid leader
    gridworker  grid worker (open on a phone)
    handler     unit handler

MSG
