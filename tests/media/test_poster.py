from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from studio.media.poster import poster_jpeg
from studio.media.probe import NotAVideo
from studio.media.storyboard import segment_timeline
from tests.media.helpers import frame_at


def open_jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_poster_is_a_jpeg_scaled_down_to_max_width(landscape_clip):
    image = open_jpeg(poster_jpeg(landscape_clip))

    assert image.format == "JPEG"
    assert image.size == (960, 540)


def test_poster_of_a_narrow_clip_keeps_its_width(portrait_clip):
    image = open_jpeg(poster_jpeg(portrait_clip, max_width=960))

    assert image.size == (720, 1280)


def test_poster_shows_the_frame_at_the_requested_time(landscape_spec, landscape_clip):
    second_shot = segment_timeline(landscape_spec)[1]
    at = second_shot.start + 1.0

    poster = np.asarray(open_jpeg(poster_jpeg(landscape_clip, at_seconds=at, max_width=1280)))
    same = frame_at(landscape_clip, at)
    other = frame_at(landscape_clip, 1.0)

    assert np.abs(poster.astype(int) - same).mean() < 3
    assert np.abs(poster.astype(int) - other).mean() > 3


def test_poster_past_the_end_shows_the_last_frame(silent_clip):
    image = open_jpeg(poster_jpeg(silent_clip, at_seconds=99.0))

    assert image.size == (960, 960)


def test_poster_of_a_non_video_raises_not_a_video(tmp_path):
    path = tmp_path / "page.mp4"
    path.write_bytes(b"<html>not a video</html>")

    with pytest.raises(NotAVideo):
        poster_jpeg(path)
