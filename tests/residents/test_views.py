import logging
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from govgrid.audit.models import AuditAction, AuditEntry
from residents import services
from tests.residents.factories import group, id_number, make_house, make_person

NUMBER = id_number(birth="19650304", seq=77)
PHONE = "13712345678"


@pytest.fixture
def household(city, people):
    grid = city.grids[0]
    house = make_house(grid=grid)
    person = make_person(grid=grid, name="赵六", number=NUMBER, phone=PHONE)
    services.residence_start(person=person, house=house, relation="owner")
    for n in range(3):
        other = make_person(grid=grid, name=f"家人{n}")
        services.residence_start(person=other, house=house, relation="family")
    return house, person


def _client(client, user):
    client.force_login(user)
    return client


def _pages(house, person):
    return [
        reverse("residents:index") + "?q=赵",
        reverse("residents:person_detail", args=[person.pk]),
        reverse("residents:house_detail", args=[house.pk]),
        reverse("residents:key_persons"),
        reverse("api:person_search") + "?q=赵",
        reverse("api:key_person_list"),
    ]


def test_no_page_response_or_log_line_shows_the_full_number(client, people, household, caplog):
    house, person = household
    services.key_person_enrol(
        person=person,
        group=group("elderly_alone"),
        actor=people["station"],
        responsible=people["worker"],
    )
    caplog.set_level(logging.DEBUG)
    for user in (people["worker"], people["station"]):
        c = _client(client, user)
        for url in _pages(house, person):
            response = c.get(url)
            assert response.status_code == 200, url
            body = response.content.decode()
            assert NUMBER not in body and PHONE not in body, url
        for query in (NUMBER, PHONE):
            found = c.post(reverse("residents:index"), {"q": query}).content.decode()
            assert "赵六" in found
            assert NUMBER not in found and PHONE not in found
            api = c.post(
                reverse("api:person_search"), {"q": query}, content_type="application/json"
            )
            assert [r["name"] for r in api.json()["results"]] == ["赵六"]
            assert NUMBER not in api.content.decode()
        c.logout()
    page = (
        _client(client, people["worker"])
        .get(reverse("residents:person_detail", args=[person.pk]))
        .content.decode()
    )
    assert NUMBER[:6] + "********" + NUMBER[-4:] in page
    assert "137****5678" in page
    assert NUMBER not in caplog.text and PHONE not in caplog.text


def test_reveal_for_a_permitted_role_writes_one_audit_row(client, people, household):
    _, person = household
    c = _client(client, people["station"])
    response = c.post(reverse("residents:person_reveal", args=[person.pk, "id_number"]))
    assert response.status_code == 200
    assert response.json() == {"value": NUMBER}
    assert response["Cache-Control"] == "no-store"
    entries = list(AuditEntry.objects.filter(action=AuditAction.REVEAL))
    assert len(entries) == 1
    assert entries[0].actor == people["station"] and entries[0].ip_address == "127.0.0.1"


def test_reveal_is_refused_to_a_grid_worker_and_to_other_scopes(client, people, household, city):
    _, person = household
    c = _client(client, people["worker"])
    url = reverse("residents:person_reveal", args=[person.pk, "id_number"])
    response = c.post(url)
    assert response.status_code == 403
    assert NUMBER not in response.content.decode()
    assert c.post(reverse("api:person_reveal", args=[person.pk, "phone"])).status_code == 403
    c.logout()
    # A station of another community does not even find the person.
    from tests.factories import make_unit, make_user

    other_station = make_user(roles=["community_station"], unit=make_unit(area=city.communities[3]))
    assert _client(client, other_station).post(url).status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_house_page_query_count_is_fixed(client, people, household, django_assert_num_queries):
    house, _ = household
    c = _client(client, people["worker"])
    url = reverse("residents:house_detail", args=[house.pk])
    c.get(url)
    for n in range(5):
        services.residence_start(
            person=make_person(grid=house.grid, name=f"租客{n}"), house=house, relation="tenant"
        )
    # session, user, scope (grid posts), house, residences with people, visits, incidents
    # naming it; the nav's unread count: the same however many people live there.
    with django_assert_num_queries(7):
        response = c.get(url)
    assert response.content.decode().count("租客") == 5


