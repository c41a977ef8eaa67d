"""Formatting only: state labels, time left before a deadline."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dispatch.workflow import ACTIONS, STATE_LABELS
from incidents.models import WarningLevel

# History rows that are not actions of the table.
EVENT_LABELS = {
    "report": gettext_lazy("Reported"),
    "self_handle": gettext_lazy("Handled on the spot"),
    "duplicate_linked": gettext_lazy("A duplicate was linked"),
    "warning": gettext_lazy("Warning"),
    "supervision_card": gettext_lazy("Supervision card"),
}

register = template.Library()


@register.filter
def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


@register.filter
def supervision_label(level: str) -> str:
    """A manual supervision's level: yellow or red card (黄牌/红牌督办)."""
    return warning_label(f"{level}_card")


@register.filter
def warning_label(level: str) -> str:
    """“Blue warning”, “Red supervision card”, … for a stored warning level."""
    return str(WarningLevel(level).label) if level in WarningLevel.values else level


@register.filter
def action_label(name: str) -> str:
    if name in ACTIONS:
        return str(ACTIONS[name].label)
    return str(EVENT_LABELS.get(name, name))


@register.filter
def time_left(deadline: datetime | None) -> str:
    """“2 days 3 h left” or “overdue 5 h”, in clock time (the colour engine works in
    working time)."""
    if deadline is None:
        return ""
    delta = deadline - timezone.now()
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        span = _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    elif hours:
        span = _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    else:
        span = _("%(m)s min") % {"m": minutes}
    if delta.total_seconds() < 0:
        return _("overdue by %(span)s") % {"span": span}
    return _("%(span)s left") % {"span": span}


@register.filter
def is_overdue(deadline: datetime | None) -> bool:
    return bool(deadline and deadline < timezone.now())
