from __future__ import annotations

import io
import random
import wave

import pytest
from PIL import Image

from studio.media.probe import NotAVideo, probe


def random_bytes() -> bytes:
    return random.Random(7).randbytes(64_000)


def html_page() -> bytes:
    return b"<!doctype html><html><head><title>404</title></head><body>Not found</body></html>"


def png_image() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "orange").save(buffer, "PNG")
    return buffer.getvalue()


def wav_audio() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(48_000)
        wav.writeframes(b"\x00\x01" * 48_000)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content",
    [random_bytes(), html_page(), b"", png_image(), wav_audio()],
    ids=["random-bytes", "html", "empty", "png-still", "audio-only"],
)
def test_probe_refuses_files_that_are_not_videos(tmp_path, content):
    path = tmp_path / "upload.mp4"
    path.write_bytes(content)

    with pytest.raises(NotAVideo):
        probe(path)


def test_probe_refuses_a_video_cut_off_halfway(portrait_clip, tmp_path):
    data = portrait_clip.read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(NotAVideo):
        probe(path)


def test_probe_refuses_a_video_cut_off_inside_its_header(portrait_clip, tmp_path):
    path = tmp_path / "cut.mp4"
    path.write_bytes(portrait_clip.read_bytes()[:1500])

    with pytest.raises(NotAVideo):
        probe(path)


def test_probe_refuses_a_missing_file(tmp_path):
    with pytest.raises(NotAVideo):
        probe(tmp_path / "nothing-here.mp4")


def test_probe_reports_a_clip_without_audio(silent_clip):
    info = probe(silent_clip)

    assert (info.has_audio, info.audio_codec, info.audio_streams) == (False, "", 0)
    assert info.video_codec == "h264"
