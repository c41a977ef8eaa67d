"""Photo and file checks: type by content (not by name), size, EXIF orientation applied."""

from io import BytesIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def clean_photo(upload: UploadedFile) -> tuple[ContentFile, str]:
    """Check an uploaded photo and return it upright, re-encoded, with its content type.

    Raises ValidationError with a translated message for anything that is not a JPEG,
    PNG or WebP image within PHOTO_MAX_BYTES.
    """
    limit = settings.PHOTO_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            _("The photo “%(name)s” is %(size).1f MB; the limit is %(limit).0f MB.")
            % {"name": upload.name, "size": upload.size / 2**20, "limit": limit / 2**20},
            code="photo_too_large",
        )
    try:
        upload.seek(0)
        image = Image.open(upload)
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValidationError(
            _("“%(name)s” is not a photo (JPEG, PNG or WebP).") % {"name": upload.name},
            code="photo_type",
        ) from exc
    if image.format not in PHOTO_FORMATS:
        raise ValidationError(
            _("“%(name)s” is not a photo (JPEG, PNG or WebP).") % {"name": upload.name},
            code="photo_type",
        )
    # Phones store portrait photos sideways with an EXIF orientation tag: apply it, so every
    # viewer shows the photo upright, and drop the rest of the EXIF data (GPS, device).
    upright = ImageOps.exif_transpose(image)
    out = BytesIO()
    fmt = image.format
    if fmt == "JPEG":
        upright.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    else:
        upright.save(out, fmt)
    stem = (upload.name or "photo").rsplit(".", 1)[0][:60]
    ext = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt]
    return ContentFile(out.getvalue(), name=f"{stem}.{ext}"), PHOTO_FORMATS[fmt]
