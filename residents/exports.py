"""Excel exports of what the user may see, masked, each one written to the audit log."""

from __future__ import annotations

from io import BytesIO

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils.translation import gettext as _
from openpyxl import Workbook

from govgrid.audit.models import AuditAction
from govgrid.audit.services import audit_record
from residents import selectors


def people_xlsx(*, user, request: HttpRequest | None = None) -> tuple[bytes, int]:
    """Every person in the user's scope, masked, with the key groups the user is granted.

    Streams rows (openpyxl write-only mode, a server-side cursor in chunks), so a street's
    hundred thousand people do not sit in memory. Returns the file and the row count.
    """
    from residents.models import KeyPerson, Person

    qs = selectors.scoped(user, Person.objects.select_related("grid")).prefetch_related(
        Prefetch(
            "key_records",
            queryset=KeyPerson.objects.filter(
                group_id__in=selectors.visible_group_ids(user), until__isnull=True
            ).select_related("group"),
        )
    )
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("People"))
    sheet.append(
        [
            _("Name"),
            _("Gender"),
            _("Birth date"),
            _("Population type"),
            _("Identity number"),
            _("Phone"),
            _("Grid"),
            _("Grid code"),
            _("Registered address"),
            _("Key-person groups"),
        ]
    )
    count = 0
    for p in qs.order_by("grid__code", "name", "pk").iterator(chunk_size=2000):
        sheet.append(
            [
                p.name,
                p.get_gender_display(),
                p.birth_date.isoformat() if p.birth_date else "",
                p.get_kind_display(),
                p.id_number_masked,
                p.phone_masked,
                p.grid.name,
                p.grid.code,
                p.registered_address,
                "、".join(k.group.name for k in p.key_records.all()),
            ]
        )
        count += 1
    out = BytesIO()
    book.save(out)
    audit_record(
        action=AuditAction.EXPORT,
        actor=user,
        target="residents.person",
        request=request,
        detail={"rows": count, "masked": True},
    )
    return out.getvalue(), count
