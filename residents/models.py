"""Residents and places (GB/T 31000 实有人口、房屋、单位、特殊人群): buildings, houses, people,
who lives where, organisations and key places, key persons and care groups, visits.

Personal information (PIPL) is never stored in plain text: identity numbers, phones and the
sensitive details of key persons are Fernet ciphertext (`*_enc`), found by exact value
through a keyed hash (`*_hash`) and shown through a mask computed at write time
(`*_masked`). Only `residents.services` writes these models; only `residents.services.
person_reveal` decrypts, and it writes an audit row every time.

Code lists (ethnicity, organisation kinds, key-place kinds, inflow reasons…) are
admin-editable `Dictionary` rows seeded from vendor practice, not official GB/T 31000 codes.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govgrid.accounts.models import Role
from govgrid.lib.models import TimeStampedModel
from grids.models import AreaLevel


class DictionaryKind(models.TextChoices):
    ETHNICITY = "ethnicity", _("Ethnicity")
    INFLOW_REASON = "inflow_reason", _("Reason for moving in")
    ORG_KIND = "org_kind", _("Organisation kind")
    PLACE_KIND = "place_kind", _("Key place kind")
    RELATION = "relation", _("Relation to the household head")


class Dictionary(TimeStampedModel):
    """One entry of an admin-editable code list (vendor practice, not official codes)."""

    kind = models.CharField(_("list"), max_length=24, choices=DictionaryKind.choices)
    code = models.CharField(_("code"), max_length=16)
    name = models.CharField(_("name"), max_length=64)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("code list entry")
        verbose_name_plural = _("code lists")
        ordering = ["kind", "sort", "code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="dictionary_kind_code_unique")
        ]

    def __str__(self) -> str:
        return self.name


def _grid_fk(related_name: str):
    return models.ForeignKey(
        "grids.Area",
        on_delete=models.PROTECT,
        related_name=related_name,
        limit_choices_to={"level": AreaLevel.GRID},
        verbose_name=_("grid"),
    )


class Building(TimeStampedModel):
    """楼栋: a point in a grid."""

    grid = _grid_fk("buildings")
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    location = models.PointField(_("location"), srid=4326)
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)

    SCOPE_AREA_PATH = "grid__path"

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["grid", "name"]

    def __str__(self) -> str:
        return self.name


class HouseUse(models.TextChoices):
    SELF = "self", _("Self-occupied")
    RENTED = "rented", _("Rented")
    VACANT = "vacant", _("Vacant")
    COLLECTIVE = "collective", _("Collective")
    COMMERCIAL = "commercial", _("Commercial")
    OTHER = "other", _("Other")


class HazardLevel(models.TextChoices):
    NONE = "", _("Not assessed")
    SAFE = "safe", _("Safe")
    MINOR = "minor", _("Minor hazard")
    SERIOUS = "serious", _("Serious hazard")


class House(TimeStampedModel):
    """房屋: building / unit / room, its use and, for rented flats, the rental details."""

    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="houses", verbose_name=_("building")
    )
    # The building's grid, kept here so scoping and lists need no join.
    grid = _grid_fk("houses")
    unit_no = models.CharField(_("unit"), max_length=16, blank=True)
    room = models.CharField(_("room"), max_length=16)
    use = models.CharField(_("use"), max_length=16, choices=HouseUse.choices, default=HouseUse.SELF)
    area_m2 = models.DecimalField(
        _("floor area (m²)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    owner_name = models.CharField(_("owner"), max_length=64, blank=True)
    # Rental details (出租房).
    landlord_name = models.CharField(_("landlord"), max_length=64, blank=True)
    lease_number = models.CharField(_("lease registration number"), max_length=32, blank=True)
    tenant_limit = models.PositiveSmallIntegerField(_("tenant limit"), null=True, blank=True)
    hazard_level = models.CharField(
        _("hazard level"), max_length=8, choices=HazardLevel.choices, blank=True, default=""
    )

    SCOPE_AREA_PATH = "grid__path"

    class Meta:
        verbose_name = _("house")
        verbose_name_plural = _("houses")
        ordering = ["building", "unit_no", "room"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "unit_no", "room"], name="house_building_unit_room_unique"
            )
        ]

    def __str__(self) -> str:
        # Language-neutral: "3栋 2-501" (building, unit-room) or "3栋 501".
        room = f"{self.unit_no}-{self.room}" if self.unit_no else self.room
        return f"{self.building.name} {room}"

    @property
    def label(self) -> str:
        return str(self)


class PersonKind(models.TextChoices):
    REGISTERED = "registered", _("Registered (户籍)")
    FLOATING = "floating", _("Floating (流动)")
    FOREIGN = "foreign", _("Foreign (境外)")
    UNREGISTERED = "unregistered", _("Unregistered (未落户)")


class Gender(models.TextChoices):
    MALE = "m", _("Male")
    FEMALE = "f", _("Female")
    UNKNOWN = "", _("Unknown")


class PersonQuerySet(models.QuerySet):
    def with_id_number(self, number: str) -> "PersonQuerySet":
        """Exact identity-number search through the keyed hash (an index scan)."""
        from govgrid.lib import crypto
        from residents.pii import id_normalise

        return self.filter(id_number_hash=crypto.blind_index(id_normalise(number)))


class Person(TimeStampedModel):
    """实有人口. The home grid scopes the record; homes are `Residence` rows."""

    grid = _grid_fk("people")
    name = models.CharField(_("name"), max_length=64)
    gender = models.CharField(
        _("gender"), max_length=1, choices=Gender.choices, blank=True, default=""
    )
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    kind = models.CharField(
        _("population type"),
        max_length=16,
        choices=PersonKind.choices,
        default=PersonKind.REGISTERED,
    )
    ethnicity = models.CharField(_("ethnicity"), max_length=16, blank=True)
    nationality = models.CharField(_("nationality"), max_length=32, blank=True)
    # Identity number (or passport number for foreigners): ciphertext, keyed hash, mask.
    id_number_enc = models.TextField(_("identity number (encrypted)"), blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False)
    id_number_masked = models.CharField(_("identity number"), max_length=24, blank=True)
    phone_enc = models.TextField(_("phone (encrypted)"), blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True)
    registered_address = models.CharField(_("registered address"), max_length=200, blank=True)
    inflow_reason = models.CharField(_("reason for moving in"), max_length=16, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = PersonQuerySet.as_manager()

    SCOPE_AREA_PATH = "grid__path"

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["name", "pk"]
        constraints = [
            # One person per identity number (GB 11643); people without one are allowed.
            models.UniqueConstraint(
                fields=["id_number_hash"],
                condition=~Q(id_number_hash=""),
                name="person_one_per_id_number",
            )
        ]
        indexes = [
            models.Index(
                fields=["phone_hash"], condition=~Q(phone_hash=""), name="person_phone_hash_idx"
            ),
            # Name search: equality and prefix (varchar_pattern_ops) within a scope.
            models.Index(
                fields=["name"], opclasses=["varchar_pattern_ops"], name="person_name_prefix_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ResidenceRelation(models.TextChoices):
    OWNER = "owner", _("Owner")
    TENANT = "tenant", _("Tenant")
    FAMILY = "family", _("Family member")
    OTHER = "other", _("Other")


class Residence(TimeStampedModel):
    """Who lives where, since when, as what (查房知人、查人知住). Moving out sets `until`."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="residences", verbose_name=_("person")
    )
    house = models.ForeignKey(
        House, on_delete=models.PROTECT, related_name="residences", verbose_name=_("house")
    )
    relation = models.CharField(
        _("relation"),
        max_length=8,
        choices=ResidenceRelation.choices,
        default=ResidenceRelation.FAMILY,
    )
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)

    SCOPE_AREA_PATH = "house__grid__path"

    class Meta:
        verbose_name = _("residence")
        verbose_name_plural = _("residences")
        ordering = ["-since"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "house"],
                condition=Q(until__isnull=True),
                name="residence_one_current_per_house",
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="residence_dates_ordered",
            ),
        ]

    @property
    def is_current(self) -> bool:
        return self.until is None


