"""Start and end frames: take an upload or a link, keep only a re-encoded copy.

Every image goes through one path (reliability.md section 5): bytes capped, the type
decided by Pillow from the magic bytes with decoders restricted to the allowed formats,
the pixel count checked before anything is decoded (decompression bombs), EXIF
orientation applied, then a fresh JPEG or PNG written. Nothing of the original file
survives: no EXIF or GPS, no trailing HTML of a polyglot, no user file name in the key.
Providers get a short-lived signed link to our copy, never the creator's link.
"""

from __future__ import annotations

import io
import tempfile
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import ExifTags, ImageOps, UnidentifiedImageError
from PIL import Image as Pillow

from studio.lib import http
from studio.media.keys import new_key
from studio.media.models import Image
from studio.providers.base import ImageInput
from studio.providers.catalog import ImageRules

_FORMAT_NAMES = {"WEBP": "WebP"}  # how creators spell the formats Pillow names in capitals
# EXIF orientations that turn the picture a quarter turn, swapping width and height.
_QUARTER_TURNS = {5, 6, 7, 8}


class ImageRejected(Exception):
    """An image we will not use; ``message`` is meant for the creator, in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def accept_upload(*, workspace, user, upload: UploadedFile, rules: ImageRules) -> Image:
    """Validate and store an uploaded start/end frame."""
    upload.seek(0)
    data = upload.read(rules.max_bytes + 1)  # never hold more than the cap plus one byte
    return _store(workspace, user, data, upload.name or "", rules)


def accept_url(*, workspace, user, url: str, rules: ImageRules) -> Image:
    """Fetch a creator's image link through the guarded client, then treat it as an upload."""
    with tempfile.TemporaryDirectory(prefix="studio-image-") as folder:
        dest = Path(folder) / "image"
        try:
            http.download(url, dest, kind="image", max_bytes=rules.max_bytes)
        except http.HttpError as error:
            raise ImageRejected(_fetch_failed(error, rules)) from error
        data = dest.read_bytes()
    name = unquote(PurePosixPath(urlsplit(url).path).name)
    return _store(workspace, user, data, name, rules)


# How long a provider may fetch a take's image after the take was made. The link is the
# same for every send of the take, so a resend with an idempotency key (Apiframe) carries
# exactly the first request's body.
PROVIDER_LINK_TTL = timedelta(hours=24)
_LINKS = signing.Signer(salt="studio.provider-image")


def provider_link(image: Image, issued: datetime) -> str:
    """An absolute link a provider can fetch the image from, or "" when this installation
    has no public address (STUDIO_PUBLIC_URL)."""
    if not settings.STUDIO_PUBLIC_URL:
        return ""
    token = _LINKS.sign_object([str(image.pk), int(issued.timestamp())])
    return settings.STUDIO_PUBLIC_URL + reverse("media:for_provider", args=[token])


def image_for_link(token: str) -> Image | None:
    """The image a provider link points to, if the link is genuine and still valid."""
    try:
        image_id, issued = _LINKS.unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if timezone.now().timestamp() > issued + PROVIDER_LINK_TTL.total_seconds():
        return None
    return Image.objects.filter(pk=image_id).first()


def provider_input(image: Image, issued: datetime) -> ImageInput:
    """Our stored copy in the forms providers take: a stable signed link and the bytes."""
    with default_storage.open(image.file.name, "rb") as stored:
        data = stored.read()
    return ImageInput(url=provider_link(image, issued), data=data, content_type=image.content_type)


# --- the one validation path ----------------------------------------------------------------


@dataclass(frozen=True)
class _Clean:
    data: bytes
    ext: str
    content_type: str
    width: int
    height: int


def _store(workspace, user, data: bytes, original_name: str, rules: ImageRules) -> Image:
    clean = _clean(data, rules)
    name = default_storage.save(new_key(workspace.id, "images", clean.ext), ContentFile(clean.data))
    try:
        return Image.objects.create(
            workspace=workspace,
            file=name,
            content_type=clean.content_type,
            width=clean.width,
            height=clean.height,
            size_bytes=len(clean.data),
            original_name=original_name[:200],
            created_by=user,
        )
    except BaseException:
        default_storage.delete(name)  # no stored file without its row
        raise


