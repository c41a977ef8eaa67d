"""The register's history: every service that creates or changes a person, house or
organisation appends exactly one RecordChange with its actor, and a refused write appends
nothing. Imports append one row per record written, by the importing user."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from residents import services
from residents.models import Building, Person, RecordChange
from tests.residents.factories import id_number, make_house, make_person
from tests.residents.test_imports import _csv, _good_rows, _upload, _xlsx

pytestmark = pytest.mark.django_db


def rows():
    return list(
        RecordChange.objects.order_by("pk").values_list(
            "kind", "record_id", "grid_id", "actor_id", "action", "changed_fields"
        )
    )


def test_creating_records_appends_one_created_row_each(people, city):
    worker, grid = people["worker"], city.grids[0]
    person = services.person_create(
        data=services.PersonInput(grid=grid, name="张三", id_number=id_number()), actor=worker
    )
    assert rows() == [("person", person.pk, grid.pk, worker.pk, "created", [])]
    house = services.house_register(grid=grid, building_name="1栋", room="101", actor=worker)
    building = Building.objects.get()
    other = services.house_create(building=building, room="102", actor=worker)
    org = services.organisation_create(grid=grid, name="平安网吧", actor=worker)
    assert rows()[1:] == [
        ("house", house.pk, grid.pk, worker.pk, "created", []),
        ("house", other.pk, grid.pk, worker.pk, "created", []),
        ("organisation", org.pk, grid.pk, worker.pk, "created", []),
    ]


def test_an_update_names_the_fields_it_changed_never_their_values(people, city):
    worker, grid = people["worker"], city.grids[0]
    number = id_number()
    person = make_person(grid=grid, name="张三", number=number, phone="13812345678")
    RecordChange.objects.all().delete()
    services.person_update(
        person=person,
        data=services.PersonInput(
            grid=grid,
            name="张叁",
            id_number="",  # kept
            phone="13900001111",
            gender=person.gender,
            birth_date=person.birth_date,
            kind=person.kind,
        ),
        actor=worker,
    )
    [(kind, pk, grid_id, actor_id, action, fields)] = rows()
    assert (kind, pk, grid_id, actor_id, action) == (
        "person",
        person.pk,
        grid.pk,
        worker.pk,
        "updated",
    )
    assert sorted(fields) == ["name", "phone"]
    assert "13900001111" not in str(fields)


def test_an_update_that_changes_nothing_appends_nothing(people, city):
    person = make_person(grid=city.grids[0], name="张三", number="")
    RecordChange.objects.all().delete()
    same = services.PersonInput(
        grid=person.grid,
        name="张三",
        gender=person.gender,
        birth_date=person.birth_date,
        kind=person.kind,
    )
    services.person_update(person=person, data=same, actor=people["worker"])
    assert rows() == []


def test_a_refused_update_appends_nothing(people, city):
    person = make_person(grid=city.grids[0], name="张三")
    RecordChange.objects.all().delete()
    with pytest.raises(ValidationError):
        services.person_update(
            person=person,
            data=services.PersonInput(grid=city.grids[0], name="张叁", id_number="123"),
            actor=people["worker"],
        )
    with pytest.raises(PermissionDenied):  # another street's grid
        services.person_update(
            person=person,
            data=services.PersonInput(grid=city.grids[7], name="张叁"),
            actor=people["worker"],
        )
    with pytest.raises(ValidationError):
        services.person_create(
            data=services.PersonInput(grid=city.grids[0], name="李四", id_number="123"),
            actor=people["worker"],
        )
    assert rows() == []
    assert Person.objects.get(pk=person.pk).name == "张三"


def test_moving_to_a_home_in_another_grid_is_a_move(people, city):
    person = make_person(grid=city.grids[0])
    home = make_house(grid=city.grids[1])
    RecordChange.objects.all().delete()
    services.residence_start(person=person, house=home, relation="owner", actor=people["station"])
    assert rows() == [
        ("person", person.pk, city.grids[1].pk, people["station"].pk, "moved", ["grid"])
    ]
    # Moving into another home of the same grid changes nothing in the record.
    services.residence_start(person=person, house=make_house(grid=city.grids[1]), relation="tenant")
    assert len(rows()) == 1 + 1  # the second house's own `created` row only


def test_imports_append_one_row_per_record_by_the_importer(client, people, city):
    station, grid = people["station"], city.grids[0]
    job = _upload(client, station, "people", _xlsx(_good_rows(grid)))
    client.post(reverse("residents:import_detail", args=[job.pk]))
    people_ids = set(Person.objects.values_list("pk", flat=True))
    assert len(people_ids) == 3
    assert {(k, pk, g, a, action) for k, pk, g, a, action, _ in rows()} == {
        ("person", pk, grid.pk, station.pk, "created") for pk in people_ids
    }
    job = _upload(
        client,
        station,
        "houses",
        _csv(
            [[grid.code, "1栋", "1", "101", "自住", ""]],
            ["网格编码", "楼栋", "单元", "房号", "房屋用途", "产权人"],
        ),
    )
    client.post(reverse("residents:import_detail", args=[job.pk]))
    job = _upload(
        client,
        station,
        "organisations",
        _csv(
            [[grid.code, "平安网吧", "企业", "网吧", "13900001111"]],
            ["网格编码", "名称", "类别", "重点场所类别", "联系电话"],
        ),
    )
    client.post(reverse("residents:import_detail", args=[job.pk]))
    assert [r[0] for r in rows()[3:]] == ["house", "organisation"]
    assert all(r[3] == station.pk and r[4] == "created" for r in rows())
