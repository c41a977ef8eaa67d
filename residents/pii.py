"""Identity numbers (GB 11643) and phone numbers: validation, normalisation, masking.

Masks follow practice (GB/T 35273 §7.2 asks for server-side de-identification without fixing
the digits): an identity number keeps its first 6 and last 4 characters, a phone its first 3
and last 4. Masks are computed once when a value is stored and kept beside the ciphertext, so
lists never need the key.
"""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from govgrid.lib import crypto

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_PHONE_KEEP = re.compile(r"[^\d+]")


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def id_normalise(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def id_birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def id_validate(value: str) -> str:
    """The normalised 18-character identity number, or ValidationError saying what is wrong."""
    number = id_normalise(value)
    if not _ID_SHAPE.match(number):
        raise ValidationError(
            _("An identity number has 18 characters: 17 digits and a digit or X."),
            code="id_shape",
        )
    birth = id_birth_date(number)
    if birth is None or birth > timezone.localdate() or birth.year < 1880:
        raise ValidationError(
            _("The birth date inside the identity number is not a real date."), code="id_birth"
        )
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("The identity number's check digit is wrong (GB 11643)."), code="id_check"
        )
    return number


def id_mask(number: str) -> str:
    if not number:
        return ""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def phone_normalise(value: str) -> str:
    return _PHONE_KEEP.sub("", value or "")


def phone_validate(value: str) -> str:
    phone = phone_normalise(value)
    if phone and not (7 <= len(phone.lstrip("+")) <= 15):
        raise ValidationError(_("A phone number has 7 to 15 digits."), code="phone")
    return phone


def phone_mask(phone: str) -> str:
    if not phone:
        return ""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def sealed(value: str, *, mask) -> tuple[str, str, str]:
    """(ciphertext, blind index, mask) of a value, all empty for an empty value."""
    return crypto.encrypt(value), crypto.blind_index(value), mask(value)
