from govgrid.lib import crypto
from govgrid.synthetic.residents import build_residents
from grids.models import Patrol
from residents import pii, selectors
from residents.models import House, KeyPerson, Person, Residence, Visit


def test_demo_residents_are_valid_sealed_and_visited(people, city):
    counts = build_residents(scale_name="demo", seed=5, progress=lambda it, desc, total: it)
    assert counts["people"] == Person.objects.count() > 100
    assert Residence.objects.count() == Person.objects.count()
    assert House.objects.filter(use="rented").exists()
    for person in Person.objects.all()[:200]:
        number = crypto.decrypt(person.id_number_enc)
        assert pii.id_validate(number) == number
        assert person.id_number_masked == pii.id_mask(number)
        assert person.id_number_hash == crypto.blind_index(number)
    hashes = list(Person.objects.values_list("id_number_hash", flat=True))
    assert len(hashes) == len(set(hashes))
    assert KeyPerson.objects.filter(group__kind="key").exists()
    assert KeyPerson.objects.filter(group__kind="care").exists()
    assert Visit.objects.exists()
    # The demo worker has people to visit, some overdue; the grid leader sees today's tracks.
    worker_rows = list(selectors.key_person_list_for_user(user=people["worker"], mine=True))
    assert worker_rows
    from grids.patrols import patrols_today_for_user

    assert Patrol.objects.filter(track__isnull=False, distance_m__gt=0, coverage__gt=0).exists()
    assert list(patrols_today_for_user(user=people["gridleader"]))


def test_demo_records_have_their_history_by_the_grid_worker(people, city):
    from django.db.models import Count
    from django.utils import timezone

    from dispatch.assessment import indicators
    from residents.models import Organisation, RecordChange

    build_residents(scale_name="demo", seed=5, progress=lambda it, desc, total: it)
    created = RecordChange.objects.filter(action="created")
    assert dict(created.values_list("kind").annotate(n=Count("pk"))) == {
        "person": Person.objects.count(),
        "house": House.objects.count(),
        "organisation": Organisation.objects.count(),
    }
    # One `created` row per person, at the record's creation, by the worker of its grid.
    person = Person.objects.filter(grid=city.grids[0]).first()
    row = created.get(kind="person", record_id=person.pk)
    assert (row.at, row.grid_id, row.actor_id) == (
        person.created_at,
        person.grid_id,
        people["worker"].pk,
    )
    assert not created.filter(grid=city.grids[1], actor__isnull=False).exists()  # no worker
    assert RecordChange.objects.filter(action="updated").exists()
    # Entered over the last 60 days: last month's assessment has record figures.
    last = indicators.month_of(timezone.localdate()).previous()
    row = indicators.count_month(last, indicators.WORKER)[people["worker"].pk]
    values = indicators.values_from(row, indicators.WORKER)
    assert values["records_created"] > 0
    assert 0 < values["record_accuracy"] <= 1
