"""Serving local media (when storage is the filesystem), with byte ranges.

Browsers seek in a video by asking for byte ranges; without 206 answers a player can
only play from the start, and frame-accurate review needs seeking.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from studio.media.storage import verify

RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def _chunks(path: Path, start: int, length: int):
    with path.open("rb") as handle:
        handle.seek(start)
        while length > 0:
            data = handle.read(min(CHUNK, length))
            if not data:
                return
            length -= len(data)
            yield data


@require_GET
def for_provider(request: HttpRequest, token: str) -> HttpResponse:
    """A take's start or end image, for the provider that makes the take (no login: the
    signed, time-limited token is the permission)."""
    from studio.media.images import image_for_link

    image = image_for_link(token)
    if image is None:
        raise Http404
    response = FileResponse(
        default_storage.open(image.file.name, "rb"), content_type=image.content_type
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
def serve(request: HttpRequest, name: str) -> HttpResponse:
    if not verify(name, request.GET.get("sig", "")):
        raise Http404
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / name).resolve()
    if root not in path.parents or not path.is_file():
        raise Http404
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    size = path.stat().st_size
    download = request.GET.get("download", "")

    match = RANGE.match(request.headers.get("Range", ""))
    if match and (match[1] or match[2]):
        if match[1]:
            start = int(match[1])
            end = min(int(match[2]), size - 1) if match[2] else size - 1
        else:  # "bytes=-N": the last N bytes
            start, end = max(size - int(match[2]), 0), size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        response = StreamingHttpResponse(
            _chunks(path, start, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    else:
        response = FileResponse(path.open("rb"), content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=300"
    if download:
        response["Content-Disposition"] = content_disposition_header(True, download)
    return response
