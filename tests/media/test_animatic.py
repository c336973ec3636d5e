from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from studio.media.animatic import render_animatic
from studio.media.probe import probe
from studio.media.soundtrack import find_espeak
from studio.media.storyboard import AnimaticSpec, cue_timeline, segment_timeline
from studio.prompts.fields import DialogueLine
from tests.media.helpers import PROMPT, decode_audio, frame_at, make_spec, render, rms

BADGE = np.array((255, 200, 61))


def stream_facts(path: Path) -> dict:
    """What the container really holds, read with PyAV rather than our probe()."""
    with av.open(str(path)) as container:
        video, audio = container.streams.video, container.streams.audio
        return {
            "duration": container.duration / av.time_base,
            "video": [(s.codec_context.name, s.format.name, float(s.average_rate)) for s in video],
            "video_durations": [float(s.duration * s.time_base) for s in video],
            "audio": [(s.codec_context.name, s.sample_rate) for s in audio],
            "audio_durations": [float(s.duration * s.time_base) for s in audio],
        }


def test_five_second_portrait_clip_probes_as_720x1280_h264_with_aac(portrait_clip):
    info = probe(portrait_clip)

    assert (info.video_streams, info.audio_streams) == (1, 1)
    assert (info.video_codec, info.audio_codec, info.has_audio) == ("h264", "aac", True)
    assert (info.width, info.height, info.fps) == (720, 1280, 24.0)
    assert info.duration_seconds == pytest.approx(5.0, abs=0.1)


def test_five_second_portrait_clip_streams_each_last_five_seconds(portrait_clip):
    facts = stream_facts(portrait_clip)

    assert facts["video"] == [("h264", "yuv420p", 24.0)]
    assert facts["audio"] == [("aac", 48_000)]
    assert facts["duration"] == pytest.approx(5.0, abs=0.1)
    assert facts["video_durations"] == [pytest.approx(5.0, abs=0.1)]
    assert facts["audio_durations"] == [pytest.approx(5.0, abs=0.1)]


def test_ten_second_landscape_clip_probes_as_1280x720_h264_with_aac(landscape_clip):
    info = probe(landscape_clip)

    assert (info.video_streams, info.audio_streams) == (1, 1)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height) == (1280, 720)
    assert info.duration_seconds == pytest.approx(10.0, abs=0.1)


def test_ten_second_landscape_clip_streams_each_last_ten_seconds(landscape_clip):
    facts = stream_facts(landscape_clip)

    assert facts["video"] == [("h264", "yuv420p", 24.0)]
    assert facts["audio"] == [("aac", 48_000)]
    assert facts["duration"] == pytest.approx(10.0, abs=0.1)
    assert facts["video_durations"] == [pytest.approx(10.0, abs=0.1)]
    assert facts["audio_durations"] == [pytest.approx(10.0, abs=0.1)]


def test_clip_without_audio_has_no_audio_stream_at_all(silent_clip):
    facts = stream_facts(silent_clip)

    assert facts["audio"] == []
    assert facts["video"] == [("h264", "yuv420p", 24.0)]


def test_square_clip_is_960_by_960(silent_clip):
    info = probe(silent_clip)

    assert (info.width, info.height) == (960, 960)
    assert info.duration_seconds == pytest.approx(3.0, abs=0.1)


def test_label_badge_is_on_every_frame(silent_clip):
    with av.open(str(silent_clip)) as container:
        for frame in container.decode(video=0):
            top = frame.to_ndarray(format="rgb24")[:150].astype(int)
            badge_pixels = (np.abs(top - BADGE).max(axis=2) < 30).sum()
            assert badge_pixels > 5_000, f"no badge at {frame.time:.2f} s"


def test_dialogue_is_heard_during_its_subtitle(
    portrait_spec, portrait_clip, portrait_clip_without_dialogue
):
    first = cue_timeline(portrait_spec)[0]
    with_voice, without = decode_audio(portrait_clip), decode_audio(portrait_clip_without_dialogue)

    assert rms(with_voice, first.start, first.end) > 2 * rms(without, first.start, first.end)


def test_nobody_speaks_before_the_first_subtitle(
    portrait_spec, portrait_clip, portrait_clip_without_dialogue
):
    first = cue_timeline(portrait_spec)[0]
    with_voice, without = decode_audio(portrait_clip), decode_audio(portrait_clip_without_dialogue)

    before = rms(with_voice, 0.05, first.start - 0.1)
    assert before == pytest.approx(rms(without, 0.05, first.start - 0.1), rel=0.1)


