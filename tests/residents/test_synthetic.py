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
