import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.test import override_settings

from govgrid.lib import crypto
from residents import pii, services
from residents.models import Person
from tests.residents.factories import id_number, make_house, make_person

# A published sample number (GB 11643 example), check digit X.
SAMPLE = "11010519491231002X"


def test_check_digit_follows_gb_11643():
    assert pii.id_validate(SAMPLE) == SAMPLE
    assert pii.id_validate(" 11010519491231002x ") == SAMPLE
    with pytest.raises(ValidationError) as exc:
        pii.id_validate("110105194912310021")
    assert exc.value.code == "id_check"
    with pytest.raises(ValidationError) as exc:
        pii.id_validate("11010519491331002X")
    assert exc.value.code == "id_birth"
    with pytest.raises(ValidationError) as exc:
        pii.id_validate("1101051949123")
    assert exc.value.code == "id_shape"


def test_masks_keep_first_six_and_last_four_and_phone_three_and_four():
    assert pii.id_mask(SAMPLE) == "110105********002X"
    assert pii.phone_mask("13812345678") == "138****5678"


def _tables_containing(text: str) -> list[str]:
    """Every table with a row whose text form contains `text` (all columns at once)."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(
                f'SELECT 1 FROM "{table}" t WHERE t::text LIKE %s LIMIT 1', [f"%{text}%"]
            )
            if cursor.fetchone():
                found.append(table)
    return found


@pytest.mark.django_db
def test_identity_number_and_phone_never_stored_in_plain_text(city):
    number = id_number(birth="19750612")
    person = make_person(grid=city.grids[0], number=number, phone="13912345678")
    services.residence_start(person=person, house=make_house(grid=city.grids[0]), relation="owner")
    assert _tables_containing(number) == []
    assert _tables_containing("13912345678") == []
    # The birth digits (inside the number) are not in the mask either.
    stored = Person.objects.get(pk=person.pk)
    assert "19750612" not in stored.id_number_masked
    assert stored.id_number_masked == number[:6] + "********" + number[-4:]
    assert stored.phone_masked == "139****5678"
    assert crypto.decrypt(stored.id_number_enc) == number


@pytest.mark.django_db
def test_exact_search_by_identity_number_uses_the_keyed_hash(city):
    number = id_number()
    person = make_person(grid=city.grids[0], number=number)
    make_person(grid=city.grids[0])
    assert list(Person.objects.with_id_number(number.lower())) == [person]
    assert stored_hash(person) == crypto.blind_index(number) != number


def stored_hash(person):
    return Person.objects.values_list("id_number_hash", flat=True).get(pk=person.pk)


@pytest.mark.django_db
def test_one_person_per_identity_number(city):
    number = id_number()
    make_person(grid=city.grids[0], number=number)
    with pytest.raises(ValidationError) as exc:
        make_person(grid=city.grids[1], number=number)
    assert "id_number" in exc.value.message_dict
    assert Person.objects.count() == 1


@pytest.mark.django_db
def test_a_bad_check_digit_is_refused(city):
    number = id_number()
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        make_person(grid=city.grids[0], number=bad)
    assert "id_number" in exc.value.message_dict
    assert not Person.objects.exists()


NEW_KEY = "ZmRmZGZkZmRmZGZkZmRmZGZkZmRmZGZkZmRmZGZkZmQ="
OLD_KEY = "CYI0vcVd6ZOhHLAjy2_oG68LWyHnwy6l3KPnZ5haJZA="


@pytest.mark.django_db
def test_key_rotation_keeps_every_record_readable(city):
    numbers = [id_number() for _ in range(5)]
    people = [
        make_person(grid=city.grids[0], number=n, phone="1380000000" + str(i))
        for i, n in enumerate(numbers)
    ]
    before = dict(Person.objects.values_list("pk", "id_number_enc"))
    with override_settings(GOVGRID_PII_KEYS=[NEW_KEY, OLD_KEY]):
        assert services.pii_rotate(batch=2) >= 5
        after = dict(Person.objects.values_list("pk", "id_number_enc"))
        assert all(after[pk] != before[pk] for pk in before)
    # Once rotated, the old key can go: the new one alone opens every record.
    with override_settings(GOVGRID_PII_KEYS=[NEW_KEY]):
        for person, number in zip(people, numbers, strict=True):
            stored = Person.objects.get(pk=person.pk)
            assert crypto.decrypt(stored.id_number_enc) == number
            assert list(Person.objects.with_id_number(number)) == [person]
    # And a key that was never used opens nothing.
    with override_settings(GOVGRID_PII_KEYS=[OLD_KEY]), pytest.raises(ImproperlyConfigured):
        crypto.decrypt(Person.objects.get(pk=people[0].pk).id_number_enc)


@pytest.mark.django_db
def test_a_new_index_key_is_taken_by_rotation_and_organisations_rotate_too(city):
    """Changing GOVGRID_PII_INDEX_KEY: exact search finds nothing until pii_rotate has
    recomputed the keyed hashes, then finds every person again; organisation phones are
    re-encrypted with the people."""
    from residents.models import Organisation

    number = id_number()
    person = make_person(grid=city.grids[0], number=number, phone="13800000001")
    organisation = services.organisation_create(
        grid=city.grids[0], name="惠民超市", phone="13900000002"
    )
    before = Organisation.objects.get(pk=organisation.pk).phone_enc
    with override_settings(GOVGRID_PII_INDEX_KEY="a-brand-new-index-key"):
        assert list(Person.objects.with_id_number(number)) == []  # old hashes, new key
        with override_settings(GOVGRID_PII_KEYS=[NEW_KEY, OLD_KEY]):
            services.pii_rotate(batch=1)
        assert list(Person.objects.with_id_number(number)) == [person]
    with override_settings(GOVGRID_PII_KEYS=[NEW_KEY]):
        stored = Organisation.objects.get(pk=organisation.pk).phone_enc
        assert stored != before
        assert crypto.decrypt(stored) == "13900000002"
