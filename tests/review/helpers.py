"""Takes with a clip, without rendering one: a tiny stand-in file in real storage."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from studio.generation.models import Clip, Generation, Status
from studio.generation.services import transition
from tests import factories


def finish(take: Generation, *, duration: float = 5.0, fps: float = 24.0) -> Generation:
    """Move a queued take to succeeded and give it a clip (and a poster) in storage."""
    transition(take.pk, Status.QUEUED, Status.SUBMITTING)
    transition(take.pk, Status.SUBMITTING, Status.DOWNLOADING)
    transition(take.pk, Status.DOWNLOADING, Status.SUCCEEDED)
    folder = f"{take.workspace_id}"
    Clip.objects.create(
        generation=take,
        workspace_id=take.workspace_id,
        file=default_storage.save(f"{folder}/clips/{take.pk}.mp4", ContentFile(b"mp4")),
        poster=default_storage.save(f"{folder}/posters/{take.pk}.jpg", ContentFile(b"jpg")),
        size_bytes=3,
        duration_seconds=duration,
        width=1280,
        height=720,
        fps=fps,
        video_codec="h264",
    )
    take.refresh_from_db()
    return take


def finished_take(membership, **kwargs) -> Generation:
    duration = kwargs.pop("duration", 5.0)
    return finish(factories.take(membership, **kwargs), duration=duration)
