"""Import pages: upload, the row-by-row report, then write all or nothing."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from govgrid.lib import crypto
from residents import imports, selectors, tasks
from residents.forms import ImportForm
from residents.models import ImportJob, ImportState


def _require(user) -> None:
    # Imports write whole ledgers: the desks and admins, who may also read them in full.
    if not selectors.can_reveal(user):
        raise PermissionDenied


def _row_count(upload) -> int:
    """A cheap upper bound of the rows (lines or the sheet's dimension) to pick sync/async."""
    name = upload.name.lower()
    upload.seek(0)
    if name.endswith(".csv"):
        count = sum(1 for _ in upload)
    else:
        from openpyxl import load_workbook

        book = load_workbook(upload, read_only=True)
        count = book.active.max_row or 0
        book.close()
    upload.seek(0)
    return count


@login_required
def import_new(request):
    _require(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        rows = _row_count(upload)
        job = ImportJob(
            kind=form.cleaned_data["kind"],
            actor=request.user,
            file_name=upload.name[:200],
            total_rows=max(rows - 1, 0),
        )
        # The ledger holds plain identity numbers: it is kept encrypted, and only until the
        # import is written or refused (residents.imports.import_discard_file).
        job.file.save(
            f"{uuid.uuid4().hex}.bin", ContentFile(crypto.encrypt_bytes(upload.read())), save=True
        )
        if rows > imports.SYNC_ROWS:
            transaction.on_commit(lambda: tasks.import_check_task.delay(job.pk))
        else:
            imports.import_check(job=job)
        return redirect("residents:import_detail", pk=job.pk)
    return render(request, "residents/import_form.html", {"form": form})


@login_required
def import_detail(request, pk: int):
    _require(request.user)
    job = get_object_or_404(ImportJob, pk=pk, actor=request.user)
    if request.method == "POST":
        if job.state != ImportState.CHECKED or job.problems:
            messages.error(request, _("Only a checked file without problems can be written."))
        elif job.total_rows > imports.SYNC_ROWS:
            ImportJob.objects.filter(pk=job.pk).update(done_rows=0)
            transaction.on_commit(lambda: tasks.import_write_task.delay(job.pk))
        else:
            job = imports.import_write(job=job)
            if job.state == ImportState.DONE:
                messages.success(request, _("%(n)s rows written.") % {"n": job.written})
        return redirect("residents:import_detail", pk=job.pk)
    return render(request, "residents/import_detail.html", {"job": job})


@login_required
def import_status(request, pk: int):
    _require(request.user)
    job = get_object_or_404(ImportJob, pk=pk, actor=request.user)
    return JsonResponse(
        {
            "state": job.state,
            "percent": job.percent,
            "done": job.done_rows,
            "total": job.total_rows,
            "problems": len(job.problems),
        }
    )
