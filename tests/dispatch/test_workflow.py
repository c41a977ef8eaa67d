"""The closed loop walked edge by edge against the declared table in dispatch.workflow.

Every incident is brought into its state through the services (report as the grid worker,
then accept, dispatch, sign, ... as the right users), never by setting fields by hand.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation

from dispatch import calendar
from dispatch.models import AssignmentRole, AssignmentState, ExtensionState, RoutingRule
from dispatch.selectors import incident_get_for_user, triage_inbox
from dispatch.services import allowed_actions, incident_act, supervision_responder
from dispatch.workflow import ACTIONS, STATES, State, actions_from
from govgrid.accounts.models import Role, UnitKind
from govgrid.lib.errors import DomainError
from incidents.models import AttachmentKind, Category, Incident, Rating, Urgency
from incidents.services import ReportInput, incident_report
from tests import conftest, factories

pytestmark = pytest.mark.django_db

S = State

# How a fresh incident reaches each state: the state before it and the action that leads on.
PATH = {
    S.ACCEPTED: (S.REPORTED, "accept"),
    S.REJECTED: (S.REPORTED, "reject"),
    S.DISPATCHED: (S.ACCEPTED, "dispatch"),
    S.IN_PROGRESS: (S.DISPATCHED, "sign"),
    S.RETURNED: (S.DISPATCHED, "return"),
    S.HANDLED: (S.IN_PROGRESS, "handle"),
    S.CLOSED: (S.HANDLED, "verify"),
    S.SUSPENDED: (S.IN_PROGRESS, "suspend"),
    S.CANCELLED: (S.REPORTED, "cancel"),
}
# The state each action is tried from when the state itself is not the point of the test.
HOME_ORDER = [
    S.REPORTED,
    S.ACCEPTED,
    S.DISPATCHED,
    S.IN_PROGRESS,
    S.RETURNED,
    S.HANDLED,
    S.CLOSED,
    S.SUSPENDED,
    S.REJECTED,
    S.CANCELLED,
]
FIELD_VALUES = {
    "reason": "现场核实情况不符",
    "note": "已联系当事人",
    "result": "已当场处置完毕",
    "days": 2,
    "rating": Rating.SATISFIED,
    "level": "yellow",
    "reply_days": 3,
}

ROLE_REFUSED = "Your role may not do this."
PARTY_REFUSED = "This incident is not your unit's to act on."


def home(action: str) -> str:
    return next(s for s in HOME_ORDER if s in ACTIONS[action].sources)


def evidence() -> list:
    photo = SimpleUploadedFile("evidence.jpg", b"\xff\xd8\xff\xe0 evidence", "image/jpeg")
    return [(photo, "image/jpeg")]


def snapshot(incident: Incident) -> dict:
    """Everything an action may touch, read fresh from the database."""
    i = Incident.objects.get(pk=incident.pk)
    return {
        "state": i.state,
        "owner": i.owner_unit_id,
        "lead": i.lead_unit_id,
        "phase": i.phase,
        "deadline": i.deadline_at,
        "urgency": i.urgency,
        "rating": i.rating,
        "reopen": i.reopen_requested,
        "events": i.events.count(),
        "assignments": list(i.assignments.values_list("unit_id", "role", "state")),
        "extensions": list(i.extension_requests.values_list("state", flat=True)),
    }


class Loop:
    """Brings fresh incidents into any state through the services, as the right users."""

    def __init__(self, city, people):
        self.city = city
        self.people = people
        self.units = people["units"]
        self.category = Category.objects.filter(
            parent__isnull=False, handling_level=3, deadline_unit="workday"
        ).first()
        self.point = city.grids[0].boundary.point_on_surface

        # Units beyond the conftest's, for co-units, whistles and outsiders.
        street, district = self.units["street"], self.units["district"]
        self.co_department = factories.make_unit(
            area=city.streets[0], kind=UnitKind.DEPARTMENT, name="市场监管所", parent=street
        )
        self.co_handler = factories.make_user(roles=[Role.UNIT_HANDLER], unit=self.co_department)
        self.district_department = factories.make_unit(
            area=city.district, kind=UnitKind.DEPARTMENT, name="区住建局", parent=district
        )
        self.other_street_centre = factories.make_unit(
            area=city.streets[1], name="街道2综治中心", parent=district
        )
        self.other_department = factories.make_unit(
            area=city.streets[1],
            kind=UnitKind.DEPARTMENT,
            name="街道2城管中队",
            parent=self.other_street_centre,
        )

    # Doing things.

    def report(self, *, actor=None, **overrides) -> Incident:
        data = ReportInput(
            category=self.category,
            description="小区门口路灯损坏",
            lon=self.point.x,
            lat=self.point.y,
            **overrides,
        )
        return incident_report(data=data, actor=actor or self.people["worker"])

    def bring(self, state: str, **report) -> Incident:
        if state == S.REPORTED:
            incident = self.report(**report)
        else:
            before, action = PATH[state]
            incident = self.act(self.bring(before, **report), action)
        assert incident.state == state
        return incident

    def actor(self, action: str, incident: Incident):
        spec = ACTIONS[action]
        if action == "instruct":
            return self.people["leader"]
        if spec.party == "reporter":
            return self.people["worker"]
        if action == "supervision_reply":
            # Whoever holds the case answers: the lead unit, or the owning centre.
            unit_id, _roles = supervision_responder(incident)
            if unit_id == self.units["department"].pk:
                return self.people["handler"]
            if unit_id == self.co_department.pk:
                return self.co_handler
            return self.owner_user(incident)
        if Role.UNIT_HANDLER in spec.roles:
            return self.people["handler"]
        return self.owner_user(incident)

    def owner_user(self, incident: Incident):
        for key in ("street", "district", "station"):
            if self.units[key].pk == incident.owner_unit_id:
                return self.people[key]
        raise AssertionError("the incident belongs to no centre of the fixture")

    def fields(self, action: str, incident: Incident) -> dict:
        """The action's required fields, filled with values that make it succeed."""
        out = {}
        for name in ACTIONS[action].requires:
            if name == "lead_unit":
                # A returned case goes to another unit (back to the same one is an overrule).
                out[name] = {
                    "whistle": self.district_department,
                    "redispatch": self.co_department,
                }.get(action, self.units["department"])
            elif name == "duplicate_of":
                out[name] = self.report()
            elif name == "evidence":
                out[name] = evidence()
            elif name == "approve":
                # A refused reopen leaves the incident closed; the approval is tested below.
                out[name] = action != "decide_reopen"
            else:
                out[name] = FIELD_VALUES[name]
        if action == "dispatch":
            out["co_units"] = [self.co_department]
        return out

    def prepare(self, action: str, incident: Incident) -> None:
        """What must wait on the incident before a decision can be taken on it."""
        if action == "decide_extension":
            self.act(incident, "request_extension")
        elif action == "decide_reopen":
            self.act(incident, "rate", rating=Rating.UNSATISFIED)
        elif action == "supervision_reply":
            self.act(incident, "supervise", actor=self.people["leader"])

    def act(self, incident: Incident, action: str, *, actor=None, **fields) -> Incident:
        fields = {**self.fields(action, incident), **fields}
        return incident_act(
            incident_id=incident.pk,
            action=action,
            actor=actor or self.actor(action, incident),
            **fields,
        )


