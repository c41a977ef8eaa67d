"""Reads of residents and places, scoped by `scope_queryset` and by key-person group grants.

Who uses these pages: grid staff, the centres and leaders, admins. Unit handlers work on
dispatched cases, not on the population register, so they see none of it (PIPL Art. 6,
minimum scope). Revealing a full identity number or phone is for the desks and admins.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from govgrid.accounts.models import CENTRE_ROLES, GRID_ROLES, Role
from govgrid.accounts.scoping import scope_queryset
from govgrid.lib import crypto
from residents import pii

RESIDENT_ROLES = GRID_ROLES | CENTRE_ROLES | {Role.LEADER, Role.ADMIN}
# Roles that may see one record's full identity number, phone or sensitive details.
REVEAL_ROLES = CENTRE_ROLES | {Role.ADMIN}


def can_use_residents(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or set(user.roles) & RESIDENT_ROLES))


def can_reveal(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or set(user.roles) & REVEAL_ROLES))


def visible_group_ids(user) -> frozenset[int]:
    """Key-person groups the user's roles are granted (admins: every group); cached per user."""
    cached = getattr(user, "_govgrid_key_groups", None)
    if cached is not None:
        return cached
    from residents.models import KeyGroup, KeyGroupGrant

    if not can_use_residents(user):
        ids: frozenset[int] = frozenset()
    elif user.is_superuser or Role.ADMIN in user.roles:
        ids = frozenset(KeyGroup.objects.values_list("pk", flat=True))
    else:
        ids = frozenset(
            KeyGroupGrant.objects.filter(role__in=user.roles).values_list("group_id", flat=True)
        )
    user._govgrid_key_groups = ids
    return ids


def scoped(user, qs: QuerySet) -> QuerySet:
    """`scope_queryset`, and nothing at all for roles without access to the register."""
    if not can_use_residents(user):
        return qs.none()
    return scope_queryset(user, qs)


def key_person_qs_for_user(user) -> QuerySet:
    from residents.models import KeyPerson

    return scoped(user, KeyPerson.objects.all()).filter(group_id__in=visible_group_ids(user))


def person_search_for_user(*, user, query: str = "", grid=None, limit: int = 50) -> QuerySet:
    """People the user may see, found by exact identity number (through the keyed hash), exact
    phone, or name prefix. Identity numbers are never matched by prefix: the hash allows only
    exact search, which is the point."""
    from residents.models import Person

    qs = scoped(user, Person.objects.select_related("grid"))
    query = query.strip()
    if grid is not None:
        qs = qs.filter(grid=grid)
    if query:
        number = pii.id_normalise(query)
        if len(number) == 18 and number[:17].isdigit():
            qs = qs.with_id_number(number)
        elif query.isdigit() and len(query) >= 7:
            qs = qs.filter(phone_hash=crypto.blind_index(pii.phone_normalise(query)))
        else:
            qs = qs.filter(name__startswith=query)
    return qs.order_by("name", "pk")[:limit]


def person_get_for_user(*, user, person_id: int):
    """The person with homes past and present and the key records the user may see; one 404
    for missing and not yours."""
    from residents.models import KeyPerson, Person, Residence

    qs = scoped(user, Person.objects.select_related("grid")).prefetch_related(
        Prefetch(
            "residences",
            queryset=Residence.objects.select_related("house__building", "house__grid").order_by(
                "-since"
            ),
        ),
        Prefetch(
            "key_records",
            queryset=KeyPerson.objects.filter(group_id__in=visible_group_ids(user))
            .select_related("group", "responsible")
            .prefetch_related("risk_changes__actor")
            .order_by("-since"),
        ),
    )
    person = qs.filter(pk=person_id).first()
    if person is None:
        raise Http404
    return person