def test_a_group_without_grant_is_hidden_in_page_api_export_and_search(client, people, household):
    _, person = household
    services.key_person_enrol(person=person, group=group("petition"), actor=people["station"])
    worker = _client(client, people["worker"])
    assert "信访重点人员" not in worker.get(reverse("residents:key_persons")).content.decode()
    assert worker.get(reverse("residents:key_persons") + "?group=petition").status_code == 404
    assert worker.get(reverse("api:key_person_list")).json()["results"] == []
    assert worker.get(reverse("api:key_person_list") + "?group=petition").status_code == 404
    page = worker.get(reverse("residents:person_detail", args=[person.pk])).content.decode()
    assert "信访重点人员" not in page
    worker.logout()
    station = _client(client, people["station"])
    assert "信访重点人员" in station.get(reverse("residents:key_persons")).content.decode()
    rows = station.get(reverse("api:key_person_list") + "?group=petition").json()["results"]
    assert [r["person"]["id"] for r in rows] == [person.pk]
    assert rows[0]["person"]["id_number"] == person.id_number_masked


def test_export_is_masked_scoped_and_audited(client, people, household, city):
    _, person = household
    make_person(grid=city.grids[7], name="别处的人")
    services.key_person_enrol(person=person, group=group("petition"), actor=people["station"])
    c = _client(client, people["station"])
    response = c.get(reverse("residents:export_people"))
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    text = repr(rows)
    assert NUMBER not in text and PHONE not in text
    assert person.id_number_masked in text
    assert "别处的人" not in text
    assert len(rows) == 1 + 4
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.actor == people["station"] and entry.detail["rows"] == 4
    # Grid workers cannot export at all.
    c.logout()
    assert (
        _client(client, people["worker"]).get(reverse("residents:export_people")).status_code == 403
    )


def test_unit_handlers_see_no_residents(client, people, household):
    _, person = household
    c = _client(client, people["handler"])
    assert c.get(reverse("residents:index")).status_code == 403
    assert c.get(reverse("residents:person_detail", args=[person.pk])).status_code == 403
    assert c.get(reverse("api:person_search") + "?q=赵").status_code == 403


def test_worker_records_a_visit_from_the_phone(client, people, household):
    house, person = household
    kp = services.key_person_enrol(
        person=person,
        group=group("correction"),
        actor=people["station"],
        responsible=people["worker"],
    )
    c = _client(client, people["worker"])
    centre = house.grid.boundary.centroid
    response = c.post(
        reverse("residents:visit_new"),
        {"person": person.pk, "notes": "按时报到", "lon": centre.x, "lat": centre.y},
    )
    assert response.status_code == 302
    kp.refresh_from_db()
    assert kp.last_visit_at is not None
    assert person.visits.get().is_in_grid is True


def test_adding_a_person_with_a_bad_number_shows_the_error(client, people, city):
    c = _client(client, people["worker"])
    bad = NUMBER[:17] + ("1" if NUMBER[17] != "1" else "2")
    response = c.post(
        reverse("residents:person_new"),
        {"grid": city.grids[0].pk, "name": "钱七", "kind": "registered", "id_number": bad},
    )
    assert response.status_code == 400
    assert "GB 11643" in response.content.decode() or "校验" in response.content.decode()


