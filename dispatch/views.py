from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dispatch.dashboard import dashboard_allowed, dashboard_page_context
from dispatch.forms import ActionForm
from dispatch.routing import rule_for
from dispatch.selectors import (
    duplicate_candidates,
    incident_get_for_user,
    triage_inbox,
    unit_inbox,
)
from dispatch.services import (
    allowed_actions,
    incident_act,
    incident_rate_public,
    rating_token_incident_id,
)
from dispatch.workflow import ACTIONS, STATE_LABELS, State
from govgrid.accounts.models import CENTRE_ROLES, Role
from govgrid.lib.errors import DomainError

INBOX_LIMIT = 50


class Column(list):
    """The first INBOX_LIMIT cases of a desk column; `more` when there are others."""

    more = False


def _columns(querysets) -> dict[str, Column]:
    out = {}
    for name, qs in querysets.items():
        rows = list(qs[: INBOX_LIMIT + 1])  # one extra row says whether there are more
        column = Column(rows[:INBOX_LIMIT])
        column.more = len(rows) > INBOX_LIMIT
        out[name] = column
    return out


@login_required
def triage(request):
    """A centre's triage desk."""
    if not request.user.has_role(*CENTRE_ROLES):
        raise PermissionDenied
    columns = _columns(triage_inbox(user=request.user))
    return render(
        request, "dispatch/triage.html", {"columns": columns, "state_labels": STATE_LABELS}
    )


@login_required
def dashboard(request):
    """The centre's full-screen map dashboard (PRODUCT.md §8)."""
    if not dashboard_allowed(request.user):
        raise PermissionDenied
    return render(request, "dispatch/dashboard.html", dashboard_page_context(user=request.user))


@login_required
def dashboard_inbox(request):
    """The triage inbox beside the map (a fragment the dashboard refreshes)."""
    if not dashboard_allowed(request.user):
        raise PermissionDenied
    columns = _columns(triage_inbox(user=request.user)) if request.user.unit_id else {}
    return render(request, "dispatch/_dashboard_inbox.html", {"columns": columns})


@login_required
def unit_desk(request):
    """A unit handler's inbox: to sign, in progress, overdue, returned; urgent first."""
    if not request.user.has_role(Role.UNIT_HANDLER):
        raise PermissionDenied
    columns = _columns(unit_inbox(user=request.user))
    return render(
        request, "dispatch/unit_inbox.html", {"columns": columns, "state_labels": STATE_LABELS}
    )


def _incident_context(request, incident) -> dict:
    """What the incident page and the dashboard's incident panel show: the case, its
    timeline and exactly the actions this user may take (dispatch pre-filled from the
    routing rule)."""
    actions = allowed_actions(user=request.user, incident=incident)
    suggestion = None
    if any(a.name in ("dispatch", "redispatch", "whistle") for a in actions):
        suggestion = rule_for(incident)
    initial = {}
    if suggestion:
        initial = {
            "lead_unit": suggestion.lead_unit_id,
            "co_units": [u.pk for u in suggestion.co_units.all()],
        }
    form = ActionForm(incident=incident, initial=initial)
    duplicates = (
        duplicate_candidates(incident=incident)
        if incident.state in (State.REPORTED, State.ACCEPTED)
        and any(a.name == "duplicate" for a in actions)
        else []
    )
    return {
        "incident": incident,
        "actions": actions,
        "form": form,
        "suggestion": suggestion,
        "duplicates": duplicates,
        "state_labels": STATE_LABELS,
        "action_labels": {a.name: a.label for a in ACTIONS.values()},
    }


@login_required
def incident_detail(request, pk: int):
    incident = incident_get_for_user(user=request.user, pk=pk)
    return render(request, "dispatch/incident_detail.html", _incident_context(request, incident))


@login_required
def incident_panel(request, pk: int):
    """The incident beside the dashboard's map (a fragment; its forms post with panel=1)."""
    incident = incident_get_for_user(user=request.user, pk=pk)
    context = _incident_context(request, incident) | {"panel": True}
    return render(request, "dispatch/_incident_panel.html", context)


@login_required
@require_POST
def incident_action(request, pk: int):
    incident = incident_get_for_user(user=request.user, pk=pk)
    form = ActionForm(request.POST, request.FILES, incident=incident)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return _after_action(request, pk)
    name = form.cleaned_data["action"]
    try:
        incident_act(
            incident_id=incident.pk,
            action=name,
            actor=request.user,
            expected_state=form.cleaned_data.get("expected_state") or None,
            **form.service_fields(),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        label = ACTIONS[name].label if name in ACTIONS else name
        messages.success(request, _("Done: %(action)s.") % {"action": label})
    return _after_action(request, pk)


def _after_action(request, pk: int):
    """Back to where the action was taken: the incident page or the dashboard's panel."""
    if request.POST.get("panel"):
        return redirect("dispatch:incident_panel", pk=pk)
    return redirect("dispatch:incident_detail", pk=pk)


@login_required
def attachment_file(request, pk: int):
    """Serve a photo or file of an incident the user may see (never a public URL)."""
    from django.http import FileResponse, Http404

    from incidents.models import Attachment

    attachment = Attachment.objects.select_related("incident").filter(pk=pk).first()
    if attachment is None:
        raise Http404
    incident_get_for_user(user=request.user, pk=attachment.incident_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_http_methods(["GET", "POST"])
def rate_public(request, token: str):
    """The reporter's rating page, reached from the SMS link (回访): no login.

    Shows the case's number, category and result only (no personal data). A used, expired
    or tampered link shows why and changes nothing.
    """
    from incidents.models import Incident, Rating

    error = ""
    done = False
    incident = None
    try:
        incident_id = rating_token_incident_id(token)
    except DomainError as exc:
        error = exc.message
    else:
        incident = Incident.objects.select_related("category").filter(pk=incident_id).first()
        if incident is None:
            error = _("This rating link is not valid.")
        elif request.method == "POST":
            try:
                incident = incident_rate_public(
                    incident_id=incident.pk, rating=request.POST.get("rating", "")
                )
            except DomainError as exc:
                error = exc.message
            else:
                done = True
        elif incident.rating:
            error = _("This incident has been rated already.")
        elif incident.state != State.CLOSED:
            error = _("This incident cannot be rated now.")
    return render(
        request,
        "incidents/rate_public.html",
        {
            "incident": incident,
            "error": error,
            "done": done,
            "ratings": Rating.choices,
        },
        status=400 if error and request.method == "POST" else 200,
    )
