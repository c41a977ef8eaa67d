"""The closed loop: every transition goes through `incident_act`.

`incident_act` locks the incident row, checks the action against the declared table in
`dispatch.workflow` (state, role, party, required fields), applies it, keeps the incident's
current values and deadlines, and appends one history row. Two people acting at once: the
second waits for the lock, then finds the state moved and gets a clear "already handled"
message naming who did it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from dispatch import calendar, notices, warnings
from dispatch.models import (
    Assignment,
    AssignmentRole,
    AssignmentState,
    ExtensionRequest,
    ExtensionState,
)
from dispatch.routing import rule_for
from dispatch.workflow import ACTIONS, CENTRES, UNIT, Action, State
from govgrid.accounts.models import Unit, UnitKind
from govgrid.accounts.scoping import scope_queryset
from govgrid.lib.errors import DomainError
from incidents.models import (
    AttachmentKind,
    DeadlineUnit,
    Incident,
    IncidentEvent,
    Rating,
    Urgency,
)
from incidents.services import attach_files

# --------------------------------------------------------------------------------------
# Deadlines
# --------------------------------------------------------------------------------------


def _limit(
    incident: Incident, phase: str, *, handle_override: int | None = None
) -> tuple[int, str]:
    """The phase's time limit and its unit, from the category (and a routing rule's
    handling override)."""
    category = incident.category
    amount = {
        "signin": category.signin_limit,
        "handle": handle_override or category.handle_limit,
        "verify": category.verify_limit,
    }[phase]
    if incident.urgency == Urgency.URGENT and category.deadline_unit == DeadlineUnit.WORKDAY:
        # An urgent case of a day-based category runs on hours: a working day becomes 8 hours.
        return amount * 8, DeadlineUnit.HOUR
    return amount, category.deadline_unit


def _start_phase(
    incident: Incident,
    phase: str,
    now: datetime,
    *,
    deadline: datetime | None = None,
    handle_override: int | None = None,
) -> None:
    if deadline is None:
        amount, unit = _limit(incident, phase, handle_override=handle_override)
        deadline = calendar.deadline_for(now, amount, unit)
    incident.phase = phase
    incident.phase_started_at = now
    incident.deadline_at = deadline
    incident.original_deadline_at = deadline
    warnings.warning_reset(incident=incident, now=now, new_phase=True)


def _stop_phase(incident: Incident) -> None:
    incident.phase = ""
    incident.phase_started_at = None
    incident.deadline_at = None
    incident.original_deadline_at = None
    # No phase runs: calm, nothing due (`now` is not read).
    warnings.warning_reset(incident=incident, now=timezone.now())


def _phase_unit(incident: Incident) -> str:
    return _limit(incident, incident.phase or "handle")[1]


def _remaining(incident: Incident, now: datetime) -> int:
    if incident.deadline_at is None:
        return 0
    if _phase_unit(incident) == DeadlineUnit.HOUR:
        return max(0, int((incident.deadline_at - now).total_seconds()))
    return calendar.working_seconds_between(now, incident.deadline_at)


def _shift(incident: Incident, start: datetime, seconds: int) -> datetime:
    if _phase_unit(incident) == DeadlineUnit.HOUR:
        return start + timedelta(seconds=seconds)
    return calendar.add_working_time(start, seconds)


# --------------------------------------------------------------------------------------
# Permission to act
# --------------------------------------------------------------------------------------


@dataclass
class Permission:
    allowed: bool
    reason: str = ""


def _is_party(user, incident: Incident, action: Action) -> bool:
    if action.party == "any":
        return True
    if action.party == "owner":
        return user.unit_id == incident.owner_unit_id
    if action.party == "lead":
        return incident.lead_unit_id is not None and user.unit_id == incident.lead_unit_id
    if action.party == "co":
        return incident.assignments.filter(
            unit_id=user.unit_id, state__in=[AssignmentState.PENDING, AssignmentState.SIGNED]
        ).exists()
    if action.party == "reporter":
        return (incident.reporter_id is not None and user.pk == incident.reporter_id) or (
            user.unit_id == incident.owner_unit_id and user.has_role(*ACTIONS["verify"].roles)
        )
    return False


def action_permission(*, user, incident: Incident, action: Action) -> Permission:
    """Whether `user` may fire `action` on `incident` as it stands (no lock, no write)."""
    if incident.state not in action.sources:
        return Permission(
            False,
            _("This action is not possible while the incident is “%(state)s”.")
            % {"state": state_label(incident.state)},
        )
    if not user.has_role(*action.roles):
        return Permission(False, _("Your role may not do this."))
    if not _is_party(user, incident, action):
        return Permission(False, _("This incident is not your unit's to act on."))
    if action.name == "decide_reopen" and not incident.reopen_requested:
        return Permission(False, _("No reopen request is waiting."))
    if (
        action.name == "decide_extension"
        and not incident.extension_requests.filter(state=ExtensionState.PENDING).exists()
    ):
        return Permission(False, _("No extension request is waiting."))
    if action.name == "mark_urgent" and incident.urgency == Urgency.URGENT:
        return Permission(False, _("The incident is already urgent."))
    if (
        action.name == "request_extension"
        and incident.extension_requests.filter(state=ExtensionState.PENDING).exists()
    ):
        return Permission(False, _("An extension request is already waiting."))
    if action.name == "rate" and incident.rating:
        return Permission(False, _("This incident has been rated already."))
    if action.name == "supervision_reply":
        # The lead unit's handlers reply; the owning centre while no unit holds the case.
        unit_id, roles = supervision_responder(incident)
        if user.unit_id != unit_id or not user.has_role(*roles):
            return Permission(False, _("This incident is not your unit's to act on."))
        if supervision_waiting(incident) is None:
            return Permission(False, _("No supervision is waiting for a reply."))
    return Permission(True)


def supervision_responder(incident: Incident) -> tuple[int, frozenset[str]]:
    """(unit, roles) that answer a supervision: the lead unit's handlers while a lead
    assignment is pending or signed, else the owning centre."""
    if incident.lead_unit_id is not None and _lead_assignment(incident) is not None:
        return incident.lead_unit_id, UNIT
    return incident.owner_unit_id, CENTRES


def supervision_waiting(incident: Incident) -> IncidentEvent | None:
    """The latest supervision not yet replied to (a reply answers every earlier one)."""
    last = (
        incident.events.filter(action__in=["supervise", "supervision_reply"])
        .order_by("-at", "-pk")
        .first()
    )
    return last if last is not None and last.action == "supervise" else None


def allowed_actions(*, user, incident: Incident) -> list[Action]:
    return [
        a
        for a in ACTIONS.values()
        if incident.state in a.sources
        and action_permission(user=user, incident=incident, action=a).allowed
    ]


def state_label(state: str) -> str:
    from dispatch.workflow import STATE_LABELS

    return str(STATE_LABELS.get(state, state))


# --------------------------------------------------------------------------------------
# The one transition service
# --------------------------------------------------------------------------------------


@transaction.atomic
def incident_act(
    *,
    incident_id: int,
    action: str,
    actor,
    expected_state: str | None = None,
    now: datetime | None = None,
    **fields: Any,
) -> Incident:
    """Fire `action` on the incident and record who did it.

    Takes the incident's row lock, then checks the move against `dispatch.workflow`:
    state, role, party and required fields. When `expected_state` (the state the user
    saw) no longer holds, the error names who acted first. Raises DomainError; on success
    the incident row, its assignments and deadlines change and one history row is added.
    """
    spec = ACTIONS.get(action)
    if spec is None:
        raise DomainError(_("Unknown action “%(action)s”.") % {"action": action}, code="action")
    incident = (
        Incident.objects.select_for_update(of=("self",))
        .select_related("category", "grid", "owner_unit")
        .get(pk=incident_id)
    )
    if expected_state and incident.state != expected_state:
        last = (
            incident.events.exclude(to_state="")
            .select_related("actor")
            .order_by("-at", "-pk")
            .first()
        )
        who = str(last.actor) if last and last.actor else _("someone else")
        raise DomainError(
            _("Already handled by %(who)s at %(time)s: the incident is now “%(state)s”.")
            % {
                "who": who,
                "time": date_format(timezone.localtime(last.at), "SHORT_DATETIME_FORMAT")
                if last
                else "",
                "state": state_label(incident.state),
            },
            code="conflict",
        )
    permission = action_permission(user=actor, incident=incident, action=spec)
    if not permission.allowed:
        raise DomainError(permission.reason, code="not_allowed")
    for name in spec.requires:
        value = fields.get(name)
        if value is None or value == "" or value == []:
            raise DomainError(
                _("“%(field)s” is required for this action.") % {"field": name}, code="required"
            )
    now = now or timezone.now()
    handler = _HANDLERS[action]
    from_state = incident.state
    event_data: dict[str, Any] = handler(incident, actor, now, fields) or {}
    to_state = incident.state
    if to_state not in ACTIONS["decide_extension"].sources:
        # A request left undecided when its handling phase ends can no longer be decided.
        incident.extension_requests.filter(state=ExtensionState.PENDING).update(
            state=ExtensionState.LAPSED, decided_at=now
        )
    incident.save()
    event = IncidentEvent.objects.create(
        incident=incident,
        at=now,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state if to_state != from_state else "",
        note=str(fields.get("reason") or fields.get("note") or fields.get("result") or "")[:2000],
        unit=actor.unit if getattr(actor, "unit_id", None) else None,
        data={k: v for k, v in event_data.items() if v is not None},
    )
    attach_files(incident, event, fields.get("evidence") or [], AttachmentKind.EVIDENCE, actor)
    # Outbox rows in this transaction; delivered after commit.
    notices.notify_action(
        incident=incident, action=action, event_pk=event.pk, note=event.note, data=event.data
    )
    return incident


# --------------------------------------------------------------------------------------
# What each action does (called with the row locked, inside incident_act)
# --------------------------------------------------------------------------------------


def _unit(value) -> Unit:
    unit = value if isinstance(value, Unit) else Unit.objects.filter(pk=value).first()
    if unit is None or not unit.is_active:
        raise DomainError(_("Pick an active unit."), code="unit")
    return unit


def _withdraw_active(incident: Incident, now: datetime) -> None:
    incident.assignments.filter(state__in=[AssignmentState.PENDING, AssignmentState.SIGNED]).update(
        state=AssignmentState.WITHDRAWN, finished_at=now
    )


def _assign(incident, now, lead: Unit, co_units, handler, *, whistle=False, signin_deadline=None):
    if handler is not None and (
        getattr(handler, "unit_id", None) != lead.pk or not handler.is_active
    ):
        raise DomainError(_("The first handler must work in the lead unit."), code="handler")
    _withdraw_active(incident, now)
    _start_phase(incident, "signin", now, deadline=signin_deadline)
    Assignment.objects.create(
        incident=incident,
        unit=lead,
        role=AssignmentRole.LEAD,
        handler=handler,
        is_whistle=whistle,
        signin_deadline_at=incident.deadline_at,
    )
    for co in co_units or []:
        co = _unit(co)
        if co.pk != lead.pk:
            Assignment.objects.create(
                incident=incident,
                unit=co,
                role=AssignmentRole.CO,
                signin_deadline_at=incident.deadline_at,
            )
    incident.lead_unit = lead
    incident.state = State.DISPATCHED


def _do_accept(incident, actor, now, f):
    incident.state = State.ACCEPTED


def _do_reject(incident, actor, now, f):
    incident.state = State.REJECTED
    _stop_phase(incident)


def _do_duplicate(incident, actor, now, f):
    original = f["duplicate_of"]
    original = (
        original if isinstance(original, Incident) else Incident.objects.filter(pk=original).first()
    )
    visible = (
        original is not None
        and scope_queryset(actor, Incident.objects.filter(pk=original.pk)).exists()
    )
    if not visible or original.pk == incident.pk:
        raise DomainError(_("Pick the original incident."), code="duplicate_of")
    incident.duplicate_of = original
    incident.state = State.REJECTED
    _stop_phase(incident)
    # The original's timeline shows the link too.
    IncidentEvent.objects.create(
        incident=original,
        at=now,
        actor=actor,
        action="duplicate_linked",
        note=incident.number,
        data={"duplicate": incident.pk},
    )
    return {"duplicate_of": original.pk, "duplicate_of_number": original.number}


def _do_escalate(incident, actor, now, f):
    parent = incident.owner_unit.parent
    while parent is not None and parent.kind != UnitKind.CENTRE:
        parent = parent.parent
    if parent is None:
        raise DomainError(_("There is no centre above yours to escalate to."), code="escalate")
    _withdraw_active(incident, now)
    _stop_phase(incident)
    previous = incident.owner_unit_id
    incident.owner_unit = parent
    incident.lead_unit = None
    incident.state = State.REPORTED
    return {"from_unit": previous, "to_unit": parent.pk}


def _dispatch_common(incident, actor, now, f, *, whistle=False):
    lead = _unit(f["lead_unit"])
    if lead.kind != UnitKind.DEPARTMENT and lead.pk == incident.owner_unit_id:
        raise DomainError(_("Dispatch to a unit other than your own centre."), code="unit")
    signin_deadline = None
    if whistle:
        from grids.models import AreaLevel

        if lead.level != AreaLevel.DISTRICT or lead.kind != UnitKind.DEPARTMENT:
            raise DomainError(_("A whistle summons a district department."), code="unit")
        signin_deadline = now + timedelta(hours=settings.WHISTLE_SIGNIN_HOURS)
    handler = f.get("handler")
    _assign(
        incident,
        now,
        lead,
        f.get("co_units"),
        handler,
        whistle=whistle,
        signin_deadline=signin_deadline,
    )
    return {
        "lead_unit": lead.pk,
        "co_units": [getattr(c, "pk", c) for c in f.get("co_units") or []],
        "deadline": incident.deadline_at.isoformat(),
        "whistle": whistle or None,
    }


def _do_dispatch(incident, actor, now, f):
    return _dispatch_common(incident, actor, now, f)


def _do_whistle(incident, actor, now, f):
    return _dispatch_common(incident, actor, now, f, whistle=True)


def _do_redispatch(incident, actor, now, f):
    if _unit(f["lead_unit"]).pk == incident.lead_unit_id:
        # Sending it back to the unit that returned it is an overrule, and counts as one.
        raise DomainError(
            _("To send it back to the unit that returned it, overrule the return."),
            code="unit",
        )
    return _dispatch_common(incident, actor, now, f)


def _do_overrule(incident, actor, now, f):
    lead = incident.lead_unit
    if lead is None:
        raise DomainError(_("There is no returned unit to overrule."), code="unit")
    _assign(incident, now, lead, [], None)
    # Counted against the unit in the monthly review (its return was not accepted).
    return {"lead_unit": lead.pk, "overruled": True, "deadline": incident.deadline_at.isoformat()}


def _lead_assignment(incident) -> Assignment | None:
    return incident.assignments.filter(
        role=AssignmentRole.LEAD, state__in=[AssignmentState.PENDING, AssignmentState.SIGNED]
    ).first()


def _do_sign(incident, actor, now, f):
    a = _lead_assignment(incident)
    on_time = incident.deadline_at is None or now <= incident.deadline_at
    if a:
        a.state, a.signed_at = AssignmentState.SIGNED, now
        if a.handler_id is None:
            a.handler = actor
        a.save(update_fields=["state", "signed_at", "handler", "updated_at"])
    incident.state = State.IN_PROGRESS
    _start_phase(incident, "handle", now, handle_override=_handle_override(incident))
    return {"on_time": on_time, "deadline": incident.deadline_at.isoformat()}


def _handle_override(incident) -> int | None:
    rule = rule_for(incident)
    return rule.handle_limit if rule and rule.lead_unit_id == incident.lead_unit_id else None


def _do_return(incident, actor, now, f):
    a = _lead_assignment(incident)
    if a:
        a.state, a.finished_at = AssignmentState.RETURNED, now
        a.save(update_fields=["state", "finished_at", "updated_at"])
    incident.assignments.filter(role=AssignmentRole.CO, state=AssignmentState.PENDING).update(
        state=AssignmentState.WITHDRAWN, finished_at=now
    )
    incident.state = State.RETURNED
    _stop_phase(incident)
    return {"unit": incident.lead_unit_id}


def _do_progress(incident, actor, now, f):
    return {}


def _do_handle(incident, actor, now, f):
    incident.result = f["result"]
    on_time = incident.deadline_at is None or now <= incident.deadline_at
    incident.state = State.HANDLED
    _start_phase(incident, "verify", now)
    return {"on_time": on_time}


def _do_request_extension(incident, actor, now, f):
    days = int(f["days"])
    if days <= 0 or days > 30:
        raise DomainError(_("Ask for 1 to 30 working days."), code="days")
    if incident.deadline_at is None or now >= incident.deadline_at:
        raise DomainError(_("An extension must be asked before the deadline."), code="late")
    if incident.extension_requests.filter(state=ExtensionState.PENDING).exists():
        raise DomainError(_("An extension request is already waiting."), code="pending")
    req = ExtensionRequest.objects.create(
        incident=incident,
        unit=incident.lead_unit,
        requested_by=actor,
        days=days,
        reason=f["reason"],
        deadline_before=incident.deadline_at,
    )
    return {"request": req.pk, "days": days}


def _do_decide_extension(incident, actor, now, f):
    req = incident.extension_requests.select_for_update().get(state=ExtensionState.PENDING)
    approve = bool(f["approve"]) and f["approve"] not in ("0", "false", "no")
    req.state = ExtensionState.APPROVED if approve else ExtensionState.REFUSED
    req.decided_by, req.decided_at = actor, now
    req.decision_note = f.get("note", "") or f.get("reason", "")
    if approve:
        # The original deadline stays on record on the incident and on the request.
        incident.deadline_at = calendar.add_working_time(incident.deadline_at, req.days * 86400)
        req.deadline_after = incident.deadline_at
        # Later deadline, later colours: the case may turn calmer.
        warnings.warning_reset(incident=incident, now=now)
    req.save()
    return {
        "request": req.pk,
        "approved": approve,
        "deadline": incident.deadline_at.isoformat() if incident.deadline_at else None,
    }


def _do_verify(incident, actor, now, f):
    incident.assignments.filter(state__in=[AssignmentState.PENDING, AssignmentState.SIGNED]).update(
        state=AssignmentState.DONE, finished_at=now
    )
    incident.state = State.CLOSED
    incident.closed_at = now
    _stop_phase(incident)


def _rework(incident, now):
    incident.state = State.IN_PROGRESS
    incident.closed_at = None
    incident.result = ""
    incident.assignments.filter(role=AssignmentRole.LEAD, state=AssignmentState.DONE).update(
        state=AssignmentState.SIGNED, finished_at=None
    )
    _start_phase(incident, "handle", now, handle_override=_handle_override(incident))


def _do_rework(incident, actor, now, f):
    if incident.lead_unit_id is None:
        # Self-handled on the spot: the grid worker's result failed; the centre dispatches it.
        incident.state = State.ACCEPTED
        _stop_phase(incident)
        return {"self_handled": True}
    _rework(incident, now)
    return {"deadline": incident.deadline_at.isoformat()}


def _do_rate(incident, actor, now, f):
    rating = f["rating"]
    if rating not in Rating.values:
        raise DomainError(_("Unknown rating."), code="rating")
    incident.rating = rating
    incident.reopen_requested = rating == Rating.UNSATISFIED
    return {"rating": rating, "reopen_requested": incident.reopen_requested or None}


def _do_decide_reopen(incident, actor, now, f):
    approve = bool(f["approve"]) and f["approve"] not in ("0", "false", "no")
    incident.reopen_requested = False
    if approve:
        if incident.lead_unit_id is None:
            incident.state = State.ACCEPTED
            incident.closed_at = None
        else:
            _rework(incident, now)
        incident.rating = ""
    return {"approved": approve}


def _do_suspend(incident, actor, now, f):
    incident.suspended_state = incident.state
    incident.suspended_remaining = _remaining(incident, now) if incident.deadline_at else None
    incident.state = State.SUSPENDED
    warnings.warning_reset(incident=incident, now=now)
    return {"remaining_seconds": incident.suspended_remaining}


def _do_resume(incident, actor, now, f):
    incident.state = incident.suspended_state or State.ACCEPTED
    if incident.suspended_remaining is not None and incident.phase:
        # Suspended time does not count: the phase gets back exactly what it had left.
        incident.deadline_at = _shift(incident, now, incident.suspended_remaining)
    incident.suspended_state = ""
    incident.suspended_remaining = None
    warnings.warning_reset(incident=incident, now=now)
    return {"deadline": incident.deadline_at.isoformat() if incident.deadline_at else None}


def _do_cancel(incident, actor, now, f):
    _withdraw_active(incident, now)
    _stop_phase(incident)
    incident.state = State.CANCELLED


def _do_mark_urgent(incident, actor, now, f):
    if incident.urgency == Urgency.URGENT:
        raise DomainError(_("The incident is already urgent."), code="urgent")
    incident.urgency = Urgency.URGENT


def _do_instruct(incident, actor, now, f):
    return {"instruction": True}


SUPERVISION_LEVELS = ("yellow", "red")


def _do_supervise(incident, actor, now, f):
    level = f["level"]
    if level not in SUPERVISION_LEVELS:
        raise DomainError(_("Pick a yellow or red supervision."), code="level")
    try:
        days = int(f["reply_days"])
    except (TypeError, ValueError):
        days = 0
    if days < 1 or days > 30:
        raise DomainError(_("Ask for a reply within 1 to 30 working days."), code="reply_days")
    reply_by = calendar.add_working_time(now, days * 86400)
    return {"level": level, "reply_by": reply_by.isoformat(), "supervision": True}


def _do_supervision_reply(incident, actor, now, f):
    supervision = supervision_waiting(incident)
    if supervision is None:  # checked by action_permission; kept for safety under the lock
        raise DomainError(_("No supervision is waiting for a reply."), code="not_allowed")
    reply_by = supervision.data.get("reply_by")
    on_time = reply_by is None or now <= datetime.fromisoformat(reply_by)
    return {"reply_to": supervision.pk, "on_time": on_time}


_HANDLERS = {
    "accept": _do_accept,
    "reject": _do_reject,
    "duplicate": _do_duplicate,
    "escalate": _do_escalate,
    "dispatch": _do_dispatch,
    "whistle": _do_whistle,
    "redispatch": _do_redispatch,
    "overrule": _do_overrule,
    "sign": _do_sign,
    "return": _do_return,
    "progress": _do_progress,
    "handle": _do_handle,
    "request_extension": _do_request_extension,
    "decide_extension": _do_decide_extension,
    "verify": _do_verify,
    "rework": _do_rework,
    "rate": _do_rate,
    "decide_reopen": _do_decide_reopen,
    "suspend": _do_suspend,
    "resume": _do_resume,
    "cancel": _do_cancel,
    "mark_urgent": _do_mark_urgent,
    "instruct": _do_instruct,
    "supervise": _do_supervise,
    "supervision_reply": _do_supervision_reply,
}
assert set(_HANDLERS) == set(ACTIONS), "every declared action needs a handler"


# --------------------------------------------------------------------------------------
# Intake follow-ups (called by incidents.services.incident_report inside its transaction)
# --------------------------------------------------------------------------------------


def incident_self_handled(
    *, incident: Incident, actor, result: str, evidence, now: datetime
) -> None:
    """A report handled on the spot goes straight to verification by its centre."""
    incident.state = State.HANDLED
    incident.result = result
    _start_phase(incident, "verify", now)
    incident.save()
    event = IncidentEvent.objects.create(
        incident=incident,
        at=now,
        actor=actor,
        action="self_handle",
        from_state=State.REPORTED,
        to_state=State.HANDLED,
        note=result[:2000],
    )
    attach_files(incident, event, evidence, AttachmentKind.EVIDENCE, actor)


def incident_route(*, incident: Incident, now: datetime) -> None:
    """Apply the first matching routing rule when it says to dispatch automatically (自动交办)."""
    rule = rule_for(incident)
    if rule is None or not rule.auto_dispatch:
        return
    _assign(incident, now, rule.lead_unit, list(rule.co_units.filter(is_active=True)), None)
    incident.save()
    event = IncidentEvent.objects.create(
        incident=incident,
        at=now,
        actor=None,
        action="dispatch",
        from_state=State.REPORTED,
        to_state=State.DISPATCHED,
        unit=incident.owner_unit,
        note=_("Dispatched automatically by rule “%(rule)s”.") % {"rule": rule.name},
        data={
            "rule": rule.pk,
            "lead_unit": rule.lead_unit_id,
            "deadline": incident.deadline_at.isoformat(),
        },
    )
    notices.notify_action(incident=incident, action="dispatch", event_pk=event.pk)


# --------------------------------------------------------------------------------------
# Rating by the reporter (回访): the SMS link the day after closure
# --------------------------------------------------------------------------------------

RATING_LINK_SALT = "rating"
RATING_LINK_MAX_AGE = timedelta(days=14)


def rating_token(incident_id: int) -> str:
    """A signed, timestamped token naming the incident (valid RATING_LINK_MAX_AGE)."""
    return signing.dumps({"i": incident_id}, salt=RATING_LINK_SALT, compress=True)


def rating_token_incident_id(token: str) -> int:
    """The incident a rating token names; DomainError when tampered with or expired."""
    try:
        data = signing.loads(token, salt=RATING_LINK_SALT, max_age=RATING_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise DomainError(_("This rating link has expired."), code="expired") from exc
    except signing.BadSignature as exc:
        raise DomainError(_("This rating link is not valid."), code="invalid") from exc
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        raise DomainError(_("This rating link is not valid."), code="invalid")
    return data["i"]


def rating_link(incident_id: int) -> str:
    """The absolute address of the public rating page sent by SMS."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return base + reverse("rate_public", args=[rating_token(incident_id)])


