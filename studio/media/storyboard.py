"""The script of a Preview animatic: its spec and when each shot and line happens.

Shared by the picture (studio/media/animatic.py) and the sound
(studio/media/soundtrack.py), so both follow one timeline.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from studio.prompts.fields import DialogueLine, PromptFields, ShotPart
from studio.prompts.lint import WORDS_PER_SECOND

FPS = 24
SAMPLE_RATE = 48_000
SIZES = {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (960, 960)}
MIN_DURATION, MAX_DURATION = 3, 15

# Dialogue pacing: a relaxed speaking rate plus time to read the subtitle.
LINE_PAD = 0.6
LEAD_IN = 0.5  # nobody speaks on the very first frame
TAIL = 0.4


@dataclass(frozen=True)
class AnimaticSpec:
    duration: int  # seconds, 3..15
    aspect_ratio: str  # "16:9" | "9:16" | "1:1"
    title: str
    label: str  # always drawn, in a badge, on every frame
    scene: str
    setting: str
    camera: str
    style: str
    dialogue: tuple[DialogueLine, ...]
    ambience: str
    sound_effects: str
    music: str
    audio: bool  # False: the MP4 has no audio stream at all
    shots: tuple[ShotPart, ...] = ()

    def __post_init__(self) -> None:
        # Fail loudly rather than render something other than what was asked for.
        if not isinstance(self.duration, int) or not (
            MIN_DURATION <= self.duration <= MAX_DURATION
        ):
            raise ValueError(f"duration must be whole seconds, {MIN_DURATION}..{MAX_DURATION}")
        if self.aspect_ratio not in SIZES:
            raise ValueError(f"aspect ratio must be one of {', '.join(SIZES)}")

    @classmethod
    def from_prompt(
        cls,
        fields: PromptFields,
        *,
        title: str,
        label: str,
        duration: int,
        aspect_ratio: str,
        audio: bool,
    ) -> AnimaticSpec:
        return cls(
            duration=duration,
            aspect_ratio=aspect_ratio,
            title=title,
            label=label,
            scene=join(fields.subject, fields.action, sep=" "),
            setting=join(fields.setting),
            camera=join(fields.camera_shot, fields.camera_movement),
            style=join(fields.style, fields.mood),
            dialogue=fields.dialogue,
            ambience=join(fields.ambience),
            sound_effects=join(fields.sound_effects),
            music=join(fields.music),
            audio=audio,
            shots=fields.shots,
        )

    @property
    def size(self) -> tuple[int, int]:
        return SIZES[self.aspect_ratio]


def join(*parts: object, sep: str = ", ") -> str:
    # Stored prompts are JSON: a field can come back as null or a number.
    return sep.join(str(p).strip() for p in parts if p is not None and str(p).strip())


# --- timeline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """One shot's stretch of the clip (a single segment when the take is not multi-shot)."""

    index: int
    count: int
    prompt: str
    start: float
    end: float


@dataclass(frozen=True)
class Cue:
    """One dialogue line: when its subtitle shows and its voice plays."""

    start: float
    end: float
    speaker: str
    line: str
    delivery: str
    voice: int  # the speaker's index in order of appearance, so each speaker sounds alike

    @property
    def text(self) -> str:
        return f"{self.speaker}: {self.line}" if self.speaker else self.line


def segment_timeline(spec: AnimaticSpec) -> tuple[Segment, ...]:
    """The shot segments, scaled to the clip and snapped to frame boundaries."""
    if not spec.shots:
        return (Segment(0, 1, spec.scene, 0.0, float(spec.duration)),)
    # Shot lengths may not add up to the clip (or be missing): keep their proportions.
    weights = [max(1, shot.duration) for shot in spec.shots]
    total_frames = spec.duration * FPS
    segments, elapsed = [], 0
    for i, shot in enumerate(spec.shots):
        end = round(total_frames * sum(weights[: i + 1]) / sum(weights))
        segments.append(Segment(i, len(spec.shots), shot.prompt, elapsed / FPS, end / FPS))
        elapsed = end
    return tuple(segments)


def cue_timeline(spec: AnimaticSpec) -> tuple[Cue, ...]:
    """Dialogue spread across the clip, each line's span growing with its word count.

    A line gets the time it takes to say and read it; if the lines do not fit they are
    squeezed proportionally, and spare time is shared out as pauses after each line.
    """
    lines = [d for d in spec.dialogue if d.line.strip()]
    if not lines:
        return ()
    window = spec.duration - LEAD_IN - TAIL
    natural = [len(d.line.split()) / WORDS_PER_SECOND + LINE_PAD for d in lines]
    scale = min(1.0, window / sum(natural))
    pause = (window - scale * sum(natural)) / len(lines)
    voices: dict[str, int] = {}
    cues, t = [], LEAD_IN
    for line, span in zip(lines, natural, strict=True):
        voice = voices.setdefault(line.speaker.strip().casefold(), len(voices))
        cues.append(
            Cue(t, t + span * scale, line.speaker.strip(), line.line.strip(), line.delivery, voice)
        )
        t += span * scale + pause
    return tuple(cues)


def active(items: tuple[Segment, ...] | tuple[Cue, ...], t: float) -> int | None:
    for i, item in enumerate(items):
        if item.start <= t < item.end:
            return i
    return None


def word_list(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def stable_seed(text: str) -> int:
    # A stable hash: Python's hash() changes per process, renders must not.
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
