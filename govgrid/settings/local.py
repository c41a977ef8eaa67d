"""Development: `make run` uses these."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["*"])
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Development-only keys for personal data; production.py requires real ones.
GOVGRID_PII_KEYS = env.list(
    "GOVGRID_PII_KEYS", default=["CYI0vcVd6ZOhHLAjy2_oG68LWyHnwy6l3KPnZ5haJZA="]
)
GOVGRID_PII_INDEX_KEY = env("GOVGRID_PII_INDEX_KEY", default="dev-only-pii-index-key")