@transaction.atomic
def incident_rate_public(*, incident_id: int, rating: str, now: datetime | None = None) -> Incident:
    """The reporter rates through the SMS link: the rules of the "rate" action (closed, not
    rated yet; unsatisfied opens a reopen request), with no actor. Raises DomainError."""
    incident = Incident.objects.select_for_update(of=("self",)).filter(pk=incident_id).first()
    if incident is None:
        raise DomainError(_("This rating link is not valid."), code="invalid")
    if incident.state not in ACTIONS["rate"].sources:
        raise DomainError(_("This incident cannot be rated now."), code="not_allowed")
    if incident.rating:
        raise DomainError(_("This incident has been rated already."), code="rated")
    now = now or timezone.now()
    data = _do_rate(incident, None, now, {"rating": rating})
    incident.save()
    IncidentEvent.objects.create(
        incident=incident,
        at=now,
        actor=None,
        action="rate",
        from_state=incident.state,
        to_state="",
        data={**{k: v for k, v in data.items() if v is not None}, "channel": "sms_link"},
    )
    return incident


def rating_requests_due(*, now: datetime | None = None) -> int:
    """Ask the reporters of cases closed 24 to 48 hours ago to rate them (one SMS each).

    Only cases not rated yet, with a reporter phone (hotline and resident reports), not
    asked before; the dedupe key makes a second run (or a racing one) write nothing.
    Returns the number of outbox rows written.
    """
    from govgrid.notifications.models import Event, OutboxMessage
    from govgrid.notifications.services import notify

    now = now or timezone.now()
    asked = OutboxMessage.objects.filter(incident_id=OuterRef("pk"), event=Event.RATING_REQUEST)
    due = (
        Incident.objects.filter(
            state=State.CLOSED,
            closed_at__gt=now - timedelta(hours=48),
            closed_at__lte=now - timedelta(hours=24),
            rating="",
        )
        .exclude(reporter_phone="")
        .exclude(Exists(asked))
        .select_related("category", "grid", "lead_unit")
        .order_by("pk")
    )
    written = 0
    for incident in due.iterator(chunk_size=200):
        with transaction.atomic():
            written += notify(
                event=Event.RATING_REQUEST,
                recipients=[],
                phone=incident.reporter_phone,
                incident=incident,
                context={"link": rating_link(incident.pk)},
                dedupe_key=f"incident:{incident.pk}:rating_request",
                channels=("sms",),
            )
    return written