def test_admin_edits_grants_with_an_audit_row_and_sees_people_masked(client, people, household):
    from residents.models import KeyGroup

    _, person = household
    client.force_login(people["admin"])
    changelist = client.get(reverse("admin:residents_person_changelist"))
    assert changelist.status_code == 200
    assert person.id_number_masked in changelist.content.decode()
    assert NUMBER not in changelist.content.decode()
    page = client.get(reverse("admin:residents_person_change", args=[person.pk]))
    assert page.status_code == 200 and NUMBER not in page.content.decode()
    group_ = KeyGroup.objects.get(code="petition")
    grants = list(group_.grants.all())
    data = {
        "code": group_.code,
        "name": group_.name,
        "kind": group_.kind,
        "visit_interval_days": group_.visit_interval_days,
        "detail_fields": '[{"key": "matter", "label": "信访事项", "sensitive": true}]',
        "sort": group_.sort,
        "is_active": "on",
        "grants-TOTAL_FORMS": len(grants) + 1,
        "grants-INITIAL_FORMS": len(grants),
        "grants-MIN_NUM_FORMS": 0,
        "grants-MAX_NUM_FORMS": 1000,
    }
    for i, g in enumerate(grants):
        data |= {f"grants-{i}-id": g.pk, f"grants-{i}-group": group_.pk, f"grants-{i}-role": g.role}
    data |= {f"grants-{len(grants)}-group": group_.pk, f"grants-{len(grants)}-role": "grid_worker"}
    response = client.post(reverse("admin:residents_keygroup_change", args=[group_.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert group_.grants.filter(role="grid_worker").exists()
    entry = AuditEntry.objects.get(action=AuditAction.PERMISSION_CHANGE)
    assert entry.detail == {"granted": ["grid_worker"], "revoked": []}


def _grow(people, house, n):
    for i in range(n):
        p = make_person(grid=house.grid, name=f"重点{i}")
        services.residence_start(person=p, house=house, relation="family")
        services.key_person_enrol(
            person=p,
            group=group("elderly_alone"),
            actor=people["station"],
            responsible=people["worker"],
        )


def test_lists_and_pages_have_fixed_query_counts(
    client, people, household, django_assert_num_queries
):
    house, person = household
    services.key_person_enrol(
        person=person, group=group("drug"), actor=people["station"], responsible=people["worker"]
    )
    c = _client(client, people["worker"])
    # session+user, grants, scope, rows (+ groups, or homes/records/risk history/actors/
    # visits/incidents on the person page), the nav's unread count.
    urls = {
        reverse("residents:key_persons"): 6,
        reverse("residents:person_detail", args=[person.pk]): 11,
        reverse("api:key_person_list"): 4,
    }
    for url in urls:
        c.get(url)
    for n in (1, 4):
        _grow(people, house, n)
        for url, expected in urls.items():
            with django_assert_num_queries(expected):
                assert c.get(url).status_code == 200


def test_numbers_are_not_searched_from_urls(client, people, household):
    c = _client(client, people["station"])
    response = c.get(reverse("api:person_search") + f"?q={NUMBER}")
    assert response.status_code == 400
    page = c.get(reverse("residents:index") + f"?q={NUMBER}").content.decode()
    # Not searched (the URL itself is the caller's; the page only repeats it in the
    # language switch's return address).
    assert "赵六" not in page
    assert 'name="q" value=""' in page


def test_pii_rotate_command_reports_progress(people, household, settings):
    from io import StringIO

    from django.core.management import call_command

    from govgrid.lib import crypto
    from residents.models import Person

    new_key = "ZmRmZGZkZmRmZGZkZmRmZGZkZmRmZGZkZmRmZGZkZmQ="
    settings.GOVGRID_PII_KEYS = [new_key, *settings.GOVGRID_PII_KEYS]
    out, err = StringIO(), StringIO()
    call_command("pii_rotate", "--batch", "2", stdout=out, stderr=err)
    assert "rows re-encrypted" in out.getvalue()
    settings.GOVGRID_PII_KEYS = [new_key]
    person = Person.objects.get(name="赵六")
    assert crypto.decrypt(person.id_number_enc) == NUMBER


def test_key_person_reveal_page_answers_labelled_uncached_and_audited(client, people, household):
    _, person = household
    kp = services.key_person_enrol(
        person=person,
        group=group("mental"),
        actor=people["station"],
        details={"guardian": "李四", "diagnosis": "精神分裂症"},
    )
    url = reverse("residents:key_person_reveal", args=[kp.pk])
    # A grid worker may not reveal; nothing is written.
    assert _client(client, people["worker"]).post(url).status_code in (403, 404)
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()
    response = _client(client, people["station"]).post(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    value = response.json()["value"]
    assert "精神分裂症" in value and "：" in value  # labelled, not the raw key
    assert "diagnosis" not in value
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL).count() == 1
