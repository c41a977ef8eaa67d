"""Import people, houses and organisations from Excel (.xlsx) or CSV.

Two passes over the file. `import_check` reads every row and records every problem (bad
identity number, unknown grid or a grid outside the importer's scope, duplicate in the file
or in the register, missing field) without writing anything; the page shows that report.
`import_write` then writes all rows in one transaction, or none: it checks again (the
register may have changed since) and rolls everything back on the first problem. Large
files run both passes in Celery and report progress on the job row.

Problem messages never repeat the personal data of the row (they name the row and field).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govgrid.accounts.scoping import scope_queryset
from govgrid.lib import crypto
from grids.models import Area
from residents import pii
from residents.models import (
    Building,
    ChangeAction,
    House,
    HouseUse,
    ImportJob,
    ImportKind,
    ImportState,
    Organisation,
    Person,
    PersonKind,
    RecordChange,
    RecordKind,
    Residence,
)
from residents.services import PersonInput, person_fields

# Files with more rows than this are checked and written by a Celery worker.
SYNC_ROWS = 2000
PROGRESS_EVERY = 500

# Accepted column titles (Chinese as exported by the usual ledgers, or English).
COLUMNS = {
    ImportKind.PEOPLE: {
        "grid_code": ("网格编码", "grid_code"),
        "name": ("姓名", "name"),
        "id_number": ("身份证号", "公民身份号码", "id_number"),
        "phone": ("联系电话", "电话", "phone"),
        "gender": ("性别", "gender"),
        "kind": ("人口类型", "kind"),
        "ethnicity": ("民族", "ethnicity"),
        "registered_address": ("户籍地址", "registered_address"),
        # Optional: the person's home, an existing house of the same grid.
        "building": ("楼栋", "building"),
        "unit_no": ("单元", "unit"),
        "room": ("房号", "room"),
        "relation": ("居住关系", "relation"),
    },
    ImportKind.HOUSES: {
        "grid_code": ("网格编码", "grid_code"),
        "building": ("楼栋", "building"),
        "unit_no": ("单元", "unit"),
        "room": ("房号", "room"),
        "use": ("房屋用途", "用途", "use"),
        "owner_name": ("产权人", "owner"),
        "lon": ("经度", "lon"),
        "lat": ("纬度", "lat"),
    },
    ImportKind.ORGANISATIONS: {
        "grid_code": ("网格编码", "grid_code"),
        "name": ("名称", "单位名称", "name"),
        "kind": ("类别", "kind"),
        "place_kind": ("重点场所类别", "place_kind"),
        "credit_code": ("统一社会信用代码", "credit_code"),
        "legal_person": ("法定代表人", "legal_person"),
        "phone": ("联系电话", "phone"),
        "address": ("地址", "address"),
    },
}
REQUIRED = {
    ImportKind.PEOPLE: ("grid_code", "name"),
    ImportKind.HOUSES: ("grid_code", "building", "room"),
    ImportKind.ORGANISATIONS: ("grid_code", "name"),
}
GENDERS = {"男": "m", "女": "f", "m": "m", "f": "f", "male": "m", "female": "f", "": ""}
KINDS = {
    "户籍": "registered",
    "户籍人口": "registered",
    "流动": "floating",
    "流动人口": "floating",
    "境外": "foreign",
    "境外人员": "foreign",
    "未落户": "unregistered",
    "": "registered",
    **{k: k for k in PersonKind.values},
}
RELATIONS = {
    "": "family",
    "产权人": "owner",
    "户主": "owner",
    "租户": "tenant",
    "承租人": "tenant",
    "家庭成员": "family",
    "其他": "other",
    **{k: k for k in ("owner", "tenant", "family", "other")},
}
USES = {
    "自住": "self",
    "自住房": "self",
    "出租": "rented",
    "出租房": "rented",
    "闲置": "vacant",
    "闲置房": "vacant",
    "集体": "collective",
    "商用": "commercial",
    "其他": "other",
    "": "self",
    **{k: k for k in HouseUse.values},
}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_rows(job: ImportJob) -> Iterator[list[str]]:
    """Rows of the uploaded file as lists of strings, the header first.

    The file is stored encrypted (it holds plain identity numbers) and decrypted in memory.
    """
    job.file.open("rb")
    try:
        raw = crypto.decrypt_bytes(job.file.read())
    finally:
        job.file.close()
    if job.file_name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        for row in book.active.iter_rows(values_only=True):
            yield [_cell(v) for v in row]
        book.close()
        return
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError(_("The CSV file is neither UTF-8 nor GB18030 text."))
    for row in csv.reader(io.StringIO(text)):
        yield [_cell(v) for v in row]


def import_discard_file(*, job: ImportJob) -> None:
    """Delete the uploaded file once it is no longer needed (written, failed, or with
    problems: a corrected file is uploaded anew). Personal data is kept no longer than
    necessary (PIPL Art. 19)."""
    if job.file:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")


def _header_map(kind: str, header: list[str]) -> dict[str, int]:
    titles = {title.lower(): field for field, ts in COLUMNS[kind].items() for title in ts}
    return {titles[h.lower()]: i for i, h in enumerate(header) if h.lower() in titles}


@dataclass
class _Context:
    kind: str
    grids: dict[str, Area]
    seen: set
    houses: dict = field(default_factory=dict)


def _row_values(columns: dict[str, int], row: list[str]) -> dict[str, str]:
    return {f: (row[i] if i < len(row) else "") for f, i in columns.items()}


def _check_row(ctx: _Context, values: dict[str, str]) -> tuple[list[str], object]:
    """Problems of one row and, when there are none, what to write."""
    errors = [
        _("“%(field)s” is missing.") % {"field": COLUMNS[ctx.kind][f][0]}
        for f in REQUIRED[ctx.kind]
        if not values.get(f)
    ]
    grid = ctx.grids.get(values.get("grid_code", ""))
    if values.get("grid_code") and grid is None:
        errors.append(_("Unknown grid code, or a grid outside your area."))
    if ctx.kind == ImportKind.PEOPLE:
        return _check_person(ctx, values, grid, errors)
    if ctx.kind == ImportKind.HOUSES:
        key = tuple(values.get(f) for f in ("grid_code", "building", "unit_no", "room"))
        if key in ctx.seen:
            errors.append(_("The same house appears twice in the file."))
        ctx.seen.add(key)
        if values.get("use", "") not in USES:
            errors.append(_("Unknown house use."))
        return errors, (grid, values)
    key = (values.get("grid_code"), values.get("name"))
    if key in ctx.seen:
        errors.append(_("The same organisation appears twice in the file."))
    ctx.seen.add(key)
    try:
        pii.phone_validate(values.get("phone", ""))
    except ValidationError:
        errors.append(_("Bad phone number."))
    return errors, (grid, values)


def _check_person(ctx: _Context, values, grid, errors):
    kind = KINDS.get(values.get("kind", ""))
    if kind is None:
        errors.append(_("Unknown population type."))
    gender = GENDERS.get(values.get("gender", "").lower())
    if gender is None:
        errors.append(_("Unknown gender (男 or 女)."))
    if errors or grid is None:
        return errors, None
    try:
        fields = person_fields(
            PersonInput(
                grid=grid,
                name=values["name"],
                id_number=values.get("id_number", ""),
                phone=values.get("phone", ""),
                gender=gender,
                kind=kind,
                ethnicity=values.get("ethnicity", ""),
                registered_address=values.get("registered_address", ""),
            )
        )
    except ValidationError as exc:
        for field in exc.message_dict:
            errors.append(
                _("Bad identity number (GB 11643 check).")
                if field == "id_number"
                else _("Bad phone number.")
            )
        return errors, None
    digest = fields["id_number_hash"]
    if digest:
        if digest in ctx.seen:
            errors.append(_("The same identity number appears twice in the file."))
        ctx.seen.add(digest)
    if values.get("building") or values.get("room"):
        house_id = _house_id(ctx, grid, values)
        if house_id is None:
            errors.append(_("No such house in this grid (楼栋/单元/房号)."))
        relation = RELATIONS.get(values.get("relation", ""))
        if relation is None:
            errors.append(_("Unknown relation to the house."))
        fields = {**fields, "_house_id": house_id, "_relation": relation}
    return errors, fields


def _house_id(ctx: _Context, grid, values) -> int | None:
    """The house a row names, from the grid's houses read in one query the first time a row
    of that grid names one (not one query per row)."""
    if grid.pk not in ctx.houses:
        houses: dict[tuple, int] = {}
        for pk, building, unit_no, room in House.objects.filter(grid=grid).values_list(
            "pk", "building__name", "unit_no", "room"
        ):
            houses.setdefault((building, unit_no, room), pk)
        ctx.houses[grid.pk] = houses
    key = (values.get("building", ""), values.get("unit_no", ""), values.get("room", ""))
    return ctx.houses[grid.pk].get(key)


def _known_duplicates(kind: str, rows: list) -> set:
    """Hashes (people) already in the register, in one query per 5,000 rows."""
    if kind != ImportKind.PEOPLE:
        return set()
    hashes = [f["id_number_hash"] for _, f in rows if f and f["id_number_hash"]]
    found: set = set()
    for i in range(0, len(hashes), 5000):
        found.update(
            Person.objects.filter(id_number_hash__in=hashes[i : i + 5000]).values_list(
                "id_number_hash", flat=True
            )
        )
    return found


def _evaluate(job: ImportJob, *, on_progress=None) -> tuple[list[dict], list]:
    rows = list(read_rows(job))
    if not rows:
        return [{"row": 1, "errors": [_("The file is empty.")]}], []
    header, body = rows[0], [r for r in rows[1:] if any(r)]
    columns = _header_map(job.kind, header)
    missing = [COLUMNS[job.kind][f][0] for f in REQUIRED[job.kind] if f not in columns]
    if missing:
        return [{"row": 1, "errors": [_("Missing columns: %s") % "、".join(missing)]}], []
    grids = {
        g.code: g
        for g in scope_queryset(job.actor, Area.objects.grids()).only(
            "pk", "code", "path", "boundary", "level"
        )
    }
    ctx = _Context(kind=job.kind, grids=grids, seen=set())
    problems: list[dict] = []
    checked: list = []
    for n, row in enumerate(body, start=2):
        errors, payload = _check_row(ctx, _row_values(columns, row))
        if errors:
            problems.append({"row": n, "errors": errors})
        checked.append((n, payload))
        if on_progress and (n - 1) % PROGRESS_EVERY == 0:
            on_progress(n - 1, len(body))
    dupes = _known_duplicates(job.kind, checked)
    if dupes:
        by_row = {p["row"]: p for p in problems}
        for n, fields in checked:
            if fields and fields["id_number_hash"] in dupes:
                msg = _("A person with this identity number is already registered.")
                by_row.setdefault(n, {"row": n, "errors": []})["errors"].append(msg)
        problems = sorted(by_row.values(), key=lambda p: p["row"])
    return problems, checked


def _progress(job_id: int):
    def report(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(done_rows=done, total_rows=total)

    return report


def import_check(*, job: ImportJob) -> ImportJob:
    """Check every row; record the problems; write nothing."""
    try:
        problems, checked = _evaluate(job, on_progress=_progress(job.pk))
    except ValidationError as exc:
        problems, checked = [{"row": 1, "errors": exc.messages}], []
    job.problems = problems
    job.total_rows = len(checked)
    job.done_rows = len(checked)
    job.state = ImportState.CHECKED
    job.save(update_fields=["problems", "total_rows", "done_rows", "state", "updated_at"])
    if problems:
        import_discard_file(job=job)
    return job


def import_write(*, job: ImportJob) -> ImportJob:
    """Write every row in one transaction, or nothing if any row has a problem now."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.state != ImportState.CHECKED or job.problems:
            return job
        job.state = ImportState.WRITING
        job.save(update_fields=["state", "updated_at"])
    try:
        with transaction.atomic():
            problems, checked = _evaluate(job)
            if problems:
                raise _Abort(problems)
            written = _write(job, [payload for _, payload in checked])
    except IntegrityError:
        # A house or person registered by someone else between the check and the write.
        abort = _Abort([{"row": 0, "errors": [_("Some rows already exist in the register.")]}])
        job.problems = abort.problems
        job.state = ImportState.FAILED
        job.save(update_fields=["problems", "state", "updated_at"])
        import_discard_file(job=job)
        return job
    except _Abort as abort:
        job.problems = abort.problems
        job.state = ImportState.FAILED
        job.save(update_fields=["problems", "state", "updated_at"])
        import_discard_file(job=job)
        return job
    job.written = written
    job.state = ImportState.DONE
    job.save(update_fields=["written", "state", "updated_at"])
    import_discard_file(job=job)
    return job