def test_dialogue_is_voiced_with_tones_when_espeak_is_missing(
    portrait_spec, portrait_clip_without_dialogue, tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no espeak-ng to find
    assert find_espeak() is None
    clip = render(portrait_spec, tmp_path, "tones")
    first = cue_timeline(portrait_spec)[0]
    with_voice, without = decode_audio(clip), decode_audio(portrait_clip_without_dialogue)

    assert rms(with_voice, first.start, first.end) > 2 * rms(without, first.start, first.end)


def test_soundtrack_never_clips(portrait_clip, landscape_clip):
    for clip in (portrait_clip, landscape_clip):
        assert np.abs(decode_audio(clip)).max() < 0.99


def test_each_shot_shows_its_own_card(landscape_spec, landscape_clip):
    first, second = segment_timeline(landscape_spec)[:2]
    # The middle band holds the shot's text; the subtitles and progress bar sit below it.
    band = slice(int(720 * 0.15), int(720 * 0.6))
    early = frame_at(landscape_clip, first.start + 0.2)[band].astype(int)
    late = frame_at(landscape_clip, first.end - 0.2)[band].astype(int)
    next_shot = frame_at(landscape_clip, second.start + 0.2)[band].astype(int)

    assert np.abs(early - late).mean() < 1.0  # same shot, same card
    assert np.abs(early - next_shot).mean() > 5.0


def test_shots_split_the_clip_in_proportion_to_their_lengths(landscape_spec):
    segments = segment_timeline(landscape_spec)

    assert [(s.start, s.end) for s in segments] == [(0.0, 3.0), (3.0, 7.0), (7.0, 10.0)]
    assert [s.prompt for s in segments] == [shot.prompt for shot in landscape_spec.shots]


def test_longer_lines_get_longer_subtitles_without_overlap():
    spec = make_spec(
        duration=10,
        aspect_ratio="16:9",
        dialogue=(
            DialogueLine("A", "Hi."),
            DialogueLine("B", "I have been waiting for you all night by the harbour wall."),
        ),
    )
    short, long = cue_timeline(spec)

    assert long.end - long.start > 3 * (short.end - short.start)
    assert 0 < short.start < short.end <= long.start < long.end <= spec.duration
    assert (short.voice, long.voice) == (0, 1)


def test_a_long_line_turns_subtitle_pages_instead_of_being_cut(tmp_path):
    line = DialogueLine("Narrator", " ".join(["the tide comes in and the tide goes out"] * 4))
    spec = make_spec(duration=6, aspect_ratio="1:1", audio=False, dialogue=(line,))
    clip = render(spec, tmp_path, "pages")
    (cue,) = cue_timeline(spec)
    subtitles = slice(int(960 * 0.7), int(960 * 0.88))

    first_page = frame_at(clip, cue.start + 0.1)[subtitles].astype(int)
    last_page = frame_at(clip, cue.end - 0.1)[subtitles].astype(int)

    assert np.abs(first_page - last_page).mean() > 3.0


def test_crowded_dialogue_is_squeezed_into_the_clip():
    lines = tuple(DialogueLine("A", "one two three four five six seven eight") for _ in range(6))
    cues = cue_timeline(make_spec(duration=3, aspect_ratio="1:1", dialogue=lines))

    assert len(cues) == 6
    assert cues[-1].end <= 3.0


def test_from_prompt_joins_camera_and_style_fields():
    spec = make_spec(duration=5, aspect_ratio="16:9")

    assert spec.scene == f"{PROMPT.subject} {PROMPT.action}"
    assert spec.camera == "Medium close-up, slow dolly in"
    assert spec.style == "35mm film, tense"


@pytest.mark.parametrize("duration", [2, 16])
def test_spec_refuses_durations_outside_3_to_15_seconds(duration):
    with pytest.raises(ValueError, match="duration"):
        make_spec(duration=duration, aspect_ratio="16:9")


def test_render_replaces_the_output_file_whole(tmp_path):
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"old")
    spec = AnimaticSpec.from_prompt(
        PROMPT, title="Kling 2.6", label="Preview", duration=3, aspect_ratio="1:1", audio=False
    )

    render_animatic(spec, out)

    assert probe(out).duration_seconds == pytest.approx(3.0, abs=0.1)
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]
