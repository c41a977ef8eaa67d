"""Settings shared by every environment.

Everything that differs between deployments is read from the environment through the one
`env` reader below; `local.py`, `production.py` and `test.py` only change defaults.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A .env file beside manage.py is read when present (development convenience only).
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Every deadline and every "month" is in Asia/Shanghai; the database stores UTC.
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "govgrid_language"

# DATABASES
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/contrib/gis/install/postgis/
# PostGIS everywhere, tests included: there is no SQLite path.
DATABASES = {"default": env.db("DATABASE_URL", default="postgis://postgres@127.0.0.1:5432/govgrid")}
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"
# Persistent connections keep the request path short (one transaction, no reconnect).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# APPS
# ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "axes",
    "govgrid.accounts",
    "govgrid.audit",
    "govgrid.notifications",
    "grids",
    "incidents",
    "residents",
    "dispatch",
]

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "govgrid.lib.middleware.ContentSecurityPolicyMiddleware",
    # AxesMiddleware must come last: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "govgrid.urls"
WSGI_APPLICATION = "govgrid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "govgrid.context_processors.navigation",
            ],
        },
    }
]

# AUTHENTICATION AND SECURITY BASELINE (等保 2.0 level 3 application controls)
# ------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # https://django-axes.readthedocs.io/en/latest/2_installation.html
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "govgrid.accounts.backends.RolePermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "govgrid.accounts.validators.CharacterClassValidator"},
]
# Lock an account after repeated failures, whatever address they come from.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

SILENCED_SYSTEM_CHECKS = [
    # Lockout is by account, not by address: a government intranet puts a whole office
    # behind one NAT address, and locking that address would lock out the office.
    "axes.W006",
    # Debian 12 ships GDAL 3.6. Uploaded geometry is parsed by shapely/GEOS and never by
    # GDAL from user-supplied spatial references, so the risk this check names does not
    # arise; the Dockerfile's image carries the same GDAL.
    "gis.W001",
]

# Idle timeout: the session lives SESSION_IDLE_SECONDS after the last request.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Sessions live in Redis: saving on every request (the idle timeout) costs no database write.
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# CACHE AND CELERY (Redis)
# ------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="govgrid"),
    }
}
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 10 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 9 * 60
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# STATIC AND MEDIA
# ------------------------------------------------------------------------------
# Every asset is served by the platform itself: government intranets have no CDN.
STATIC_URL = "/static/"
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# REST FRAMEWORK
# ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "govgrid.lib.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "govgrid API",
    "DESCRIPTION": "Grid-governance platform API (网格化服务管理平台)",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# MAPS
# ------------------------------------------------------------------------------
# Stored coordinates are WGS-84. The base layer is chosen by MAP_TILE_PROVIDER:
# "tianditu" (needs TIANDITU_KEY), "amap" (GCJ-02, shifted at display time) or "none".
MAP_TILE_PROVIDER = env("MAP_TILE_PROVIDER", default="tianditu")
TIANDITU_KEY = env("TIANDITU_KEY", default="")
# Hosts the browser may load tile images from (Content-Security-Policy img-src).
MAP_TILE_HOSTS = env.list(
    "MAP_TILE_HOSTS",
    default=["https://*.tianditu.gov.cn", "https://*.is.autonavi.com"],
)
MAP_DEFAULT_CENTER = (30.5928, 114.3055)  # Wuhan
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": MAP_DEFAULT_CENTER,
    "DEFAULT_ZOOM": 12,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 18,
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
    # Tiles are added by static/js/basemap.js from the provider setting above.
    "TILES": [],
}

# LOGGING
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# GOVGRID
# ------------------------------------------------------------------------------
# Area (m²) two grids of one community may overlap, or a grid may stick out of its
# community, before the boundary importer refuses the file: digitising noise, not a mistake.
BOUNDARY_TOLERANCE_M2 = env.float("BOUNDARY_TOLERANCE_M2", default=5.0)
# Largest photo accepted from a phone or a desk (bytes).
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
# 吹哨报到: a summoned district department must sign within this many hours.
WHISTLE_SIGNIN_HOURS = env.int("WHISTLE_SIGNIN_HOURS", default=2)

# NOTIFICATIONS (SMS)
# ------------------------------------------------------------------------------
# The SMS gateway (a dotted path): govgrid.notifications.sms.FileBackend appends JSON lines
# to SMS_FILE_PATH (development, tests), .ConsoleBackend only logs, .HttpBackend POSTs
# {"phone", "text"} to SMS_HTTP_URL with SMS_HTTP_TOKEN as bearer token (production).
SMS_BACKEND = env("SMS_BACKEND", default="govgrid.notifications.sms.FileBackend")
SMS_FILE_PATH = env("SMS_FILE_PATH", default=str(BASE_DIR / "var" / "sms.log"))
SMS_HTTP_URL = env("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env("SMS_HTTP_TOKEN", default="")
# Seconds to wait for the gateway before the attempt counts as failed (retried with back-off).
SMS_HTTP_TIMEOUT = env.float("SMS_HTTP_TIMEOUT", default=10.0)
# Messages a second each worker process sends at most (the gateway's limit); 0: no limit.
SMS_RATE_PER_SECOND = env.float("SMS_RATE_PER_SECOND", default=10.0)

# PERIODIC TASKS (Celery beat)
# ------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html
CELERY_BEAT_SCHEDULE = {
    # Every minute (https://crontab.guru/#*_*_*_*_*): deliver what is pending in the outbox,
    # including what a broker or worker outage left behind.
    "outbox-deliver": {
        "task": "govgrid.notifications.tasks.outbox_deliver",
        "schedule": 60.0,
    },
}
# Every minute (https://crontab.guru/#*_*_*_*_*): record warning colours and supervision
# cards that have come due (dispatch.warnings). A run left queued while the workers were down
# expires, since the next one catches up on everything anyway.
CELERY_BEAT_SCHEDULE["warnings-scan"] = {
    "task": "dispatch.tasks.warnings_scan_task",
    "schedule": 60.0,
    "options": {"expires": 55},
}
# Hourly (https://crontab.guru/#0_*_*_*_*): SMS rating links (回访) to the reporters of cases
# closed 24 to 48 hours ago; each case is asked once, so a missed or doubled run is harmless.
CELERY_BEAT_SCHEDULE["rating-requests"] = {
    "task": "dispatch.tasks.rating_requests_send",
    "schedule": 3600.0,
    "options": {"expires": 3500},
}
# 02:00 on the 1st (https://crontab.guru/#0_2_1_*_*), Asia/Shanghai (CELERY_TIMEZONE): last
# month's assessment draft (dispatch.assessment); a month that has a run already is left alone.
CELERY_BEAT_SCHEDULE["assessment-month-close"] = {
    "task": "dispatch.assessment.tasks.assessment_month_close_task",
    "schedule": crontab(minute=0, hour=2, day_of_month=1),
}
# Daily patrol target of a grid worker in the assessment (日常巡查 ≥ 2 h/day, docs/assessment.md).
ASSESSMENT_PATROL_DAILY_HOURS = env.float("ASSESSMENT_PATROL_DAILY_HOURS", default=2.0)
# Scheme and host of the public pages linked from SMS (the rating link), without a slash.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

# PERSONAL INFORMATION (PIPL) — docs/residents.md
# ------------------------------------------------------------------------------
# Fernet keys (url-safe base64 of 32 bytes) for identity numbers, phones and sensitive
# fields, comma-separated: the first encrypts, every key decrypts, so a new key goes in
# front and `manage.py pii_rotate` re-encrypts every row before the old one is dropped.
# Empty here: local.py and test.py give development keys, production.py requires them.
GOVGRID_PII_KEYS = env.list("GOVGRID_PII_KEYS", default=[])
# HMAC key of the blind index that finds a person by exact identity number or phone.
GOVGRID_PII_INDEX_KEY = env("GOVGRID_PII_INDEX_KEY", default="")