@pytest.fixture(autouse=True)
def _messages_untranslated():
    # The services translate their messages; compare them with the msgids.
    with translation.override(None):
        yield


# The city, its people and one incident per state are built once for the module, inside a
# transaction rolled back at its end; every test runs in a savepoint inside it (pytest-django's
# db fixture), so each test still starts from fresh incidents and undoes what it did. Building
# them once keeps the walk over ACTIONS x STATES fast.


@pytest.fixture(scope="module")
def _module_transaction(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def city(_module_transaction):
    return factories.build_city()


@pytest.fixture(scope="module")
def people(city):
    # The conftest's fixture, at module scope.
    return conftest.people.__wrapped__(city)


@pytest.fixture(scope="module")
def loop(city, people) -> Loop:
    return Loop(city, people)


@pytest.fixture(scope="module")
def _brought(loop) -> dict[str, int]:
    with translation.override(None):
        return {state: loop.bring(state).pk for state in STATES}


@pytest.fixture
def fresh(_brought):
    """An incident in the given state, untouched by earlier tests (they rolled back)."""

    def get(state: str) -> Incident:
        return Incident.objects.select_related("owner_unit").get(pk=_brought[state])

    return get


# --------------------------------------------------------------------------------------
# The table: every (action, state) pair
# --------------------------------------------------------------------------------------

PAIRS = [(a, s) for a in ACTIONS for s in STATES]


@pytest.mark.parametrize(("action", "state"), PAIRS, ids=[f"{a}-{s}" for a, s in PAIRS])
def test_action_from_state(loop, fresh, action, state):
    spec = ACTIONS[action]
    incident = fresh(state)
    if state in spec.sources:
        loop.prepare(action, incident)
        incident.refresh_from_db()
        events = incident.events.count()
        expected = spec.target or (incident.suspended_state if action == "resume" else state)

        result = loop.act(incident, action)

        assert result.state == expected
        assert Incident.objects.get(pk=incident.pk).state == expected
        assert incident.events.count() == events + 1
        event = incident.events.order_by("-pk").first()
        assert (event.action, event.from_state) == (action, state)
        assert event.to_state == ("" if expected == state else expected)
        assert event.actor == loop.actor(action, incident)
    else:
        fields = loop.fields(action, incident)
        before = snapshot(incident)
        with pytest.raises(DomainError, match="not possible while") as exc:
            incident_act(
                incident_id=incident.pk,
                action=action,
                actor=loop.actor(action, incident),
                **fields,
            )
        assert exc.value.code == "not_allowed"
        assert snapshot(incident) == before


@pytest.mark.parametrize("state", sorted(ACTIONS["suspend"].sources))
def test_resume_returns_to_the_state_it_was_suspended_in(loop, fresh, state):
    incident = loop.act(fresh(state), "suspend")
    assert (incident.state, incident.suspended_state) == (S.SUSPENDED, state)
    incident = loop.act(incident, "resume")
    assert (incident.state, incident.suspended_state) == (state, "")


@pytest.mark.parametrize("state", STATES)
def test_allowed_actions_follow_the_table(loop, fresh, state):
    incident = fresh(state)
    users = [loop.people[k] for k in ("street", "handler", "worker", "leader")]
    offered = {a.name for u in users for a in allowed_actions(user=u, incident=incident)}
    # Decisions need something to decide: no extension or reopen request waits here, and
    # no supervision waits for a reply.
    expected = {a.name for a in actions_from(state)} - {
        "decide_extension",
        "decide_reopen",
        "supervision_reply",
    }
    assert offered == expected


# --------------------------------------------------------------------------------------
# Who may fire each action
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(ACTIONS))
def test_roles_not_in_the_action_are_refused(loop, fresh, action):
    spec = ACTIONS[action]
    incident = fresh(home(action))
    loop.prepare(action, incident)
    right = loop.actor(action, incident)
    fields = loop.fields(action, incident)
    before = snapshot(incident)
    refused = [r for r in Role.values if r not in spec.roles]
    assert refused
    for role in refused:
        # Same unit as the right user: only the role differs.
        user = factories.make_user(roles=[role], unit=right.unit)
        with pytest.raises(DomainError) as exc:
            incident_act(incident_id=incident.pk, action=action, actor=user, **fields)
        assert (exc.value.code, exc.value.message) == ("not_allowed", ROLE_REFUSED), role
    assert snapshot(incident) == before
    # The same setup lets the right user through: the refusals were about the role.
    incident_act(incident_id=incident.pk, action=action, actor=right, **fields)


