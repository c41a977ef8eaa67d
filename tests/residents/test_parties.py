from django.urls import reverse

from incidents.models import Category, Incident
from residents.models import IncidentParty
from tests.factories import ensure_seeded
from tests.residents.factories import make_house, make_person


def _form(grid, **extra):
    ensure_seeded()
    category = Category.objects.filter(
        parent__isnull=False, handling_level=3, deadline_unit="workday"
    ).first()
    p = grid.boundary.point_on_surface
    return {
        "category": category.pk,
        "description": "楼道堆放杂物",
        "lon": p.x,
        "lat": p.y,
        "location_source": "gps",
        "urgency": "normal",
        **extra,
    }


def test_a_report_names_the_household_and_both_pages_show_it(client, people, city):
    grid = city.grids[0]
    house = make_house(grid=grid)
    client.force_login(people["worker"])
    form = client.get(reverse("incidents:report_new") + f"?house={house.pk}").content.decode()
    assert f'name="party_house" value="{house.pk}"' in form
    response = client.post(
        reverse("incidents:report_new") + f"?house={house.pk}",
        _form(grid, party_house=house.pk),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    incident = Incident.objects.get()
    assert IncidentParty.objects.get(incident=incident).house == house
    detail = client.get(reverse("dispatch:incident_detail", args=[incident.pk])).content.decode()
    assert reverse("residents:house_detail", args=[house.pk]) in detail
    page = client.get(reverse("residents:house_detail", args=[house.pk])).content.decode()
    assert incident.number in page


def test_unticked_or_out_of_scope_parties_are_not_named(client, people, city):
    mine = make_house(grid=city.grids[0])
    elsewhere = make_person(grid=city.grids[7])
    client.force_login(people["worker"])
    client.post(
        reverse("incidents:report_new") + f"?house={mine.pk}",
        _form(city.grids[0], party_person=elsewhere.pk),
    )
    assert Incident.objects.count() == 1
    assert not IncidentParty.objects.exists()
