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

from govgrid.accounts.models import Role


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

CENTRES = frozenset({Role.COMMUNITY_STATION, Role.STREET_CENTRE, Role.DISTRICT_CENTRE})
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
ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        # Triage at the owning centre.
        _a("accept", _("Accept"), [S.REPORTED], S.ACCEPTED, CENTRES),
        _a("reject", _("Reject"), [S.REPORTED], S.REJECTED, CENTRES, ["reason"]),
        # "duplicate" is a rejection that links the original; both timelines show it.
        _a(
            "duplicate",
            _("Mark as duplicate"),
            [S.REPORTED, S.ACCEPTED],
            S.REJECTED,
            CENTRES,
            ["duplicate_of"],
        ),
        _a(
            "escalate",
            _("Escalate to the parent centre"),
            [S.REPORTED, S.ACCEPTED, S.RETURNED],
            S.REPORTED,
            CENTRES,
            ["reason"],
        ),
        _a(
            "dispatch",
            _("Dispatch"),
            [S.REPORTED, S.ACCEPTED],
            S.DISPATCHED,
            CENTRES,
            ["lead_unit"],
        ),
        # 吹哨报到: only a street centre summons district departments.
        _a(
            "whistle",
            _("Whistle (summon a district department)"),
            [S.REPORTED, S.ACCEPTED],
            S.DISPATCHED,
            {Role.STREET_CENTRE},
            ["lead_unit"],
        ),
        # A returned case goes out again: to another unit, or back to the same one when the
        # centre overrules the return (the overrule counts against that unit in the review).
        _a("redispatch", _("Dispatch again"), [S.RETURNED], S.DISPATCHED, CENTRES, ["lead_unit"]),
        _a("overrule", _("Overrule the return"), [S.RETURNED], S.DISPATCHED, CENTRES, ["reason"]),
        # The lead unit.
        _a("sign", _("Sign for it"), [S.DISPATCHED], S.IN_PROGRESS, UNIT, party="lead"),
        _a("return", _("Return it"), [S.DISPATCHED], S.RETURNED, UNIT, ["reason"], party="lead"),
        _a("progress", _("Report progress"), [S.IN_PROGRESS], None, UNIT, ["note"], party="co"),
        _a(
            "handle",
            _("Report the result"),
            [S.IN_PROGRESS],
            S.HANDLED,
            UNIT,
            ["result", "evidence"],
            party="lead",
        ),
        _a(
            "request_extension",
            _("Ask for more time"),
            [S.DISPATCHED, S.IN_PROGRESS],
            None,
            UNIT,
            ["reason", "days"],
            party="lead",
        ),
        # The owning centre checks the result.
        _a("verify", _("Verify and close"), [S.HANDLED], S.CLOSED, CENTRES),
        _a(
            "rework",
            _("Verification failed: rework"),
            [S.HANDLED],
            S.IN_PROGRESS,
            CENTRES,
            ["reason"],
        ),
        _a(
            "decide_extension",
            _("Decide the extension"),
            [S.DISPATCHED, S.IN_PROGRESS],
            None,
            CENTRES,
            ["approve"],
        ),
        # After closure: the reporter (or the centre on a phone follow-up) rates it; an
        # unsatisfied rating opens a reopen request the centre decides.
        _a(
            "rate",
            _("Rate the result"),
            [S.CLOSED],
            None,
            FIELD | CENTRES,
            ["rating"],
            party="reporter",
        ),
        _a("decide_reopen", _("Decide the reopen request"), [S.CLOSED], None, CENTRES, ["approve"]),
        # Side actions.
        _a(
            "suspend",
            _("Suspend"),
            [S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.RETURNED],
            S.SUSPENDED,
            CENTRES,
            ["reason"],
        ),
        _a("resume", _("Resume"), [S.SUSPENDED], None, CENTRES),
        _a(
            "cancel",
            _("Cancel"),
            [S.REPORTED, S.ACCEPTED, S.DISPATCHED, S.RETURNED, S.SUSPENDED],
            S.CANCELLED,
            CENTRES,
            ["reason"],
        ),
        _a("mark_urgent", _("Mark urgent"), OPEN_STATES, None, CENTRES | LEADERS, party="any"),
        _a(
            "instruct",
            _("Leader instruction"),
            OPEN_STATES | FINAL_STATES,
            None,
            LEADERS,
            ["note"],
            party="any",
        ),
    ]
}


def action_for(name: str) -> Action | None:
    return ACTIONS.get(name)


def actions_from(state: str) -> list[Action]:
    return [a for a in ACTIONS.values() if state in a.sources]