def _outsiders(loop: Loop, action: str) -> list:
    """Users holding an allowed role who are not a party to the incident."""
    spec = ACTIONS[action]
    make = factories.make_user
    if spec.party == "owner":
        candidates = [
            make(roles=[Role.STREET_CENTRE], unit=loop.other_street_centre),
            # The station below and the district centre above do not own it either.
            make(roles=[Role.COMMUNITY_STATION], unit=loop.units["station"]),
            make(roles=[Role.DISTRICT_CENTRE], unit=loop.units["district"]),
        ]
    elif spec.party == "lead":
        candidates = [
            make(roles=[Role.UNIT_HANDLER], unit=loop.other_department),
            loop.co_handler,  # a co-unit is not the lead
        ]
    elif spec.party == "co":
        candidates = [
            make(roles=[Role.UNIT_HANDLER], unit=loop.other_department),
            make(roles=[Role.UNIT_HANDLER], unit=loop.district_department),
        ]
    elif spec.party == "reporter":
        other_station = factories.make_unit(
            area=loop.city.communities[2], name="街道2社区工作站", parent=loop.other_street_centre
        )
        candidates = [
            make(roles=[Role.GRID_WORKER], unit=other_station),
            loop.people["gridleader"],  # same station, but not the reporter
            make(roles=[Role.STREET_CENTRE], unit=loop.other_street_centre),
            loop.people["station"],  # a centre, but not the owning one
        ]
    else:
        raise AssertionError(spec.party)
    return [u for u in candidates if u.has_role(*spec.roles)]


