from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from dispatch.selectors import reports_of_user
from dispatch.workflow import STATE_LABELS
from govgrid.accounts.models import CENTRE_ROLES, GRID_ROLES
from govgrid.lib.errors import DomainError
from incidents.forms import DeskReportForm, ReportForm
from incidents.services import ReportInput, incident_report
from residents.selectors import report_parties_from
from residents.services import report_parties_record


def _report_input(form, **extra) -> ReportInput:
    d = form.cleaned_data
    return ReportInput(
        category=d["category"],
        description=d["description"],
        lon=d["lon"],
        lat=d["lat"],
        location_source=d["location_source"],
        address=d["address"],
        parties=d["parties"],
        amount=d["amount"],
        people_count=d["people_count"],
        urgency=d["urgency"],
        risk_colour=d.get("risk_colour") or "",
        photos=d.get("photos") or [],
        is_self_handled=d.get("is_self_handled", False),
        result=d.get("result", ""),
        evidence=d.get("evidence") or [],
        **extra,
    )


def _submit(request, form, template, data_kwargs, parties=()):
    if request.method == "POST" and form.is_valid():
        try:
            incident = incident_report(
                data=_report_input(form, **data_kwargs(form)), actor=request.user
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if parties:
                report_parties_record(incident=incident, actor=request.user, parties=parties)
            messages.success(request, _("Report %(number)s filed.") % {"number": incident.number})
            return redirect(reverse("dispatch:incident_detail", args=[incident.pk]) + "?filed=1")
    return render(
        request,
        template,
        {"form": form, "report_parties": parties},
        status=400 if form.errors else 200,
    )


@login_required
def report_new(request):
    """A grid worker files a report from the phone."""
    if not request.user.has_role(*GRID_ROLES):
        raise PermissionDenied
    form = ReportForm(request.POST or None, request.FILES or None)
    # Residents, houses or organisations the report names (from their page, or ticked).
    parties = report_parties_from(
        user=request.user, params=request.POST if request.method == "POST" else request.GET
    )
    return _submit(request, form, "incidents/report_form.html", lambda f: {}, parties)


@login_required
def desk_report_new(request):
    """Centre staff enter a hotline (12345) or other channel report."""
    if not request.user.has_role(*CENTRE_ROLES):
        raise PermissionDenied
    form = DeskReportForm(request.POST or None, request.FILES or None)
    return _submit(
        request,
        form,
        "incidents/desk_report_form.html",
        lambda f: {
            "channel": f.cleaned_data["channel"],
            "reporter_name": f.cleaned_data["reporter_name"],
            "reporter_phone": f.cleaned_data["reporter_phone"],
        },
    )


@login_required
def my_reports(request):
    reports = list(reports_of_user(user=request.user)[:100])
    return render(
        request, "incidents/my_reports.html", {"reports": reports, "state_labels": STATE_LABELS}
    )
