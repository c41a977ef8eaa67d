"""Writes to residents and places: people (sealing their personal data), homes, key persons,
visits, incident parties, and the one place personal data is decrypted (`*_reveal`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from govgrid.accounts.scoping import scope_queryset
from govgrid.audit.models import AuditAction
from govgrid.audit.services import audit_record
from govgrid.lib import crypto
from govgrid.lib.errors import DomainError
from grids.models import Area, AreaLevel, GridStaff
from grids.patrols import patrol_running_for
from residents import pii
from residents.models import (
    Building,
    ChangeAction,
    House,
    IncidentParty,
    KeyGroup,
    KeyPerson,
    Organisation,
    Person,
    RecordChange,
    RecordKind,
    Residence,
    RiskLevel,
    RiskLevelChange,
    Visit,
)
from residents.selectors import can_reveal, visible_group_ids


@dataclass
class PersonInput:
    """A person as a form, the API or an import row gives it (shape already checked)."""

    grid: Area
    name: str
    id_number: str = ""
    phone: str = ""
    gender: str = ""
    birth_date: date | None = None
    kind: str = "registered"
    ethnicity: str = ""
    nationality: str = ""
    registered_address: str = ""
    inflow_reason: str = ""
    notes: str = ""
    extra: dict = field(default_factory=dict)


@sensitive_variables("id_number", "phone", "data")
def person_fields(data: PersonInput) -> dict:
    """Model field values of a person, with identity number and phone sealed.

    Validates the identity number (GB 11643) and phone; raises ValidationError naming the field.
    Foreign residents carry a passport number, which is sealed but not checked.
    """
    id_number = pii.id_normalise(data.id_number)
    if id_number and data.kind != "foreign":
        try:
            id_number = pii.id_validate(id_number)
        except ValidationError as exc:
            raise ValidationError({"id_number": exc.messages}) from exc
    try:
        phone = pii.phone_validate(data.phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc
    id_enc, id_hash, id_masked = pii.sealed(id_number, mask=pii.id_mask)
    phone_enc, phone_hash, phone_masked = pii.sealed(phone, mask=pii.phone_mask)
    birth = data.birth_date
    if birth is None and id_number and data.kind != "foreign":
        birth = pii.id_birth_date(id_number)
    gender = data.gender
    if not gender and len(id_number) == 18 and data.kind != "foreign":
        # The 17th digit is odd for men, even for women (GB 11643).
        gender = "m" if int(id_number[16]) % 2 else "f"
    return {
        "grid": data.grid,
        "name": data.name.strip(),
        "gender": gender,
        "birth_date": birth,
        "kind": data.kind,
        "ethnicity": data.ethnicity,
        "nationality": data.nationality,
        "id_number_enc": id_enc,
        "id_number_hash": id_hash,
        "id_number_masked": id_masked,
        "phone_enc": phone_enc,
        "phone_hash": phone_hash,
        "phone_masked": phone_masked,
        "registered_address": data.registered_address,
        "inflow_reason": data.inflow_reason,
        "notes": data.notes,
    }


def record_change(
    *, kind: str, record, action: str, actor, changed_fields: list[str] | None = None
) -> RecordChange:
    """Append one row to the register's history (callers are the services below, inside
    their transaction)."""
    return RecordChange.objects.create(
        kind=kind,
        record_id=record.pk,
        grid_id=record.grid_id,
        actor=actor,
        action=action,
        changed_fields=changed_fields or [],
    )


def _person_changes(person: Person, values: dict) -> list[str]:
    """Names of the fields `values` changes (sealed fields by their keyed hash, so a
    re-encryption of the same number is no change; values are never recorded)."""
    changed = []
    for name, value in values.items():
        if name.endswith(("_enc", "_masked")):
            continue
        current = getattr(person, f"{name}_id" if name == "grid" else name)
        new = value.pk if name == "grid" else value
        if current != new:
            changed.append(name.removesuffix("_hash"))
    return changed


def _check_grid(grid: Area, actor) -> None:
    if grid.level != AreaLevel.GRID:
        raise ValidationError({"grid": _("Choose a grid.")})
    if actor is not None and not scope_queryset(actor, Area.objects.filter(pk=grid.pk)).exists():
        raise PermissionDenied


@transaction.atomic
def person_create(*, data: PersonInput, actor=None) -> Person:
    """Create a person; one person per identity number (checked through the keyed hash)."""
    _check_grid(data.grid, actor)
    values = person_fields(data)
    if (
        values["id_number_hash"]
        and Person.objects.filter(id_number_hash=values["id_number_hash"]).exists()
    ):
        raise ValidationError({"id_number": _("A person with this identity number exists.")})
    try:
        with transaction.atomic():
            person = Person.objects.create(**values)
    except IntegrityError as exc:
        # Two clerks entering the same person at once: the unique index decides.
        raise ValidationError(
            {"id_number": _("A person with this identity number exists.")}
        ) from exc
    record_change(kind=RecordKind.PERSON, record=person, action=ChangeAction.CREATED, actor=actor)
    return person


@transaction.atomic
def person_update(*, person: Person, data: PersonInput, actor) -> Person:
    """Change a person's record; the identity number and phone are resealed when given.

    An empty identity number or phone in `data` keeps the stored one (forms never show it).
    The change is appended to the history with the names of the fields changed (nothing is
    appended when nothing changed).
    """
    _check_grid(data.grid, actor)
    person = Person.objects.select_for_update().get(pk=person.pk)
    values = person_fields(data)
    for prefix in ("id_number", "phone"):
        if not values[f"{prefix}_hash"]:
            for suffix in ("enc", "hash", "masked"):
                values.pop(f"{prefix}_{suffix}")
    if values.get("id_number_hash") and (
        Person.objects.filter(id_number_hash=values["id_number_hash"])
        .exclude(pk=person.pk)
        .exists()
    ):
        raise ValidationError({"id_number": _("A person with this identity number exists.")})
    changed = _person_changes(person, values)
    for name, value in values.items():
        setattr(person, name, value)
    person.save()
    if changed:
        record_change(
            kind=RecordKind.PERSON,
            record=person,
            action=ChangeAction.UPDATED,
            actor=actor,
            changed_fields=changed,
        )
    return person


def building_create(
    *, grid: Area, name: str, lon: float, lat: float, address: str = "", actor=None
) -> Building:
    _check_grid(grid, actor)
    return Building.objects.create(
        grid=grid, name=name, address=address, location=Point(lon, lat, srid=4326)
    )


@transaction.atomic
def house_create(
    *, building: Building, room: str, unit_no: str = "", actor=None, **fields
) -> House:
    _check_grid(building.grid, actor)
    house = House.objects.create(
        building=building, grid_id=building.grid_id, room=room, unit_no=unit_no, **fields
    )
    record_change(kind=RecordKind.HOUSE, record=house, action=ChangeAction.CREATED, actor=actor)
    return house


@transaction.atomic
def house_register(
    *,
    grid: Area,
    building_name: str,
    room: str,
    actor,
    unit_no: str = "",
    lon: float | None = None,
    lat: float | None = None,
    **fields,
) -> House:
    """Add a house, and its building when the grid has none of that name (placed at the
    phone's position if it lies in the grid, else inside the grid). One house per building,
    unit and room."""
    _check_grid(grid, actor)
    building = Building.objects.filter(grid=grid, name=building_name.strip()).first()
    if building is None:
        point = Point(lon, lat, srid=4326) if lon is not None and lat is not None else None
        if point is None or not (grid.boundary and grid.boundary.covers(point)):
            point = grid.boundary.point_on_surface if grid.boundary else Point(0, 0, srid=4326)
        building = Building.objects.create(grid=grid, name=building_name.strip(), location=point)
    if House.objects.filter(building=building, unit_no=unit_no, room=room).exists():
        raise DomainError(_("This house is registered already."), code="duplicate")
    house = House.objects.create(building=building, grid=grid, unit_no=unit_no, room=room, **fields)
    record_change(kind=RecordKind.HOUSE, record=house, action=ChangeAction.CREATED, actor=actor)
    return house


@transaction.atomic
def residence_start(
    *, person: Person, house: House, relation: str, since: date | None = None, actor=None
) -> Residence:
    """Record that a person lives in a house from `since` (today by default).

    The person's grid follows their home: when the house lies in another grid, the person
    and their current key-person records move to it (so the new grid's worker sees them and
    owes the visits), and the move is appended to the person's history.
    """
    since = since or timezone.localdate()
    if Residence.objects.filter(person=person, house=house, until__isnull=True).exists():
        raise DomainError(_("This person already lives in this house."), code="duplicate")
    residence = Residence.objects.create(person=person, house=house, relation=relation, since=since)
    if person.grid_id != house.grid_id:
        Person.objects.filter(pk=person.pk).update(grid_id=house.grid_id, updated_at=timezone.now())
        worker_id = (
            GridStaff.objects.filter(grid_id=house.grid_id, role="worker", until__isnull=True)
            .values_list("user_id", flat=True)
            .first()
        )
        KeyPerson.objects.filter(person=person, until__isnull=True).update(
            grid_id=house.grid_id, responsible_id=worker_id, updated_at=timezone.now()
        )
        person.grid_id = house.grid_id
        record_change(
            kind=RecordKind.PERSON,
            record=person,
            action=ChangeAction.MOVED,
            actor=actor,
            changed_fields=["grid"],
        )
    return residence


@transaction.atomic
def residence_end(*, residence: Residence, until: date | None = None) -> Residence:
    residence = Residence.objects.select_for_update().get(pk=residence.pk)
    if residence.until is not None:
        return residence
    residence.until = max(until or timezone.localdate(), residence.since)
    residence.save(update_fields=["until", "updated_at"])
    return residence


@transaction.atomic
def organisation_create(*, grid: Area, name: str, phone: str = "", actor=None, **fields):
    _check_grid(grid, actor)
    phone = pii.phone_validate(phone)
    organisation = Organisation.objects.create(
        grid=grid,
        name=name,
        phone_enc=crypto.encrypt(phone),
        phone_masked=pii.phone_mask(phone),
        **fields,
    )
    record_change(
        kind=RecordKind.ORGANISATION,
        record=organisation,
        action=ChangeAction.CREATED,
        actor=actor,
    )
    return organisation


def _sensitive_split(group: KeyGroup, details: dict) -> tuple[dict, dict]:
    sensitive_keys = {f["key"] for f in group.detail_fields if f.get("sensitive")}
    plain = {k: v for k, v in details.items() if k not in sensitive_keys and v not in ("", None)}
    secret = {k: v for k, v in details.items() if k in sensitive_keys and v not in ("", None)}
    return plain, secret


@transaction.atomic
def key_person_enrol(
    *,
    person: Person,
    group: KeyGroup,
    actor,
    risk_level: str = RiskLevel.GREEN,
    responsible=None,
    details: dict | None = None,
    visit_interval_days: int | None = None,
    since: date | None = None,
) -> KeyPerson:
    """Put a person into a key-person or care group.

    Sensitive type-specific details (the group's fields marked sensitive) are encrypted; the
    first visit is due one interval after enrolment. The first risk colour is history too.
    """
    if actor is not None and group.pk not in visible_group_ids(actor):
        raise PermissionDenied
    since = since or timezone.localdate()
    interval = visit_interval_days or group.visit_interval_days
    plain, secret = _sensitive_split(group, details or {})
    if KeyPerson.objects.filter(person=person, group=group, until__isnull=True).exists():
        raise DomainError(_("This person is already in this group."), code="duplicate")
    kp = KeyPerson.objects.create(
        person=person,
        group=group,
        grid_id=person.grid_id,
        risk_level=risk_level,
        responsible=responsible,
        visit_interval_days=interval,
        details=plain,
        sensitive_enc=crypto.encrypt(json.dumps(secret, ensure_ascii=False)) if secret else "",
        since=since,
        next_visit_due=since + timedelta(days=interval),
    )
    RiskLevelChange.objects.create(key_person=kp, actor=actor, to_level=risk_level)
    return kp


@transaction.atomic
def key_person_risk_set(*, key_person: KeyPerson, level: str, actor, reason: str) -> KeyPerson:
    """Change the risk colour, appending the change to its history."""
    kp = KeyPerson.objects.select_for_update().get(pk=key_person.pk)
    if level not in RiskLevel.values:
        raise ValidationError({"risk_level": _("Choose a risk level.")})
    if kp.risk_level == level:
        return kp
    RiskLevelChange.objects.create(
        key_person=kp, actor=actor, from_level=kp.risk_level, to_level=level, reason=reason
    )
    kp.risk_level = level
    kp.save(update_fields=["risk_level", "updated_at"])
    return kp


@dataclass
class VisitInput:
    person: Person | None = None
    house: House | None = None
    notes: str = ""
    lon: float | None = None
    lat: float | None = None
    photo: object = None
    visited_at: datetime | None = None


@transaction.atomic
def visit_record(*, visitor, data: VisitInput) -> Visit:
    """Record a visit to a person or household and count it toward their visit duty.

    The phone's position is checked against the grid of the visited house (or person); a
    position outside it is kept but flagged. The visit counts for every current key-person
    record of the person (or of the house's current residents): their rows are locked and
    their next due date moves one interval past the visit. A running patrol is linked.
    """
    if data.person is None and data.house is None:
        raise ValidationError(_("Choose the person or household visited."))
    grid_id = data.house.grid_id if data.house else data.person.grid_id
    grid = Area.objects.get(pk=grid_id)
    _check_grid(grid, visitor)
    now = timezone.now()
    visited_at = min(data.visited_at or now, now)
    location = None
    is_in_grid = None
    if data.lon is not None and data.lat is not None:
        location = Point(data.lon, data.lat, srid=4326)
        is_in_grid = bool(grid.boundary and grid.boundary.covers(location))
    patrol = patrol_running_for(visitor, "pk")
    visit = Visit.objects.create(
        visitor=visitor,
        grid=grid,
        person=data.person,
        house=data.house,
        visited_at=visited_at,
        location=location,
        is_in_grid=is_in_grid,
        notes=data.notes,
        patrol=patrol,
    )
    if data.photo:
        visit.photo.save(f"visit-{visit.pk}.jpg", data.photo, save=True)
    if data.person is not None:
        people = [data.person.pk]
    else:
        people = list(
            Residence.objects.filter(house=data.house, until__isnull=True).values_list(
                "person_id", flat=True
            )
        )
    records = list(
        KeyPerson.objects.select_for_update()
        .filter(person_id__in=people, until__isnull=True)
        .order_by("pk")
    )
    for kp in records:
        if kp.last_visit_at is None or kp.last_visit_at < visited_at:
            kp.last_visit_at = visited_at
            kp.next_visit_due = timezone.localdate(visited_at) + timedelta(
                days=kp.visit_interval_days
            )
            kp.save(update_fields=["last_visit_at", "next_visit_due", "updated_at"])
    if len(records) == 1:
        visit.key_person = records[0]
        visit.save(update_fields=["key_person"])
    return visit


REVEALABLE = {"id_number": "id_number_enc", "phone": "phone_enc"}


@sensitive_variables("value")
def person_reveal(*, person: Person, field: str, actor, request: HttpRequest | None = None) -> str:
    """The full value of one personal field, for a permitted role; writes one audit row.

    The caller has already checked the person is in the actor's scope (the selectors).
    """
    if field not in REVEALABLE or not can_reveal(actor):
        raise PermissionDenied
    value = crypto.decrypt(getattr(person, REVEALABLE[field]))
    audit_record(
        action=AuditAction.REVEAL,
        actor=actor,
        target=f"residents.person:{person.pk}",
        request=request,
        detail={"field": field, "person": person.pk},
    )
    return value


def key_person_reveal(*, key_person: KeyPerson, actor, request: HttpRequest | None = None) -> dict:
    """The sensitive details of a key person, for a permitted role granted the group."""
    if not can_reveal(actor) or key_person.group_id not in visible_group_ids(actor):
        raise PermissionDenied
    raw = crypto.decrypt(key_person.sensitive_enc)
    audit_record(
        action=AuditAction.REVEAL,
        actor=actor,
        target=f"residents.keyperson:{key_person.pk}",
        request=request,
        detail={"field": "sensitive", "key_person": key_person.pk},
    )
    return json.loads(raw) if raw else {}


def pii_rotate(*, batch: int = 2000, progress=None) -> int:
    """Re-encrypt every sealed value under the first key and recompute the keyed hashes.

    Run after putting a new key first in GOVGRID_PII_KEYS (or changing the index key); the
    old key can be dropped once this has finished. Works in batches, one transaction each,
    so a restart simply goes over the rows again. Returns the rows rewritten.
    """
    done = 0
    for model, fields in (
        (Person, ("id_number", "phone")),
        (Organisation, ("phone",)),
        (KeyPerson, ("sensitive",)),
    ):
        last = 0
        while True:
            with transaction.atomic():
                rows = list(
                    model.objects.select_for_update().filter(pk__gt=last).order_by("pk")[:batch]
                )
                if not rows:
                    break
                updated = []
                for row in rows:
                    for name in fields:
                        token = getattr(row, f"{name}_enc")
                        setattr(row, f"{name}_enc", crypto.reencrypt(token))
                        if hasattr(row, f"{name}_hash"):
                            setattr(row, f"{name}_hash", crypto.blind_index(crypto.decrypt(token)))
                    updated.append(row)
                names = [f"{n}_enc" for n in fields] + [
                    f"{n}_hash" for n in fields if hasattr(model, f"{n}_hash")
                ]
                model.objects.bulk_update(updated, names)
                last = rows[-1].pk
                done += len(rows)
                if progress:
                    progress(len(rows))
    return done


def report_parties_record(*, incident, actor, parties: list[tuple[str, object]]) -> int:
    """Name residents, houses and organisations as parties of an incident: the (kind, record)
    pairs a report form chose (`selectors.report_parties_from`). Every record must lie in the
    actor's scope; returns how many links were added."""
    rows = []
    for kind, model in (("person", Person), ("house", House), ("organisation", Organisation)):
        ids = {obj.pk for k, obj in parties if k == kind}
        if not ids:
            continue
        visible = set(
            scope_queryset(actor, model.objects.filter(pk__in=ids)).values_list("pk", flat=True)
        )
        if visible != ids:
            raise PermissionDenied
        rows += [IncidentParty(incident=incident, **{f"{kind}_id": pk}) for pk in sorted(ids)]
    IncidentParty.objects.bulk_create(rows)
    return len(rows)