PARTY_ACTIONS = [a for a, spec in ACTIONS.items() if spec.party != "any"]


@pytest.mark.parametrize("action", PARTY_ACTIONS)
def test_allowed_role_of_another_unit_is_refused(loop, fresh, action):
    incident = fresh(home(action))
    loop.prepare(action, incident)
    fields = loop.fields(action, incident)
    before = snapshot(incident)
    outsiders = _outsiders(loop, action)
    assert outsiders
    for user in outsiders:
        with pytest.raises(DomainError) as exc:
            incident_act(incident_id=incident.pk, action=action, actor=user, **fields)
        assert (exc.value.code, exc.value.message) == ("not_allowed", PARTY_REFUSED), user
    assert snapshot(incident) == before
    incident_act(
        incident_id=incident.pk, action=action, actor=loop.actor(action, incident), **fields
    )


def test_progress_is_open_to_the_co_unit(loop, fresh):
    incident = fresh(S.IN_PROGRESS)
    loop.act(incident, "progress", actor=loop.co_handler)
    assert incident.events.order_by("-pk").first().unit == loop.co_department


def test_actions_open_to_any_party_leave_scope_to_the_caller(loop, fresh):
    """mark_urgent and instruct ("any"): the service takes anyone; the view's scope decides."""
    incident = fresh(S.ACCEPTED)
    outsider = factories.make_user(roles=[Role.LEADER], unit=loop.other_street_centre)
    with pytest.raises(Http404):
        incident_get_for_user(user=outsider, pk=incident.pk)
    assert incident_get_for_user(user=loop.people["leader"], pk=incident.pk) == incident


# --------------------------------------------------------------------------------------
# Required fields
# --------------------------------------------------------------------------------------

REQUIRED = [(a, f) for a, spec in ACTIONS.items() for f in spec.requires]


@pytest.mark.parametrize(("action", "field"), REQUIRED, ids=[f"{a}-{f}" for a, f in REQUIRED])
def test_a_missing_required_field_is_named(loop, fresh, action, field):
    incident = fresh(home(action))
    loop.prepare(action, incident)
    fields = loop.fields(action, incident)
    actor = loop.actor(action, incident)
    before = snapshot(incident)
    for blank in ("absent", None, "", []):
        attempt = {k: v for k, v in fields.items() if k != field}
        if blank != "absent":
            attempt[field] = blank
        with pytest.raises(DomainError) as exc:
            incident_act(incident_id=incident.pk, action=action, actor=actor, **attempt)
        assert exc.value.code == "required"
        assert exc.value.message == f"“{field}” is required for this action."
    assert snapshot(incident) == before
    incident_act(incident_id=incident.pk, action=action, actor=actor, **fields)


# --------------------------------------------------------------------------------------
# Side effects
# --------------------------------------------------------------------------------------


def _assignments(incident: Incident) -> list[tuple]:
    return list(incident.assignments.order_by("pk").values_list("unit_id", "role", "state"))


def test_dispatch_creates_lead_and_co_assignments(loop, fresh):
    department = loop.units["department"]
    incident = fresh(S.ACCEPTED)
    # The lead named again among the co-units is not assigned twice.
    incident = loop.act(incident, "dispatch", co_units=[loop.co_department, department])
    assert _assignments(incident) == [
        (department.pk, AssignmentRole.LEAD, AssignmentState.PENDING),
        (loop.co_department.pk, AssignmentRole.CO, AssignmentState.PENDING),
    ]
    assert {a.signin_deadline_at for a in incident.assignments.all()} == {incident.deadline_at}
    assert (incident.lead_unit, incident.phase) == (department, "signin")
    assert incident.events.order_by("-pk").first().data["lead_unit"] == department.pk


