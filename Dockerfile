# syntax=docker/dockerfile:1
#
# govgrid production image: Django (GeoDjango on PostGIS) served by gunicorn on port 8000.
# The same image runs the Celery worker and beat (see docker-compose.yml).
#
#   docker build -t govgrid .
#
# Docker does not run on the project's development machines: this file has not been built
# there. See docs/deployment.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- source: the build context, minus what must never reach the image -------------------
# Without a .dockerignore the whole context arrives here, a developer's .env and the
# .envs/.production/ files with real secrets included. This throwaway stage deletes them
# (and other local clutter); the final stage copies only what is left, so none of it ends
# up in a layer of the image that is shipped. `mkdir -p locale` keeps compilemessages
# working should locale/ ever be missing from the context (git keeps no empty directory).
FROM ${PYTHON_IMAGE} AS source
WORKDIR /src
COPY . .
RUN rm -rf .git .venv .env .env.* .envs .run var node_modules static/vendor test-artifacts \
        .pytest_cache .ruff_cache build dist ./*.egg-info tests bench .ci docs \
 && find . -name __pycache__ -type d -prune -exec rm -rf {} + \
 && find . -name '*.mo' -delete \
 && mkdir -p locale

# --- front-end libraries: npm, pinned by package-lock.json (no CDN at run time) ---------
FROM node:20-bookworm-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
COPY scripts/vendor.sh scripts/
RUN scripts/vendor.sh

# --- the image ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}

LABEL org.opencontainers.image.title="govgrid" \
      org.opencontainers.image.description="Grid-governance platform (网格化服务管理平台)" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"

# PYTHONPATH: the project runs from /app, not from site-packages. BASE_DIR is derived from
# the location of govgrid/settings, and templates/, static/ and locale/ sit beside
# manage.py; putting /app first makes gunicorn, celery and manage.py all import the same
# copy, whatever their working directory.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=govgrid.settings.production \
    WEB_CONCURRENCY=3

# GeoDjango loads GDAL, GEOS and PROJ through ctypes (the packages Django's GeoDjango
# install guide names; binutils lets ctypes.util.find_library locate them). gettext
# provides msgfmt for compilemessages. tzdata: every deadline is in Asia/Shanghai.
# No compiler: every Python dependency ships a binary wheel for CPython 3.11 on x86_64
# (psycopg[binary], shapely, ...). Add build-essential here if one ever stops doing so.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        binutils gdal-bin libgdal-dev libgeos-dev libproj-dev gettext tzdata \
 && rm -rf /var/lib/apt/lists/*

# A fixed uid/gid, so a media volume or a bind mount can be given to it on the host.
RUN groupadd --system --gid 10001 govgrid \
 && useradd --system --uid 10001 --gid govgrid --create-home --home-dir /home/govgrid \
        --shell /usr/sbin/nologin govgrid

WORKDIR /app

# Dependencies first, read from pyproject.toml alone: this layer is rebuilt when the
# dependency list changes, not on every code change.
COPY pyproject.toml ./
RUN python -c "import tomllib; \
print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY --from=source /src/ ./
COPY --from=assets /assets/static/vendor/ ./static/vendor/
RUN pip install --no-deps . \
 && pip check \
 && rm -rf build ./*.egg-info \
 && chmod 0755 scripts/docker-entrypoint.sh

# Translations and static files are built into the image. The production settings insist
# on DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS, so this step gets dummy values. They are
# build args, visible in `docker history`: never pass a real key with --build-arg; the
# real one comes from the environment at run time (.envs/.production/.django).
# STATIC_ROOT stays at its default, /app/var/static: collectstatic writes the whitenoise
# manifest there, and the running container must look in the same place.
ARG DJANGO_SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-0123456789
ARG DJANGO_ALLOWED_HOSTS=build.invalid
RUN python manage.py compilemessages \
 && python manage.py collectstatic --noinput \
 && python -m compileall -q /app \
 && mkdir -p var/media \
 && chown govgrid:govgrid var/media

USER govgrid
EXPOSE 8000

# The entrypoint waits for the database and migrates when RUN_MIGRATIONS=1, then runs the
# command. gunicorn takes its worker count from WEB_CONCURRENCY (default 3 above).
ENTRYPOINT ["/app/scripts/docker-entrypoint.sh"]
CMD ["gunicorn", "govgrid.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
