"""Editing records, enrolment in groups, moving out, organisations."""

from django.urls import reverse

from govgrid.lib import crypto
from residents import services
from residents.models import KeyPerson, Organisation, Person, Residence
from tests.residents.factories import group, id_number, make_house, make_person


def test_editing_keeps_the_sealed_number_unless_a_new_one_is_given(client, people, city):
    number = id_number()
    person = make_person(grid=city.grids[0], number=number, phone="13600001111")
    client.force_login(people["worker"])
    page = client.get(reverse("residents:person_edit", args=[person.pk])).content.decode()
    assert number not in page and person.id_number_masked in page
    data = {"grid": city.grids[0].pk, "name": "改名", "kind": "floating", "id_number": ""}
    assert client.post(reverse("residents:person_edit", args=[person.pk]), data).status_code == 302
    person.refresh_from_db()
    assert person.name == "改名" and person.kind == "floating"
    assert crypto.decrypt(person.id_number_enc) == number
    assert person.phone_masked == "136****1111"
    new = id_number()
    client.post(reverse("residents:person_edit", args=[person.pk]), data | {"id_number": new})
    person.refresh_from_db()
    assert crypto.decrypt(person.id_number_enc) == new
    assert list(Person.objects.with_id_number(new)) == [person]
    # Another person's number is refused.
    other = make_person(grid=city.grids[0])
    taken = crypto.decrypt(other.id_number_enc)
    response = client.post(
        reverse("residents:person_edit", args=[person.pk]), data | {"id_number": taken}
    )
    assert response.status_code == 400
    assert taken not in response.content.decode()


def test_enrolment_with_type_specific_and_sensitive_fields(client, people, city):
    person = make_person(grid=city.grids[0])
    client.force_login(people["station"])
    url = reverse("residents:key_person_enrol", args=[person.pk])
    page = client.get(url + "?group=drug").content.decode()
    assert 'name="detail_drug_history"' in page and 'name="detail_state"' in page
    response = client.post(
        url,
        {
            "group": "drug",
            "risk_level": "orange",
            "visit_interval_days": 10,
            "responsible": people["worker"].pk,
            "detail_state": "停吸",
            "detail_drug_history": "曾吸食冰毒",
        },
    )
    assert response.status_code == 302
    kp = KeyPerson.objects.get(person=person)
    assert kp.details == {"state": "停吸"} and "冰毒" not in kp.sensitive_enc
    assert kp.visit_interval_days == 10 and kp.responsible == people["worker"]
    detail = client.get(reverse("residents:person_detail", args=[person.pk])).content.decode()
    assert "吸毒状态" in detail and "停吸" in detail and "冰毒" not in detail


def test_a_group_not_granted_cannot_be_chosen(client, people, city):
    person = make_person(grid=city.grids[0])
    client.force_login(people["worker"])
    url = reverse("residents:key_person_enrol", args=[person.pk])
    assert "petition" not in client.get(url).content.decode()
    client.post(url, {"group": "petition", "risk_level": "red", "visit_interval_days": 7})
    assert not KeyPerson.objects.exists()


def test_moving_out_and_moving_to_another_grid(client, people, city):
    house = make_house(grid=city.grids[0])
    person = make_person(grid=city.grids[0], name="搬家的人")
    residence = services.residence_start(person=person, house=house, relation="tenant")
    kp = services.key_person_enrol(
        person=person,
        group=group("released"),
        actor=people["station"],
        responsible=people["worker"],
    )
    client.force_login(people["worker"])
    assert client.post(reverse("residents:residence_end", args=[residence.pk])).status_code == 302
    residence.refresh_from_db()
    assert residence.until is not None
    page = client.get(reverse("residents:house_detail", args=[house.pk])).content.decode()
    assert "搬家的人" in page
    # A new home in a grid the worker does not staff: the person and their record move.
    other = make_house(grid=city.grids[1])
    services.residence_start(person=person, house=other, relation="tenant")
    person.refresh_from_db()
    kp.refresh_from_db()
    assert person.grid == city.grids[1] and kp.grid == city.grids[1]
    assert kp.responsible is None
    assert client.get(reverse("residents:person_detail", args=[person.pk])).status_code == 404
    assert Residence.objects.filter(person=person).count() == 2


def test_organisation_page_and_report_naming_it(client, people, city):
    org = services.organisation_create(
        grid=city.grids[0],
        name="平安网吧",
        phone="13900001111",
        place_kind="网吧",
        is_key_place=True,
    )
    client.force_login(people["worker"])
    page = client.get(reverse("residents:organisation_detail", args=[org.pk])).content.decode()
    assert "139****1111" in page and "13900001111" not in page
    form = client.get(reverse("incidents:report_new") + f"?organisation={org.pk}").content.decode()
    assert f'name="party_organisation" value="{org.pk}"' in form
    assert Organisation.objects.get().phone_masked == "139****1111"


def test_a_worker_registers_a_house_in_their_grid_only(client, people, city):
    from residents.models import Building, House

    client.force_login(people["worker"])
    grid = city.grids[0]
    inside = grid.boundary.point_on_surface
    data = {
        "grid": grid.pk,
        "building": "9栋",
        "unit_no": "2",
        "room": "501",
        "use": "rented",
        "tenant_limit": 3,
        "lon": inside.x,
        "lat": inside.y,
    }
    response = client.post(reverse("residents:house_new"), data)
    assert response.status_code == 302
    house = House.objects.get()
    assert house.grid == grid and house.building.location.equals_exact(inside, 1e-9)
    # The same room again is refused; a second room joins the same building.
    assert client.post(reverse("residents:house_new"), data).status_code == 400
    client.post(reverse("residents:house_new"), data | {"room": "502"})
    assert Building.objects.count() == 1 and House.objects.count() == 2
    # Another grid is not offered to this worker.
    assert (
        client.post(reverse("residents:house_new"), data | {"grid": city.grids[5].pk}).status_code
        == 400
    )