def test_dispatch_to_the_own_centre_is_refused(loop, fresh):
    incident = fresh(S.ACCEPTED)
    before = snapshot(incident)
    with pytest.raises(DomainError) as exc:
        loop.act(incident, "dispatch", lead_unit=loop.units["street"])
    assert exc.value.code == "unit"
    assert snapshot(incident) == before


def test_return_marks_the_lead_assignment_returned(loop, fresh):
    department = loop.units["department"]
    incident = loop.act(fresh(S.DISPATCHED), "return")
    assert _assignments(incident) == [
        (department.pk, AssignmentRole.LEAD, AssignmentState.RETURNED),
        (loop.co_department.pk, AssignmentRole.CO, AssignmentState.WITHDRAWN),
    ]
    assert (incident.phase, incident.deadline_at) == ("", None)
    assert incident.lead_unit == department  # the centre may overrule it back to them


def test_overrule_dispatches_to_the_same_unit_again(loop, fresh):
    department = loop.units["department"]
    incident = loop.act(fresh(S.RETURNED), "overrule")
    assert (incident.state, incident.lead_unit, incident.phase) == (
        S.DISPATCHED,
        department,
        "signin",
    )
    leads = incident.assignments.filter(role=AssignmentRole.LEAD).order_by("pk")
    assert [(a.unit_id, a.state) for a in leads] == [
        (department.pk, AssignmentState.RETURNED),
        (department.pk, AssignmentState.PENDING),
    ]
    event = incident.events.order_by("-pk").first()
    assert event.data["overruled"] is True
    assert event.data["lead_unit"] == department.pk
    # The unit has to sign for it again.
    assert loop.act(incident, "sign").state == S.IN_PROGRESS


def test_duplicate_links_both_timelines(loop, fresh):
    original = loop.report()
    copy = fresh(S.ACCEPTED)
    copy = loop.act(copy, "duplicate", duplicate_of=original.pk)
    assert (copy.state, copy.duplicate_of) == (S.REJECTED, original)
    assert copy.events.order_by("-pk").first().data["duplicate_of"] == original.pk
    linked = original.events.get(action="duplicate_linked")
    assert (linked.note, linked.data) == (copy.number, {"duplicate": copy.pk})
    original.refresh_from_db()
    assert original.state == S.REPORTED  # the original goes on


def test_an_incident_is_not_its_own_duplicate(loop):
    incident = loop.report()
    before = snapshot(incident)
    with pytest.raises(DomainError) as exc:
        loop.act(incident, "duplicate", duplicate_of=incident)
    assert exc.value.code == "duplicate_of"
    assert snapshot(incident) == before


def test_escalate_hands_the_incident_to_the_parent_centre(loop, fresh):
    incident = loop.act(fresh(S.RETURNED), "escalate")
    assert (incident.state, incident.owner_unit, incident.lead_unit) == (
        S.REPORTED,
        loop.units["district"],
        None,
    )
    assert incident.events.order_by("-pk").first().data == {
        "from_unit": loop.units["street"].pk,
        "to_unit": loop.units["district"].pk,
    }
    # The street centre no longer owns it; the district centre does.
    with pytest.raises(DomainError, match=PARTY_REFUSED):
        loop.act(incident, "accept", actor=loop.people["street"])
    # Nothing is above the district centre.
    with pytest.raises(DomainError) as exc:
        loop.act(incident, "escalate", actor=loop.people["district"])
    assert exc.value.code == "escalate"
    assert loop.act(incident, "accept", actor=loop.people["district"]).state == S.ACCEPTED


@pytest.mark.parametrize("unit", ["department", "district"])
def test_whistle_summons_only_a_district_department(loop, fresh, unit):
    incident = fresh(S.ACCEPTED)
    before = snapshot(incident)
    with pytest.raises(DomainError) as exc:
        loop.act(incident, "whistle", lead_unit=loop.units[unit])
    assert exc.value.code == "unit"
    assert snapshot(incident) == before


