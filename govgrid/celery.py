"""The Celery app: settings come from Django's CELERY_* settings; tasks from each app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govgrid.settings.local")

app = Celery("govgrid")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