class Organisation(TimeStampedModel):
    """Companies, social organisations and key places (重点场所), each in a grid."""

    grid = _grid_fk("organisations")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, blank=True)
    place_kind = models.CharField(_("key place kind"), max_length=16, blank=True)
    is_key_place = models.BooleanField(_("key place"), default=False)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    legal_person = models.CharField(_("legal representative"), max_length=64, blank=True)
    phone_enc = models.TextField(_("phone (encrypted)"), blank=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    location = models.PointField(_("location"), srid=4326, null=True, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)

    SCOPE_AREA_PATH = "grid__path"

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        indexes = [models.Index(fields=["grid", "is_key_place"], name="org_grid_keyplace_idx")]

    def __str__(self) -> str:
        return self.name


class GroupKind(models.TextChoices):
    KEY = "key", _("Key persons (重点人员)")
    CARE = "care", _("Care group (关爱对象)")


class KeyGroup(TimeStampedModel):
    """A key-person or care group, e.g. community correction or elderly living alone.

    Seen only by the roles granted it (`KeyGroupGrant`); admins see every group.
    """

    code = models.CharField(_("code"), max_length=24, unique=True)
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=8, choices=GroupKind.choices)
    visit_interval_days = models.PositiveSmallIntegerField(
        _("visit at least every (days)"), default=30
    )
    # Names of the type-specific fields (shown on the form; values kept in details).
    detail_fields = models.JSONField(_("type-specific fields"), default=list, blank=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("key-person group")
        verbose_name_plural = _("key-person groups")
        ordering = ["kind", "sort", "code"]

    def __str__(self) -> str:
        return self.name

    def labelled(self, details: dict) -> list[tuple[str, object]]:
        """(label, value) of type-specific details, labelled as the group names its fields."""
        labels = {f["key"]: f["label"] for f in self.detail_fields}
        return [(labels.get(key, key), value) for key, value in details.items()]


class KeyGroupGrant(TimeStampedModel):
    """A role may see the members of a group (within the role's area scope)."""

    group = models.ForeignKey(
        KeyGroup, on_delete=models.CASCADE, related_name="grants", verbose_name=_("group")
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)

    class Meta:
        verbose_name = _("key-person group grant")
        verbose_name_plural = _("key-person group grants")
        constraints = [
            models.UniqueConstraint(fields=["group", "role"], name="keygroupgrant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.group} · {self.get_role_display()}"


class RiskLevel(models.TextChoices):
    """Four colours, hottest first (红橙黄绿)."""

    RED = "red", _("Red")
    ORANGE = "orange", _("Orange")
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green")


class KeyPerson(TimeStampedModel):
    """A person's membership of a key-person or care group, with risk and visit duty."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="key_records", verbose_name=_("person")
    )
    group = models.ForeignKey(
        KeyGroup, on_delete=models.PROTECT, related_name="members", verbose_name=_("group")
    )
    # The person's grid at enrolment, kept for scoping and the worker's list.
    grid = _grid_fk("key_persons")
    risk_level = models.CharField(
        _("risk level"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.GREEN
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="key_persons",
        verbose_name=_("responsible worker"),
    )
    visit_interval_days = models.PositiveSmallIntegerField(_("visit at least every (days)"))
    # Non-sensitive type-specific fields (e.g. correction type, start and end dates).
    details = models.JSONField(_("details"), default=dict, blank=True)
    # Sensitive details (health, drugs, criminal history): encrypted JSON.
    sensitive_enc = models.TextField(_("sensitive details (encrypted)"), blank=True, editable=False)
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    # Kept by residents.services.visit_record: the last visit and when the next is due.
    last_visit_at = models.DateTimeField(_("last visit"), null=True, blank=True)
    next_visit_due = models.DateField(_("next visit due"), db_index=True)

    SCOPE_AREA_PATH = "grid__path"

    class Meta:
        verbose_name = _("key person")
        verbose_name_plural = _("key persons")
        ordering = ["next_visit_due"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "group"],
                condition=Q(until__isnull=True),
                name="keyperson_one_current_per_group",
            )
        ]
        indexes = [
            models.Index(fields=["responsible", "next_visit_due"], name="keyperson_worker_due_idx")
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.group}"


class RiskLevelChange(models.Model):
    """History of a key person's risk colour; appended, never edited."""

    key_person = models.ForeignKey(
        KeyPerson,
        on_delete=models.CASCADE,
        related_name="risk_changes",
        verbose_name=_("key person"),
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    from_level = models.CharField(_("from"), max_length=8, choices=RiskLevel.choices, blank=True)
    to_level = models.CharField(_("to"), max_length=8, choices=RiskLevel.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("risk level change")
        verbose_name_plural = _("risk level changes")
        ordering = ["-at"]


class Visit(TimeStampedModel):
    """走访 / 入户: a grid worker's visit to a household or a person, recorded on the phone."""

    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("visitor"),
    )
    grid = _grid_fk("visits")
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("person"),
    )
    house = models.ForeignKey(
        House,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("house"),
    )
    key_person = models.ForeignKey(
        KeyPerson,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("key person record"),
    )
    patrol = models.ForeignKey(
        "grids.Patrol",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("patrol"),
    )
    visited_at = models.DateTimeField(_("visited at"), db_index=True)
    location = models.PointField(_("location"), srid=4326, null=True, blank=True)
    # Whether the phone's position lay inside the visited house's grid (checked at save).
    is_in_grid = models.BooleanField(_("position inside the grid"), null=True)
    notes = models.TextField(_("notes"), blank=True)
    photo = models.ImageField(_("photo"), upload_to="visits/%Y/%m/", blank=True)

    SCOPE_AREA_PATH = "grid__path"

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False) | Q(house__isnull=False),
                name="visit_has_person_or_house",
            )
        ]
        indexes = [models.Index(fields=["visitor", "visited_at"], name="visit_visitor_at_idx")]

    def __str__(self) -> str:
        return f"{self.visited_at:%Y-%m-%d} {self.person or self.house}"