def test_whistle_sets_a_short_signin_deadline(loop, fresh, settings):
    settings.WHISTLE_SIGNIN_HOURS = 3
    incident = fresh(S.ACCEPTED)
    now = timezone.now()
    incident = incident_act(
        incident_id=incident.pk,
        action="whistle",
        actor=loop.people["street"],
        now=now,
        lead_unit=loop.district_department,
    )
    assert (incident.state, incident.lead_unit) == (S.DISPATCHED, loop.district_department)
    assert incident.deadline_at == now + timedelta(hours=3)
    lead = incident.assignments.get()
    assert (lead.is_whistle, lead.signin_deadline_at) == (True, incident.deadline_at)
    assert incident.events.order_by("-pk").first().data["whistle"] is True


def test_whistle_is_for_street_centres_only(loop, fresh):
    incident = loop.act(fresh(S.RETURNED), "escalate")
    with pytest.raises(DomainError, match=ROLE_REFUSED):
        loop.act(incident, "whistle", actor=loop.people["district"])


def test_a_self_handled_report_waits_for_verification(loop):
    incident = loop.report(is_self_handled=True, result="已当场劝离", evidence=evidence())
    assert (incident.state, incident.lead_unit, incident.result) == (
        S.HANDLED,
        None,
        "已当场劝离",
    )
    assert incident.phase == "verify"
    assert incident.deadline_at == calendar.deadline_for(
        incident.reported_at, loop.category.verify_limit, "workday"
    )
    assert list(incident.events.values_list("action", "to_state")) == [
        ("report", S.REPORTED),
        ("self_handle", S.HANDLED),
    ]
    assert incident.attachments.filter(kind=AttachmentKind.EVIDENCE).count() == 1
    # A failed check sends it to the centre's desk to be dispatched.
    incident = loop.act(incident, "rework")
    assert (incident.state, incident.phase) == (S.ACCEPTED, "")


def test_a_self_handled_report_needs_result_and_evidence(loop):
    count = Incident.objects.count()
    with pytest.raises(DomainError) as exc:
        loop.report(is_self_handled=True, result="已当场劝离")
    assert exc.value.code == "self_handled"
    assert Incident.objects.count() == count


def test_an_unsatisfied_rating_can_reopen_the_incident(loop, fresh):
    incident = fresh(S.CLOSED)
    incident = loop.act(incident, "rate", rating=Rating.UNSATISFIED)
    assert (incident.state, incident.reopen_requested) == (S.CLOSED, True)
    assert "decide_reopen" in {
        a.name for a in allowed_actions(user=loop.people["street"], incident=incident)
    }
    with pytest.raises(DomainError, match="rated already"):
        loop.act(incident, "rate", rating=Rating.SATISFIED)

    incident = loop.act(incident, "decide_reopen", approve=True)
    assert (incident.state, incident.reopen_requested, incident.rating) == (
        S.IN_PROGRESS,
        False,
        "",
    )
    assert (incident.closed_at, incident.phase) == (None, "handle")
    lead = incident.assignments.get(role=AssignmentRole.LEAD)
    assert lead.state == AssignmentState.SIGNED
    assert loop.act(incident, "handle").state == S.HANDLED


def test_a_satisfied_rating_asks_for_nothing(loop, fresh):
    incident = loop.act(fresh(S.CLOSED), "rate", rating=Rating.SATISFIED)
    assert (incident.rating, incident.reopen_requested) == (Rating.SATISFIED, False)
    with pytest.raises(DomainError, match="No reopen request"):
        loop.act(incident, "decide_reopen", approve=True)


def _rule(loop, **kwargs) -> RoutingRule:
    rule = RoutingRule.objects.create(name="路灯报修", auto_dispatch=True, **kwargs)
    rule.categories.add(loop.category.parent)
    return rule


def test_an_auto_dispatch_rule_dispatches_on_report(loop):
    department = loop.units["department"]
    closed_unit = factories.make_unit(
        area=loop.city.streets[0], kind=UnitKind.DEPARTMENT, parent=loop.units["street"]
    )
    closed_unit.is_active = False
    closed_unit.save()
    rule = _rule(loop, lead_unit=department, handle_limit=3)
    rule.co_units.add(loop.co_department, closed_unit)

    incident = loop.report()

    assert (incident.state, incident.lead_unit, incident.phase) == (
        S.DISPATCHED,
        department,
        "signin",
    )
    assert _assignments(incident) == [
        (department.pk, AssignmentRole.LEAD, AssignmentState.PENDING),
        (loop.co_department.pk, AssignmentRole.CO, AssignmentState.PENDING),
    ]
    event = incident.events.order_by("-pk").first()
    assert (event.action, event.actor, event.to_state) == ("dispatch", None, S.DISPATCHED)
    assert event.data["rule"] == rule.pk
    # The rule's handling limit replaces the category's once the unit signs.
    now = timezone.now()
    incident = incident_act(
        incident_id=incident.pk, action="sign", actor=loop.people["handler"], now=now
    )
    assert incident.deadline_at == calendar.deadline_for(now, 3, "workday")


