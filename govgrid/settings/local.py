"""Development: `make run` uses these."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["*"])
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