class PartyRole(models.TextChoices):
    PARTY = "party", _("Party")
    REPORTER = "reporter", _("Reporter")
    WITNESS = "witness", _("Witness")
    PLACE = "place", _("Place concerned")


class IncidentParty(TimeStampedModel):
    """A resident, house or organisation named in an incident (当事人).

    Kept here rather than on the incident so the incidents app needs no change; the incident
    page lists them and each person, house and organisation page lists its incidents.
    """

    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.CASCADE,
        related_name="resident_parties",
        verbose_name=_("incident"),
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="incident_parties"
    )
    house = models.ForeignKey(
        House, on_delete=models.CASCADE, null=True, blank=True, related_name="incident_parties"
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="incident_parties",
    )
    role = models.CharField(
        _("role"), max_length=8, choices=PartyRole.choices, default=PartyRole.PARTY
    )

    SCOPE_AREA_PATH = "incident__grid__path"

    class Meta:
        verbose_name = _("incident party")
        verbose_name_plural = _("incident parties")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(person__isnull=False, house__isnull=True, organisation__isnull=True)
                    | Q(person__isnull=True, house__isnull=False, organisation__isnull=True)
                    | Q(person__isnull=True, house__isnull=True, organisation__isnull=False)
                ),
                name="incidentparty_exactly_one",
            )
        ]