def _clean(data: bytes, rules: ImageRules) -> _Clean:
    """Checked, made upright and re-encoded; every check that can runs before decoding."""
    if not data:
        raise ImageRejected("This file is empty.")
    if len(data) > rules.max_bytes:
        raise ImageRejected(_too_big(rules))
    with warnings.catch_warnings():
        # Pillow only warns between its own limit and twice that; a warning is a bomb too.
        warnings.simplefilter("error", Pillow.DecompressionBombWarning)
        try:
            picture = Pillow.open(io.BytesIO(data), formats=list(rules.formats))
            _check_size(picture, rules)
            picture.load()
            ImageOps.exif_transpose(picture, in_place=True)
            return _reencode(picture)
        except (Pillow.DecompressionBombWarning, Pillow.DecompressionBombError) as error:
            raise ImageRejected(_too_many_pixels(rules)) from error
        except UnidentifiedImageError as error:
            raise ImageRejected(f"This file isn't a {_format_list(rules)} image.") from error
        except (OSError, SyntaxError, ValueError) as error:
            # Pillow reports truncated and corrupt files (and modes it cannot convert) so.
            raise ImageRejected(
                "This image seems damaged or incomplete. Try saving it again and re-uploading."
            ) from error


def _check_size(picture: Pillow.Image, rules: ImageRules) -> None:
    """Pixel count, smallest side and shape, from the header alone (nothing decoded yet)."""
    width, height = picture.size
    if width * height > rules.max_pixels:
        raise ImageRejected(f"This image is {_pixels(width, height)}. {_too_many_pixels(rules)}")
    if min(width, height) < rules.min_side:
        raise ImageRejected(
            f"This image is {_pixels(width, height)}; it needs to be at least "
            f"{rules.min_side} pixels on each side."
        )
    if picture.getexif().get(ExifTags.Base.Orientation) in _QUARTER_TURNS:
        width, height = height, width  # judge the shape the creator sees
    if not rules.min_aspect <= width / height <= rules.max_aspect:
        raise ImageRejected(
            f"This image is {_pixels(width, height)}, which is too "
            f"{'wide' if width / height > rules.max_aspect else 'tall'}. The width can be "
            f"{rules.min_aspect:g} to {rules.max_aspect:g} times the height."
        )


def _reencode(picture: Pillow.Image) -> _Clean:
    """Fresh bytes: PNG where there is real transparency, JPEG (quality 90) otherwise."""
    out = io.BytesIO()
    size = picture.size
    if picture.has_transparency_data:
        rgba = picture.convert("RGBA")
        if rgba.getchannel("A").getextrema()[0] < 255:
            rgba.save(out, "PNG", optimize=True)
            return _Clean(out.getvalue(), "png", "image/png", *size)
    picture.convert("RGB").save(out, "JPEG", quality=90)
    return _Clean(out.getvalue(), "jpg", "image/jpeg", *size)


# --- words for the creator -----------------------------------------------------------------


def _format_list(rules: ImageRules) -> str:
    names = [_FORMAT_NAMES.get(f, f) for f in rules.formats]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _pixels(width: int, height: int) -> str:
    return f"{width}\N{MULTIPLICATION SIGN}{height} pixels"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _too_big(rules: ImageRules) -> str:
    return f"This image is larger than {_megabytes(rules.max_bytes)}, the most we accept."


def _too_many_pixels(rules: ImageRules) -> str:
    return f"The most we accept is {rules.max_pixels / 1_000_000:g} megapixels."


def _fetch_failed(error: http.HttpError, rules: ImageRules) -> str:
    if isinstance(error, http.Refused):
        return "Studio can't fetch images from that address. Use a public https:// link."
    if isinstance(error, http.TooLarge):
        return _too_big(rules)
    if isinstance(error, http.BadContent):
        return f"That link doesn't lead to a {_format_list(rules)} image."
    if isinstance(error, http.HttpStatusError) and error.status_code in (404, 410):
        return "There's no image at that link. Check that it opens in your browser."
    return "We couldn't download the image from that link. Check it and try again."