def test_a_rule_without_auto_dispatch_only_suggests(loop):
    RoutingRule.objects.create(name="路灯报修", lead_unit=loop.units["department"])
    assert loop.report().state == S.REPORTED


def test_a_rule_pointing_at_an_inactive_unit_is_skipped(loop):
    closed_unit = factories.make_unit(
        area=loop.city.streets[0], kind=UnitKind.DEPARTMENT, parent=loop.units["street"]
    )
    closed_unit.is_active = False
    closed_unit.save()
    _rule(loop, lead_unit=closed_unit, priority=1)
    assert loop.report().state == S.REPORTED

    _rule(loop, lead_unit=loop.co_department, priority=2)
    incident = loop.report()
    assert (incident.state, incident.lead_unit) == (S.DISPATCHED, loop.co_department)


def test_a_pending_extension_can_be_decided_once(loop, fresh):
    incident = loop.act(fresh(S.IN_PROGRESS), "request_extension", days=3)
    with pytest.raises(DomainError) as exc:
        loop.act(incident, "request_extension", days=1)
    assert exc.value.code == "not_allowed"
    assert "already waiting" in exc.value.message
    loop.act(incident, "decide_extension", approve=False)
    assert incident.extension_requests.get().state == ExtensionState.REFUSED
    with pytest.raises(DomainError, match="No extension request"):
        loop.act(incident, "decide_extension", approve=True)


@pytest.mark.parametrize("days", [0, 31])
def test_an_extension_asks_for_one_to_thirty_days(loop, fresh, days):
    incident = fresh(S.IN_PROGRESS)
    with pytest.raises(DomainError) as exc:
        loop.act(incident, "request_extension", days=days)
    assert exc.value.code == "days"
    assert not incident.extension_requests.exists()


def test_mark_urgent_once(loop, fresh):
    incident = loop.act(fresh(S.ACCEPTED), "mark_urgent")
    assert incident.urgency == Urgency.URGENT
    with pytest.raises(DomainError) as exc:
        loop.act(incident, "mark_urgent")
    assert exc.value.code == "not_allowed"
    assert "already urgent" in exc.value.message


# --------------------------------------------------------------------------------------
# Bugs found while walking the table, now fixed
# --------------------------------------------------------------------------------------


def test_a_pending_extension_request_ends_with_its_phase(loop, fresh):
    incident = loop.act(fresh(S.IN_PROGRESS), "request_extension", days=5)
    incident = loop.act(incident, "handle")
    with pytest.raises(DomainError, match="not possible while"):
        loop.act(incident, "decide_extension", approve=True)
    assert incident.extension_requests.get().state == ExtensionState.LAPSED
    assert incident not in triage_inbox(user=loop.people["street"])["extension_requests"]
    assert not incident.extension_requests.filter(state=ExtensionState.PENDING).exists()


def test_allowed_actions_do_not_offer_mark_urgent_twice(loop, fresh):
    incident = loop.act(fresh(S.ACCEPTED), "mark_urgent")
    offered = {a.name for a in allowed_actions(user=loop.people["street"], incident=incident)}
    assert "mark_urgent" not in offered


def test_allowed_actions_do_not_offer_a_second_extension_request(loop, fresh):
    incident = loop.act(fresh(S.IN_PROGRESS), "request_extension")
    offered = {a.name for a in allowed_actions(user=loop.people["handler"], incident=incident)}
    assert "request_extension" not in offered


def test_redispatch_to_the_unit_that_returned_it_must_be_an_overrule(loop, fresh):
    incident = fresh(S.RETURNED)
    with pytest.raises(DomainError) as exc:
        loop.act(incident, "redispatch", lead_unit=loop.units["department"])
    assert exc.value.code == "unit"
    incident.refresh_from_db()
    assert incident.state == S.RETURNED