class ImportKind(models.TextChoices):
    PEOPLE = "people", _("People")
    HOUSES = "houses", _("Houses")
    ORGANISATIONS = "organisations", _("Organisations")


class ImportState(models.TextChoices):
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    WRITING = "writing", _("Writing")
    DONE = "done", _("Written")
    FAILED = "failed", _("Failed")


class ImportJob(TimeStampedModel):
    """An uploaded Excel/CSV file: checked row by row, then written all or nothing."""

    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    file_name = models.CharField(_("file name"), max_length=200)
    state = models.CharField(
        _("state"), max_length=8, choices=ImportState.choices, default=ImportState.CHECKING
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    done_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    # [{"row": 3, "errors": ["..."]}, ...] — messages never contain the personal data itself.
    problems = models.JSONField(_("problems"), default=list, blank=True)
    written = models.PositiveIntegerField(_("rows written"), default=0)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    @property
    def percent(self) -> int:
        return int(100 * self.done_rows / self.total_rows) if self.total_rows else 0


class RecordKind(models.TextChoices):
    PERSON = "person", _("Person")
    HOUSE = "house", _("House")
    ORGANISATION = "organisation", _("Organisation")


class ChangeAction(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Changed")
    MOVED = "moved", _("Moved to another grid")


class RecordChange(models.Model):
    """History of the register's records (people, houses, organisations): who created or
    changed which record, when, in which grid and which fields. Appended by the services in
    the transaction of the change, never edited; the grid-worker assessment counts it.

    `changed_fields` names fields, never values (personal data stays sealed in the record).
    """

    kind = models.CharField(_("record kind"), max_length=16, choices=RecordKind.choices)
    record_id = models.BigIntegerField(_("record"))
    # The record's grid at the time of the change.
    grid = models.ForeignKey(
        "grids.Area",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("grid"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    action = models.CharField(_("action"), max_length=16, choices=ChangeAction.choices)
    changed_fields = models.JSONField(_("changed fields"), default=list, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    SCOPE_AREA_PATH = "grid__path"

    class Meta:
        verbose_name = _("record change")
        verbose_name_plural = _("record changes")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["actor", "at"], name="recordchange_actor_at_idx"),
            models.Index(fields=["grid", "at"], name="recordchange_grid_at_idx"),
            models.Index(fields=["kind", "record_id", "at"], name="recordchange_record_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.record_id} {self.action}"
