"""Local media that behaves like a private bucket.

``SignedFileSystemStorage.url()`` returns a short-lived signed link to
:func:`studio.media.views.serve`, so clips on local disk are protected the same way as
presigned S3 URLs: the page that renders a player grants access for a few minutes, and
nothing under var/media is reachable without a signature. Signatures use a timestamp
rounded down to a window, so the same clip keeps the same URL for a while and the
browser's cache keeps working.
"""

from __future__ import annotations

import time
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage
from django.urls import reverse

WINDOW = 300  # seconds a signed URL stays byte-identical


class _WindowSigner(signing.TimestampSigner):
    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) // WINDOW * WINDOW)


def _signer() -> signing.TimestampSigner:
    return _WindowSigner(salt="studio.media")


def sign(name: str) -> str:
    """The ``timestamp:signature`` part of a signed name."""
    return _signer().sign(name)[len(name) + 1 :]


def verify(name: str, token: str) -> bool:
    try:
        _signer().unsign(f"{name}:{token}", max_age=settings.STUDIO_MEDIA_URL_TTL + WINDOW)
    except signing.BadSignature:
        return False
    return True


class SignedFileSystemStorage(FileSystemStorage):
    def url(self, name: str | None, parameters: dict | None = None) -> str:
        assert name
        query = {"sig": sign(name), **(parameters or {})}
        return f"{reverse('media:serve', args=[quote(name)])}?{urlencode(query)}"


def download_url(name: str, filename: str) -> str:
    """A short-lived link that makes the browser save the file as ``filename``."""
    from django.core.files.storage import default_storage
    from django.utils.http import content_disposition_header

    if isinstance(default_storage, SignedFileSystemStorage):
        return default_storage.url(name, {"download": filename})
    return default_storage.url(
        name, parameters={"ResponseContentDisposition": content_disposition_header(True, filename)}
    )
