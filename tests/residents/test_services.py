from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from govgrid.audit.models import AuditAction, AuditEntry
from residents import selectors, services
from residents.models import KeyGroup, KeyPerson, RiskLevelChange
from tests.residents.factories import group, id_number, make_house, make_person


@pytest.fixture
def household(city):
    grid = city.grids[0]
    house = make_house(grid=grid)
    person = make_person(grid=grid, name="张三", phone="13812345678")
    services.residence_start(person=person, house=house, relation="owner")
    return house, person


def test_reveal_writes_exactly_one_audit_row(people, household):
    _, person = household
    number = services.person_reveal(person=person, field="id_number", actor=people["station"])
    assert len(number) == 18 and "*" not in number
    rows = AuditEntry.objects.filter(action=AuditAction.REVEAL)
    assert rows.count() == 1
    row = rows.get()
    assert row.actor == people["station"]
    assert row.target == f"residents.person:{person.pk}"
    assert number not in str(row.detail)


def test_a_grid_worker_cannot_reveal(people, household):
    _, person = household
    with pytest.raises(PermissionDenied):
        services.person_reveal(person=person, field="id_number", actor=people["worker"])
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_sensitive_details_are_encrypted_and_revealed_with_audit(people, household):
    _, person = household
    kp = services.key_person_enrol(
        person=person,
        group=group("mental"),
        actor=people["station"],
        risk_level="orange",
        details={"guardian": "李四", "diagnosis": "精神分裂症"},
    )
    kp.refresh_from_db()
    assert kp.details == {"guardian": "李四"}
    assert "精神分裂症" not in kp.sensitive_enc
    assert services.key_person_reveal(key_person=kp, actor=people["station"]) == {
        "diagnosis": "精神分裂症"
    }
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL).count() == 1


def test_risk_colour_history(people, household):
    _, person = household
    kp = services.key_person_enrol(
        person=person, group=group("correction"), actor=people["station"]
    )
    services.key_person_risk_set(key_person=kp, level="red", actor=people["station"], reason="x")
    services.key_person_risk_set(key_person=kp, level="red", actor=people["station"], reason="y")
    history = list(RiskLevelChange.objects.filter(key_person=kp).order_by("at", "pk"))
    assert [(h.from_level, h.to_level) for h in history] == [("", "green"), ("green", "red")]


def test_a_visit_counts_toward_the_required_frequency(people, household):
    house, person = household
    kp = services.key_person_enrol(
        person=person,
        group=group("elderly_alone"),
        actor=people["station"],
        responsible=people["worker"],
        since=timezone.localdate() - timedelta(days=30),
    )
    assert kp in selectors.key_person_list_for_user(user=people["worker"], overdue_only=True)
    g = house.grid.boundary.centroid
    visit = services.visit_record(
        visitor=people["worker"],
        data=services.VisitInput(house=house, notes="身体好", lon=g.x, lat=g.y),
    )
    assert visit.is_in_grid is True
    assert visit.key_person == kp
    kp.refresh_from_db()
    assert kp.next_visit_due == timezone.localdate() + timedelta(days=7)
    assert kp not in selectors.key_person_list_for_user(user=people["worker"], overdue_only=True)
    # A position outside the house's grid is kept and flagged.
    far = services.visit_record(
        visitor=people["worker"], data=services.VisitInput(person=person, lon=100.0, lat=20.0)
    )
    assert far.is_in_grid is False


def test_a_worker_sees_only_their_grid_and_unit_handlers_see_nobody(people, city):
    mine = make_person(grid=city.grids[0], name="王一")
    other = make_person(grid=city.grids[1], name="王二")
    assert list(selectors.person_search_for_user(user=people["worker"], query="王")) == [mine]
    assert set(selectors.person_search_for_user(user=people["station"], query="王")) == {
        mine,
        other,
    }
    assert list(selectors.person_search_for_user(user=people["handler"], query="王")) == []


def test_a_group_without_a_grant_is_invisible(people, city):
    person = make_person(grid=city.grids[0])
    kp = services.key_person_enrol(person=person, group=group("petition"), actor=people["station"])
    assert kp in selectors.key_person_list_for_user(user=people["station"])
    assert kp not in selectors.key_person_list_for_user(user=people["worker"])
    detail = selectors.person_get_for_user(user=people["worker"], person_id=person.pk)
    assert list(detail.key_records.all()) == []
    with pytest.raises(PermissionDenied):
        services.key_person_enrol(person=person, group=group("petition"), actor=people["worker"])
    # Granting the group to grid workers (admin-editable) opens it.
    KeyGroup.objects.get(code="petition").grants.create(role="grid_worker")
    worker = type(people["worker"]).objects.get(pk=people["worker"].pk)
    assert kp in selectors.key_person_list_for_user(user=worker)
    assert KeyPerson.objects.count() == 1


def test_search_by_identity_number_is_exact_and_scoped(people, city):
    number = id_number()
    person = make_person(grid=city.grids[1], number=number)
    assert list(selectors.person_search_for_user(user=people["station"], query=number)) == [person]
    assert list(selectors.person_search_for_user(user=people["station"], query=number[:10])) == []
    assert list(selectors.person_search_for_user(user=people["worker"], query=number)) == []


def test_homes_past_and_present(people, city):
    person = make_person(grid=city.grids[0])
    old, new = make_house(grid=city.grids[0]), make_house(grid=city.grids[0])
    first = services.residence_start(
        person=person,
        house=old,
        relation="tenant",
        since=timezone.localdate() - timedelta(days=400),
    )
    services.residence_end(residence=first)
    services.residence_start(person=person, house=new, relation="owner")
    detail = selectors.person_get_for_user(user=people["station"], person_id=person.pk)
    homes = [(r.house_id, r.is_current) for r in detail.residences.all()]
    assert homes == [(new.pk, True), (old.pk, False)]
    house = selectors.house_get_for_user(user=people["station"], house_id=old.pk)
    assert [r.person_id for r in house.residences.all()] == [person.pk]


def test_a_visit_during_a_patrol_is_linked_to_it(people, household):
    from grids.patrols import patrol_start, patrol_stop

    house, person = household
    g = house.grid.boundary.centroid
    patrol = patrol_start(worker=people["worker"], grid=house.grid)
    during = services.visit_record(
        visitor=people["worker"],
        data=services.VisitInput(house=house, notes="巡查中入户", lon=g.x, lat=g.y),
    )
    assert during.patrol_id == patrol.pk
    patrol_stop(patrol=patrol, worker=people["worker"])
    after = services.visit_record(
        visitor=people["worker"], data=services.VisitInput(person=person, lon=g.x, lat=g.y)
    )
    assert after.patrol_id is None