class _Abort(Exception):
    def __init__(self, problems):
        self.problems = problems


def _history(job: ImportJob, kind: str, records: list) -> None:
    """One `created` row per written record, by the importing user, in the same transaction."""
    now = timezone.now()
    RecordChange.objects.bulk_create(
        [
            RecordChange(
                kind=kind,
                record_id=r.pk,
                grid_id=r.grid_id,
                actor_id=job.actor_id,
                action=ChangeAction.CREATED,
                at=now,
            )
            for r in records
        ],
        batch_size=2000,
    )


def _write(job: ImportJob, payloads: list) -> int:
    if job.kind == ImportKind.PEOPLE:
        people = [Person(**{k: v for k, v in f.items() if not k.startswith("_")}) for f in payloads]
        Person.objects.bulk_create(people, batch_size=2000)
        _history(job, RecordKind.PERSON, people)
        today = timezone.localdate()
        Residence.objects.bulk_create(
            [
                Residence(person=p, house_id=f["_house_id"], relation=f["_relation"], since=today)
                for p, f in zip(people, payloads, strict=True)
                if f.get("_house_id")
            ],
            batch_size=2000,
        )
        return len(payloads)
    if job.kind == ImportKind.HOUSES:
        houses = _write_houses(payloads)
        _history(job, RecordKind.HOUSE, houses)
        return len(houses)
    orgs = []
    for grid, v in payloads:
        phone = pii.phone_normalise(v.get("phone", ""))
        orgs.append(
            Organisation(
                grid=grid,
                name=v["name"],
                kind=v.get("kind", ""),
                place_kind=v.get("place_kind", ""),
                is_key_place=bool(v.get("place_kind")),
                credit_code=v.get("credit_code", ""),
                legal_person=v.get("legal_person", ""),
                phone_enc=crypto.encrypt(phone),
                phone_masked=pii.phone_mask(phone),
                address=v.get("address", ""),
            )
        )
    Organisation.objects.bulk_create(orgs, batch_size=2000)
    _history(job, RecordKind.ORGANISATION, orgs)
    return len(orgs)


