"""Tests: real PostGIS and Redis, only made faster."""

from .base import *  # noqa: F403
from .base import CACHES, env

DEBUG = False
SECRET_KEY = "test-only-key-not-for-production-use-0123456789abcdef"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["*"]
# A separate Redis database and prefix so tests never touch a running demo's cache.
CACHES["default"]["LOCATION"] = env("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
CACHES["default"]["KEY_PREFIX"] = "govgrid-test"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default="/tmp/govgrid-test-media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The test server serves static files itself (staticfiles' handler); WhiteNoise would only
# warn that collectstatic has not run.
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405
GOVGRID_PII_KEYS = ["CYI0vcVd6ZOhHLAjy2_oG68LWyHnwy6l3KPnZ5haJZA="]
GOVGRID_PII_INDEX_KEY = "test-only-pii-index-key"
