"""Poster frames: the still a clip shows before it plays (gallery, clip page, share)."""

from __future__ import annotations

import io
from pathlib import Path

import av
from PIL import Image

from studio.media.probe import READ_ERRORS, NotAVideo, probe

# Far enough in to skip fade-ins and black first frames, early enough to be the subject.
DEFAULT_POSITION = 0.4
JPEG_QUALITY = 82


def poster_jpeg(path: Path, *, at_seconds: float | None = None, max_width: int = 960) -> bytes:
    """A JPEG of the frame at ``at_seconds`` (default: 40% in), at most ``max_width`` wide.

    Raises NotAVideo for anything that is not a readable video.
    """
    info = probe(path)
    target = info.duration_seconds * DEFAULT_POSITION if at_seconds is None else at_seconds
    # Clamp into the clip: asking past the end gives the last frame, not an error.
    last_frame = max(0.0, info.duration_seconds - 1 / (info.fps or 24))
    target = min(max(0.0, target), last_frame)
    try:
        image = _frame_at(path, target)
    except READ_ERRORS as exc:
        raise NotAVideo("This file is not a video we can read.") from exc
    if image.width > max_width:
        height = max(1, round(image.height * max_width / image.width))
        image = image.resize((max_width, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return buffer.getvalue()


def _frame_at(path: Path, seconds: float) -> Image.Image:
    """The first frame shown at or after ``seconds``: seek to the keyframe before, then
    decode forward (seeking alone lands on a keyframe, up to two seconds early)."""
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if stream.time_base:
            container.seek(int(seconds / stream.time_base), stream=stream, backward=True)
        frame = None
        for frame in container.decode(stream):
            if frame.time is not None and frame.time + 1e-3 >= seconds:
                break
        if frame is None:
            raise NotAVideo("This video has no frames we can show.")
        return frame.to_image()
