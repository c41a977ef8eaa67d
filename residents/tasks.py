from celery import shared_task
from django.db import OperationalError

from residents import imports
from residents.models import ImportJob, ImportState


@shared_task(autoretry_for=(OperationalError,), max_retries=3, default_retry_delay=10)
def import_check_task(job_id: int) -> None:
    job = ImportJob.objects.get(pk=job_id)
    if job.state == ImportState.CHECKING:
        imports.import_check(job=job)


@shared_task(autoretry_for=(OperationalError,), max_retries=3, default_retry_delay=10)
def import_write_task(job_id: int) -> None:
    # import_write is a no-op unless the job is checked and clean, so a rerun is harmless.
    imports.import_write(job=ImportJob.objects.get(pk=job_id))
