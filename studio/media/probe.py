"""What a clip file really is: length, size, frame rate, codecs, audio.

Clips come from providers and uploads, so a file is hostile until probed: anything
PyAV cannot open, without a video stream, without a length (a still image), or cut
short is refused with NotAVideo, and nothing else ever escapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

# How reading a broken file fails: FFmpeg's errors (av.FFmpegError and its subclasses),
# and plain OSError for a missing or unreadable path.
READ_ERRORS = (av.FFmpegError, OSError)


class NotAVideo(Exception):
    """The file is not a playable video; the message is plain enough to show a user."""


@dataclass(frozen=True)
class ProbeResult:
    duration_seconds: float
    width: int
    height: int
    fps: float
    video_codec: str  # "h264"
    audio_codec: str  # "aac", or "" when there is no audio stream
    has_audio: bool
    video_streams: int
    audio_streams: int


def probe(path: Path) -> ProbeResult:
    """Describe the video at ``path``, or raise NotAVideo."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            return _describe(container)
    except NotAVideo:
        raise
    except READ_ERRORS as exc:
        raise NotAVideo("This file is not a video we can read.") from exc


def _describe(container: av.container.InputContainer) -> ProbeResult:
    videos, audios = container.streams.video, container.streams.audio
    if not videos:
        raise NotAVideo("This file has no picture.")
    video = videos[0]
    # A damaged codec tag leaves FFmpeg with no decoder: no context, no size.
    if (
        video.codec_context is None
        or min(video.codec_context.width, video.codec_context.height) < 1
    ):
        raise NotAVideo("This video is in a format we cannot read.")
    fps = float(video.average_rate or video.guessed_rate or 0)
    duration = _duration(container, fps)
    if duration <= 0:
        raise NotAVideo("This file has no length; it looks like a still image.")
    _check_complete(container, video)
    return ProbeResult(
        duration_seconds=round(duration, 3),
        width=video.codec_context.width,
        height=video.codec_context.height,
        fps=round(fps, 3),
        video_codec=video.codec_context.name,
        audio_codec=_codec_name(audios[0]) if audios else "",
        has_audio=bool(audios),
        video_streams=len(videos),
        audio_streams=len(audios),
    )


def _codec_name(stream: av.stream.Stream) -> str:
    return stream.codec_context.name if stream.codec_context is not None else "unknown"


def _duration(container: av.container.InputContainer, fps: float) -> float:
    """The container's length, else the longest stream, else frames over frame rate."""
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    streams = [
        float(s.duration * s.time_base)
        for s in container.streams
        if s.duration and s.time_base and s.type in ("video", "audio")
    ]
    if streams and max(streams) > 0:
        return max(streams)
    video = container.streams.video[0]
    return video.frames / fps if video.frames and fps else 0.0


def _check_complete(container: av.container.InputContainer, video: av.VideoStream) -> None:
    """Read every video packet (no decoding): a single frame is a still image, and a
    download cut short can keep a valid header that promises frames it no longer holds."""
    packets = sum(1 for packet in container.demux(video) if packet.size)
    if packets < 2:
        raise NotAVideo("This file has no moving picture; it looks like a still image.")
    if video.frames and packets < video.frames:
        raise NotAVideo("This video file is incomplete.")
