"""Prompts, rendering and decoding helpers shared by the media tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import av
import numpy as np

from studio.media.animatic import render_animatic
from studio.media.storyboard import AnimaticSpec
from studio.prompts.fields import DialogueLine, PromptFields, ShotPart

LABEL = "Preview: offline draft, not AI"

PROMPT = PromptFields(
    subject="A lighthouse keeper in a yellow raincoat",
    action="climbs the spiral stairs with a lantern",
    setting="Rocky island at night",
    camera_shot="Medium close-up",
    camera_movement="slow dolly in",
    style="35mm film",
    mood="tense",
    dialogue=(
        DialogueLine("Keeper", "The lamp must not go out tonight."),
        DialogueLine("Radio", "Mayday, this is the Northern Star.", "crackling"),
    ),
    ambience="heavy rain on the windows",
    sound_effects="door slams",
    music="low strings",
)

SHOTS = (
    ShotPart("Wide shot: the lighthouse on the cliff as lightning flashes", 3),
    ShotPart("Close-up of the keeper's hands trimming the lamp wick", 4),
    ShotPart("The beam sweeps across a ship in distress", 3),
)


def make_spec(
    *, duration: int, aspect_ratio: str, audio: bool = True, **prompt: object
) -> AnimaticSpec:
    return AnimaticSpec.from_prompt(
        dataclasses.replace(PROMPT, **prompt),
        title="Kling 3.0",
        label=LABEL,
        duration=duration,
        aspect_ratio=aspect_ratio,
        audio=audio,
    )


def render(spec: AnimaticSpec, directory: Path, name: str) -> Path:
    path = directory / f"{name}.mp4"
    render_animatic(spec, path)
    return path


def decode_audio(path: Path) -> np.ndarray:
    """The whole audio track, mixed down to mono float samples at 48 kHz."""
    with av.open(str(path)) as container:
        chunks = [frame.to_ndarray().mean(axis=0) for frame in container.decode(audio=0)]
    return np.concatenate(chunks)


def rms(samples: np.ndarray, start: float, end: float, rate: int = 48_000) -> float:
    window = samples[int(start * rate) : int(end * rate)]
    return float(np.sqrt(np.mean(window.astype(np.float64) ** 2)))


def frame_at(path: Path, seconds: float) -> np.ndarray:
    """The RGB frame shown at ``seconds``, decoded with PyAV from the start."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time + 1e-3 >= seconds:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {seconds} s")