def house_get_for_user(*, user, house_id: int):
    """The house with its residents past and present (fixed query count)."""
    from residents.models import House, Residence

    qs = scoped(user, House.objects.select_related("building", "grid")).prefetch_related(
        Prefetch(
            "residences",
            queryset=Residence.objects.select_related("person").order_by("until", "-since"),
        )
    )
    house = qs.filter(pk=house_id).first()
    if house is None:
        raise Http404
    return house


def house_list_for_user(*, user, query: str = "", use: str = "", limit: int = 100) -> QuerySet:
    from residents.models import House

    qs = scoped(user, House.objects.select_related("building", "grid"))
    if use:
        qs = qs.filter(use=use)
    if query:
        qs = qs.filter(Q(building__name__startswith=query) | Q(building__address__contains=query))
    return qs.annotate(
        current_residents=Count("residences", filter=Q(residences__until__isnull=True))
    ).order_by("building__name", "unit_no", "room")[:limit]


def organisation_list_for_user(*, user, key_places: bool = False, limit: int = 200) -> QuerySet:
    from residents.models import Organisation

    qs = scoped(user, Organisation.objects.select_related("grid"))
    if key_places:
        qs = qs.filter(is_key_place=True)
    return qs.order_by("name")[:limit]


def key_person_list_for_user(*, user, group=None, overdue_only: bool = False, mine: bool = False):
    """Key persons and care-group members the user may see, most urgent visit first, with
    `is_overdue` set for each row."""
    qs = key_person_qs_for_user(user).filter(until__isnull=True)
    if group is not None:
        qs = qs.filter(group=group)
    if mine:
        qs = qs.filter(responsible=user)
    today = timezone.localdate()
    if overdue_only:
        qs = qs.filter(next_visit_due__lt=today)
    return qs.select_related("person__grid", "group", "grid", "responsible").order_by(
        "next_visit_due", "pk"
    )


def incidents_naming(*, user, person=None, house=None, organisation=None) -> list:
    """Incidents that name this person, house or organisation, within the user's scope."""
    from incidents.models import Incident
    from residents.models import IncidentParty

    links = IncidentParty.objects.filter(
        Q(person=person) if person else Q(house=house) if house else Q(organisation=organisation)
    )
    qs = scope_queryset(user, Incident.objects.filter(pk__in=links.values("incident_id")))
    return list(qs.select_related("category", "grid", "lead_unit").order_by("-reported_at")[:50])


def parties_for_incident(*, user, incident) -> list:
    """The residents, houses and organisations named in an incident that the user may see."""
    from residents.models import IncidentParty

    if not can_use_residents(user):
        return []
    return list(
        IncidentParty.objects.filter(incident=incident).select_related(
            "person", "house__building", "organisation"
        )
    )


PARTY_PARAMS = {"person": "party_person", "house": "party_house", "organisation": "party_org"}


def report_parties_from(*, user, params) -> list[tuple[str, object]]:
    """Residents, houses and organisations a report form names (?house=, ?person= from a
    record's page, or the party_* checkboxes when posted), kept to those the user may see."""
    from residents.models import House, Organisation, Person

    if not can_use_residents(user):
        return []
    found: list[tuple[str, object]] = []
    for kind, model in (("person", Person), ("house", House), ("organisation", Organisation)):
        raw = params.getlist(PARTY_PARAMS[kind]) + params.getlist(kind)
        ids = {int(v) for v in raw if str(v).isdigit()}
        if ids:
            qs = scope_queryset(user, model.objects.filter(pk__in=ids))
            if kind == "house":
                qs = qs.select_related("building")
            found += [(kind, obj) for obj in qs.order_by("pk")]
    return found


def workers_of_grid(*, grid_id: int) -> QuerySet:
    """The grid's current workers (the candidates to be responsible for its key persons)."""
    from govgrid.accounts.models import User

    return User.objects.filter(
        grid_posts__grid_id=grid_id, grid_posts__role="worker", grid_posts__until__isnull=True
    ).order_by("username")
