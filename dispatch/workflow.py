"""The closed loop as one declared table: states, actions, who may fire them, what they need.

Read it top to bottom: each action lists the states it may start from, the state it leads
to (None: stays where it is), the roles allowed to fire it, and the fields it requires.
`dispatch.services.incident_act` is the only code that applies it; the tests walk every
edge and every forbidden edge.

Flow in the sources: 上报 → 受理 → 派遣 → 签收 → 处置 → 核查 → 结案 → 回访评价,
with 退单, 延期, 上报升级, 督办, 重办 on the side.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from govgrid.accounts.models import CENTRE_ROLES, Role


class State:
    REPORTED = "reported"  # 待受理
    ACCEPTED = "accepted"  # 已受理
    REJECTED = "rejected"  # 不予受理
    DISPATCHED = "dispatched"  # 待签收
    IN_PROGRESS = "in_progress"  # 处置中
    RETURNED = "returned"  # 已退回
    HANDLED = "handled"  # 待核查
    CLOSED = "closed"  # 已结案
    SUSPENDED = "suspended"  # 已挂起
    CANCELLED = "cancelled"  # 已撤销


STATE_LABELS = {
    State.REPORTED: _("Awaiting acceptance"),
    State.ACCEPTED: _("Accepted"),
    State.REJECTED: _("Rejected"),
    State.DISPATCHED: _("Awaiting sign-in"),
    State.IN_PROGRESS: _("In progress"),
    State.RETURNED: _("Returned"),
    State.HANDLED: _("Awaiting verification"),
    State.CLOSED: _("Closed"),
    State.SUSPENDED: _("Suspended"),
    State.CANCELLED: _("Cancelled"),
}
STATES = list(STATE_LABELS)
OPEN_STATES = frozenset(
    {
        State.REPORTED,
        State.ACCEPTED,
        State.DISPATCHED,
        State.IN_PROGRESS,
        State.RETURNED,
        State.HANDLED,
        State.SUSPENDED,
    }
)
FINAL_STATES = frozenset({State.REJECTED, State.CLOSED, State.CANCELLED})

# Deadline phase that runs in each state (none in the others).
PHASE_OF_STATE = {
    State.DISPATCHED: "signin",
    State.IN_PROGRESS: "handle",
    State.HANDLED: "verify",
}

CENTRES = CENTRE_ROLES
UNIT = frozenset({Role.UNIT_HANDLER})
LEADERS = frozenset({Role.LEADER})
FIELD = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: frozenset[str]
    target: str | None  # None: the state does not change (or is decided by the service)
    roles: frozenset[str]
    requires: tuple[str, ...] = ()
    # Who on the incident may fire it: "owner" (a centre owning the incident), "lead" (the
    # lead unit's handler), "co" (a lead or co-unit), "reporter", "any" (anyone in scope).
    party: str = "owner"


def _a(name, label, sources, target, roles, requires=(), party="owner"):
    return Action(name, label, frozenset(sources), target, frozenset(roles), tuple(requires), party)


S = State
# fmt: off
# One row per action: name, label, from states, to state (None: unchanged or decided by the
# service), roles, required fields, party on the incident.
_ROWS = [
    # Triage at the owning centre.
    ("accept", _("Accept"), [S.REPORTED], S.ACCEPTED, CENTRES, [], "owner"),
    ("reject", _("Reject"), [S.REPORTED], S.REJECTED, CENTRES, ["reason"], "owner"),
    # "duplicate" is a rejection that links the original; both timelines show it.
    ("duplicate", _("Mark as duplicate"), [S.REPORTED, S.ACCEPTED], S.REJECTED, CENTRES, ["duplicate_of"], "owner"),
    ("escalate", _("Escalate to the parent centre"), [S.REPORTED, S.ACCEPTED, S.RETURNED], S.REPORTED, CENTRES, ["reason"], "owner"),
    ("dispatch", _("Dispatch"), [S.REPORTED, S.ACCEPTED], S.DISPATCHED, CENTRES, ["lead_unit"], "owner"),
    # 吹哨报到: only a street centre summons district departments.
    ("whistle", _("Whistle (summon a district department)"), [S.REPORTED, S.ACCEPTED], S.DISPATCHED, {Role.STREET_CENTRE}, ["lead_unit"], "owner"),
    # A returned case goes out again: to another unit, or back to the same one when the
    # centre overrules the return (the overrule counts against that unit in the review).
    ("redispatch", _("Dispatch again"), [S.RETURNED], S.DISPATCHED, CENTRES, ["lead_unit"], "owner"),
    ("overrule", _("Overrule the return"), [S.RETURNED], S.DISPATCHED, CENTRES, ["reason"], "owner"),
    # The lead unit.
    ("sign", _("Sign for it"), [S.DISPATCHED], S.IN_PROGRESS, UNIT, [], "lead"),
    ("return", _("Return it"), [S.DISPATCHED], S.RETURNED, UNIT, ["reason"], "lead"),
    ("progress", _("Report progress"), [S.IN_PROGRESS], None, UNIT, ["note"], "co"),
    ("handle", _("Report the result"), [S.IN_PROGRESS], S.HANDLED, UNIT, ["result", "evidence"], "lead"),
    # Extensions concern the handling deadline, so only a signed case may ask.
    ("request_extension", _("Ask for more time"), [S.IN_PROGRESS], None, UNIT, ["reason", "days"], "lead"),
    # The owning centre checks the result and decides requests.
    ("verify", _("Verify and close"), [S.HANDLED], S.CLOSED, CENTRES, [], "owner"),
    ("rework", _("Verification failed: rework"), [S.HANDLED], S.IN_PROGRESS, CENTRES, ["reason"], "owner"),
    ("decide_extension", _("Decide the extension"), [S.IN_PROGRESS], None, CENTRES, ["approve"], "owner"),
    # After closure the reporter (or the centre on a phone follow-up) rates it; an
    # unsatisfied rating opens a reopen request the centre decides.
    ("rate", _("Rate the result"), [S.CLOSED], None, FIELD | CENTRES, ["rating"], "reporter"),
    ("decide_reopen", _("Decide the reopen request"), [S.CLOSED], None, CENTRES, ["approve"], "owner"),
    # Side actions.
    ("suspend", _("Suspend"), [S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.RETURNED], S.SUSPENDED, CENTRES, ["reason"], "owner"),
    ("resume", _("Resume"), [S.SUSPENDED], None, CENTRES, [], "owner"),
    ("cancel", _("Cancel"), [S.REPORTED, S.ACCEPTED, S.DISPATCHED, S.RETURNED, S.SUSPENDED], S.CANCELLED, CENTRES, ["reason"], "owner"),
    ("mark_urgent", _("Mark urgent"), OPEN_STATES, None, CENTRES | LEADERS, [], "any"),
    ("instruct", _("Leader instruction"), OPEN_STATES | FINAL_STATES, None, LEADERS, ["note"], "any"),
    # 督办: a centre or a leader presses the case (level yellow/red, reply within N working
    # days); the lead unit (the owning centre while no unit holds it) replies. Counted in the
    # review. Who replies, and whether a supervision waits, is checked by the service.
    ("supervise", _("Supervise"), OPEN_STATES, None, CENTRES | LEADERS, ["note", "level", "reply_days"], "any"),
    ("supervision_reply", _("Reply to the supervision"), OPEN_STATES, None, UNIT | CENTRES, ["note"], "any"),
]
# fmt: on
ACTIONS: dict[str, Action] = {row[0]: _a(*row[:6], party=row[6]) for row in _ROWS}


def action_for(name: str) -> Action | None:
    return ACTIONS.get(name)


def actions_from(state: str) -> list[Action]:
    return [a for a in ACTIONS.values() if state in a.sources]