def _write_houses(payloads: list) -> list[House]:
    from django.contrib.gis.geos import Point

    # The file's grids' buildings in one query; the missing ones created in one insert.
    buildings: dict[tuple, Building] = {}
    for b in Building.objects.filter(grid__in={grid.pk for grid, _v in payloads}).only(
        "pk", "grid_id", "name"
    ):
        buildings.setdefault((b.grid_id, b.name), b)
    new: list[Building] = []
    for grid, v in payloads:
        key = (grid.pk, v["building"])
        if key not in buildings:
            try:
                point = Point(float(v["lon"]), float(v["lat"]), srid=4326)
            except (KeyError, TypeError, ValueError):
                point = grid.boundary.point_on_surface if grid.boundary else Point(0, 0)
            buildings[key] = Building(grid=grid, name=v["building"], location=point)
            new.append(buildings[key])
    Building.objects.bulk_create(new, batch_size=2000)
    houses = [
        House(
            building=buildings[(grid.pk, v["building"])],
            grid=grid,
            unit_no=v.get("unit_no", ""),
            room=v["room"],
            use=USES[v.get("use", "")],
            owner_name=v.get("owner_name", ""),
        )
        for grid, v in payloads
    ]
    # An existing house (same building, unit and room) violates the unique constraint and
    # rolls the whole import back.
    House.objects.bulk_create(houses, batch_size=2000)
    return houses
