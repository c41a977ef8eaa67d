"""Assessment pages: months, rankings (红榜/黑榜), subject cards, drill-down, adjust, publish,
export and print. Leaders read published months; admins also compute, adjust and publish."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govgrid.audit.models import AuditAction
from govgrid.audit.services import audit_record
from govgrid.lib.errors import DomainError

from . import exports, selectors, services
from .forms import AdjustForm, ComputeForm
from .indicators import describe
from .models import RunStatus

PAGE_SIZE = 50


def _viewer(request) -> None:
    if not selectors.can_view(request.user):
        raise PermissionDenied


def _manager(request) -> None:
    if not selectors.can_manage(request.user):
        raise PermissionDenied


@login_required
def assessment_home(request):
    """The months: status, versions, and (admins) the form to compute one."""
    _viewer(request)
    runs = list(selectors.run_list_for_user(user=request.user)[:60])
    return render(
        request,
        "dispatch/assessment/home.html",
        {
            "runs": runs,
            "can_manage": selectors.can_manage(request.user),
            "form": ComputeForm(),
            "computing": [r for r in runs if r.status == RunStatus.COMPUTING],
        },
    )


@login_required
@require_POST
def assessment_compute(request):
    _manager(request)
    form = ComputeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pick a month."))
        return redirect("dispatch:assessment_home")
    try:
        run = services.assessment_month_request(
            month=form.cleaned_data["month"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("dispatch:assessment_home")
    messages.success(
        request,
        _("%(month)s version %(version)s is being computed.")
        % {"month": f"{run.month:%Y-%m}", "version": run.version},
    )
    return redirect("dispatch:assessment_run", pk=run.pk)


@login_required
def run_progress(request, pk: int):
    """Polled by static/js/assessment.js while a month is being computed."""
    _viewer(request)
    run = selectors.run_get_for_user(user=request.user, pk=pk)
    return JsonResponse(
        {
            "status": run.status,
            "progress": run.progress,
            "step": run.progress_note,
            "error": run.error if run.status == RunStatus.FAILED else "",
        }
    )


@login_required
def run_detail(request, pk: int):
    _viewer(request)
    run = selectors.run_get_for_user(user=request.user, pk=pk)
    boards = selectors.run_boards(run=run) if run.status != RunStatus.COMPUTING else []
    return render(
        request,
        "dispatch/assessment/run.html",
        {
            "run": run,
            "boards": boards,
            "can_manage": selectors.can_manage(request.user),
            "correction_form": ComputeForm(initial={"month": run.month.isoformat()}),
        },
    )


@login_required
@require_POST
def run_publish(request, pk: int):
    _manager(request)
    run = selectors.run_get_for_user(user=request.user, pk=pk)
    try:
        services.assessment_run_publish(run_id=run.pk, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(month)s version %(version)s is published.")
            % {"month": f"{run.month:%Y-%m}", "version": run.version},
        )
    return redirect("dispatch:assessment_run", pk=run.pk)


@login_required
def group_detail(request, pk: int, scheme_id: int, group_id: int):
    """The whole ranking of one group, paginated and searchable."""
    _viewer(request)
    run = selectors.run_get_for_user(user=request.user, pk=pk)
    scheme = selectors.scheme_of(run, scheme_id)
    group = next((g for g in scheme.get("groups", []) if g["id"] == group_id), None)
    if group is None:
        raise Http404
    query = request.GET.get("q", "").strip()[:50]
    rows = selectors.group_ranking(run=run, scheme_id=scheme_id, group_id=group_id, query=query)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dispatch/assessment/group.html",
        {"run": run, "scheme": scheme, "group": group, "page": page, "query": query},
    )


@login_required
def result_detail(request, pk: int, result_id: int):
    """A subject's card: figures with definitions, score items, adjustments, rank, trend."""
    _viewer(request)
    run = selectors.run_get_for_user(user=request.user, pk=pk)
    result = selectors.result_get(run=run, pk=result_id)
    return render(
        request,
        "dispatch/assessment/result.html",
        {
            "run": run,
            "result": result,
            "scheme": selectors.scheme_of(run, result.scheme_id),
            "figures": selectors.figures_of(result),
            "adjustments": selectors.result_adjustments(run=run, result=result),
            "trend": selectors.result_trend(run=run, result=result),
            "can_adjust": selectors.can_manage(request.user) and run.status == RunStatus.DRAFT,
            "form": AdjustForm(),
        },
    )


@login_required
@require_POST
def result_adjust(request, pk: int, result_id: int):
    _manager(request)
    run = selectors.run_get_for_user(user=request.user, pk=pk)
    result = selectors.result_get(run=run, pk=result_id)
    form = AdjustForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the points and the reason."))
        return redirect("dispatch:assessment_result", pk=run.pk, result_id=result.pk)
    try:
        services.assessment_adjust(
            result_id=result.pk,
            points=form.cleaned_data["points"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The adjustment is recorded."))
    return redirect("dispatch:assessment_result", pk=run.pk, result_id=result.pk)


@login_required
def result_cases(request, pk: int, result_id: int, code: str):
    """Drill-down: the cases behind one figure, as they stand today, within the viewer's
    scope."""
    _viewer(request)
    run = selectors.run_get_for_user(user=request.user, pk=pk)
    result = selectors.result_get(run=run, pk=result_id)
    cases = selectors.result_cases(user=request.user, run=run, result=result, code=code)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    label, definition = describe(code)
    return render(
        request,
        "dispatch/assessment/cases.html",
        {
            "run": run,
            "result": result,
            "code": code,
            "label": label,
            "definition": definition,
            "stored": result.figures.get(code),
            "page": page,
        },
    )


@login_required
def run_export(request, pk: int):
    """The rankings and every subject's figures as an Excel workbook (audited)."""
    _viewer(request)
    run = selectors.run_get_for_user(user=request.user, pk=pk)
    content = exports.run_workbook(run=run)
    audit_record(
        action=AuditAction.EXPORT,
        actor=request.user,
        target=f"assessment {run}",
        request=request,
        detail={"run": run.pk, "format": "xlsx"},
    )
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="assessment-{run.month:%Y-%m}-v{run.version}.xlsx"'
    )
    return response


@login_required
def run_print(request, pk: int):
    """The printable report (print stylesheet; a browser saves it as PDF)."""
    _viewer(request)
    run = selectors.run_get_for_user(user=request.user, pk=pk)
    return render(request, "dispatch/assessment/print.html", exports.report_context(run=run))
