"""The Preview renderer: an honest animatic of a structured prompt, as a real MP4.

A clip is a sequence of storyboard cards (title, scene, setting, camera, style, sound,
timed subtitles) with an ambience bed, a light music/effects layer and a voice track. It
lets a team try the whole product offline; every frame carries the label passed in the
spec so nobody mistakes it for model output.

Speed matters more than polish: a card is drawn once per distinct state (shot segment x
subtitle) and each frame only adds the cheap moving parts (progress bar, timecode,
viewfinder brackets hinting the camera move). Everything goes through PyAV, Pillow and
numpy; espeak-ng is used for the voice when it is installed, tones otherwise.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import os
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from studio.prompts.fields import DialogueLine, PromptFields, ShotPart

FPS = 24
SAMPLE_RATE = 48_000
SIZES = {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (960, 960)}
MIN_DURATION, MAX_DURATION = 3, 15
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

# Dialogue pacing: a relaxed speaking rate plus time to read the subtitle.
WORDS_PER_SECOND = 2.6
LINE_PAD = 0.6
LEAD_IN = 0.5  # nobody speaks on the very first frame
TAIL = 0.4

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Color = tuple[int, int, int]
Subtitle = tuple[tuple[str, str], ...]  # lines of (speaker name part, spoken part)


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
            scene=_join(fields.subject, fields.action, sep=" "),
            setting=_join(fields.setting),
            camera=_join(fields.camera_shot, fields.camera_movement),
            style=_join(fields.style, fields.mood),
            dialogue=fields.dialogue,
            ambience=_join(fields.ambience),
            sound_effects=_join(fields.sound_effects),
            music=_join(fields.music),
            audio=audio,
            shots=fields.shots,
        )

    @property
    def size(self) -> tuple[int, int]:
        return SIZES[self.aspect_ratio]


def _join(*parts: object, sep: str = ", ") -> str:
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


def _active(items: tuple[Segment, ...] | tuple[Cue, ...], t: float) -> int | None:
    for i, item in enumerate(items):
        if item.start <= t < item.end:
            return i
    return None


# --- rendering -----------------------------------------------------------------------------


def render_animatic(spec: AnimaticSpec, out_path: Path) -> None:
    """Render the animatic to ``out_path`` (an MP4), atomically: a reader never sees half."""
    out_path = Path(out_path)
    segments, cues = segment_timeline(spec), cue_timeline(spec)
    look = _Look.for_spec(spec)
    soundtrack = _soundtrack(spec, cues) if spec.audio else None
    partial = out_path.with_name(out_path.name + ".part")
    try:
        _encode(spec, look, segments, cues, soundtrack, partial)
        os.replace(partial, out_path)
    finally:
        partial.unlink(missing_ok=True)


def _encode(
    spec: AnimaticSpec,
    look: _Look,
    segments: tuple[Segment, ...],
    cues: tuple[Cue, ...],
    soundtrack: np.ndarray | None,
    path: Path,
) -> None:
    # faststart puts the index first so browsers can play while downloading.
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        container.metadata["title"] = spec.title
        container.metadata["comment"] = spec.label
        video = container.add_stream(
            "libx264", rate=FPS, options={"preset": "veryfast", "crf": "26"}
        )
        video.width, video.height = spec.size
        video.pix_fmt = "yuv420p"
        video.codec_context.gop_size = 2 * FPS  # a keyframe every 2 s keeps seeking snappy
        # Tag BT.709 (and convert with it) so browsers show the colours we drew.
        ctx = video.codec_context
        ctx.colorspace = ctx.color_primaries = ctx.color_trc = 1  # AVCOL_*_BT709
        ctx.color_range = 1  # limited ("tv") range
        audio = None
        if soundtrack is not None:
            audio = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        audio_done = 0
        for index, frame in enumerate(_frames(spec, look, segments, cues)):
            frame.pts = index
            container.mux(video.encode(frame))
            # Interleave audio second by second so the file streams well.
            if audio is not None and ((index + 1) % FPS == 0):
                upto = (index + 1) // FPS * SAMPLE_RATE
                _encode_audio(container, audio, soundtrack, audio_done, upto)
                audio_done = upto
        container.mux(video.encode(None))
        if audio is not None:
            _encode_audio(container, audio, soundtrack, audio_done, soundtrack.shape[1])
            container.mux(audio.encode(None))


def _encode_audio(
    container: av.container.OutputContainer,
    stream: av.AudioStream,
    soundtrack: np.ndarray,
    start: int,
    stop: int,
) -> None:
    for offset in range(start, stop, 1024):
        chunk = np.ascontiguousarray(soundtrack[:, offset : min(offset + 1024, stop)])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = offset
        container.mux(stream.encode(frame))


def _frames(
    spec: AnimaticSpec, look: _Look, segments: tuple[Segment, ...], cues: tuple[Cue, ...]
) -> Iterator[av.VideoFrame]:
    background = look.background()
    motion = _camera_motion(spec.camera)
    pages = [look.subtitle_pages(cue) for cue in cues]
    state, card = None, None
    total = spec.duration * FPS
    for index in range(total):
        t = index / FPS
        segment, subtitle = segments[_active(segments, t) or 0], _subtitle_at(t, cues, pages)
        if (segment, subtitle) != state:
            # Only a new shot or subtitle page needs a redraw: a dozen cards per clip or so.
            state = (segment, subtitle)
            card = np.asarray(look.card(background, spec, segment, subtitle))
        pixels = card.copy()
        look.draw_moving_parts(pixels, index, total, motion(index / total))
        yield av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(
            format="yuv420p", dst_colorspace="ITU709"
        )


def _subtitle_at(t: float, cues: tuple[Cue, ...], pages: list[tuple[Subtitle, ...]]) -> Subtitle:
    """The subtitle page on screen at ``t``: a cue's pages share its span equally."""
    index = _active(cues, t)
    if index is None:
        return ()
    cue, cue_pages = cues[index], pages[index]
    page = int((t - cue.start) / (cue.end - cue.start) * len(cue_pages))
    return cue_pages[min(page, len(cue_pages) - 1)]


# --- the card ------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _font(size: int, style: str = "") -> Font:
    """DejaVu Sans when installed (fonts-dejavu-core); Pillow's built-in font otherwise."""
    path = FONT_DIR / f"DejaVuSans{style}.ttf"
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _wrap(text: str, font: Font, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap to a pixel width, ending with an ellipsis when text is cut."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        for piece in _split_long_word(word, font, width):
            candidate = f"{current} {piece}" if current else piece
            if current and font.getlength(candidate) > width:
                lines.append(current)
                current = piece
            else:
                current = candidate
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _ellipsize(lines[-1] + " …", font, width)
    return lines


def _split_long_word(word: str, font: Font, width: float) -> list[str]:
    # URLs and scripts without spaces would otherwise run off the card.
    pieces, current = [], ""
    for char in word:
        if current and font.getlength(current + char) > width:
            pieces.append(current)
            current = ""
        current += char
    return [*pieces, current]


def _ellipsize(text: str, font: Font, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` (unchanged when it already fits)."""
    if font.getlength(text) <= width and not text.endswith(" …"):
        return text
    text = text.rstrip(" …")
    while text and font.getlength(text + " …") > width:
        text = text[:-1].rstrip()
    return text + " …"


_MOOD_HUES = (
    (("noir", "night", "moody", "cold", "blue", "rain", "rainy", "melancholic"), 0.60),
    (("warm", "golden", "sunset", "sunrise", "amber", "cozy", "fire"), 0.08),
    (("neon", "cyberpunk", "synthwave", "vaporwave", "dreamy", "pastel"), 0.86),
    (("forest", "nature", "green", "lush", "jungle", "spring"), 0.38),
    (("horror", "blood", "red", "tense", "ominous", "dramatic"), 0.99),
)


def _hue(spec: AnimaticSpec) -> float:
    words = set(_words(f"{spec.style} {spec.setting}"))
    for keywords, hue in _MOOD_HUES:
        if words.intersection(keywords):
            return hue
    return _seed(spec.style + spec.scene) % 1000 / 1000


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _seed(text: str) -> int:
    # A stable hash: Python's hash() changes per process, renders must not.
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _hsv(hue: float, saturation: float, value: float) -> Color:
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)


TEXT = (242, 244, 248)
MUTED = (168, 176, 189)
BADGE = (255, 200, 61)
BADGE_TEXT = (30, 22, 0)


@dataclass(frozen=True)
class _Look:
    """Sizes, colours and fixed positions for one clip; draws its cards and moving parts."""

    width: int
    height: int
    unit: float  # 1.0 at 720 px on the short side
    margin_x: int
    margin_y: int
    hue: float

    @classmethod
    def for_spec(cls, spec: AnimaticSpec) -> _Look:
        width, height = spec.size
        return cls(
            width=width,
            height=height,
            unit=min(width, height) / 720,
            margin_x=max(36, round(width * 0.05)),
            margin_y=max(36, round(height * 0.05)),
            hue=_hue(spec),
        )

    def px(self, value: float) -> int:
        return round(value * self.unit)

    @property
    def accent(self) -> Color:
        return _hsv(self.hue, 0.45, 1.0)

    @property
    def content_width(self) -> int:
        return self.width - 2 * self.margin_x

    # Bottom band, from the edge up: progress bar, timecode, subtitle box.
    @property
    def bar_rect(self) -> tuple[int, int, int, int]:
        top = self.height - self.margin_y - self.px(5)
        return self.margin_x, top, self.width - self.margin_x, top + self.px(5)

    @property
    def timecode_rect(self) -> tuple[int, int, int, int]:
        bottom = self.bar_rect[1] - self.px(8)
        return self.margin_x, bottom - self.px(22), self.margin_x + self.px(300), bottom

    @property
    def subtitle_bottom(self) -> int:
        return self.timecode_rect[1] - self.px(14)

    @property
    def subtitle_top(self) -> int:
        # Room for two lines is always kept, so the layout above never jumps.
        return self.subtitle_bottom - 2 * self.px(36) - 2 * self.px(14)

    def background(self) -> Image.Image:
        """A dark vertical gradient with a soft glow in the clip's hue, and a vignette."""
        y = np.linspace(0.0, 1.0, self.height, dtype=np.float32)[:, None]
        x = np.linspace(0.0, 1.0, self.width, dtype=np.float32)[None, :]
        top, bottom = np.array((22, 25, 33), np.float32), np.array((8, 9, 12), np.float32)
        pixels = np.repeat(top + (bottom - top) * y[..., None], self.width, axis=1)
        aspect = self.width / self.height
        glow = np.exp(-(((x - 0.22) * aspect) ** 2 + (y - 0.18) ** 2) / 0.22)
        pixels += glow[..., None] * np.array(_hsv(self.hue, 0.7, 0.32), np.float32)
        ember = np.exp(-(((x - 0.9) * aspect) ** 2 + (y - 0.95) ** 2) / 0.12)
        pixels += ember[..., None] * np.array(_hsv(self.hue + 0.5, 0.6, 0.12), np.float32)
        vignette = 1.0 - 0.35 * (((x - 0.5) ** 2 + (y - 0.5) ** 2) * 2)
        return Image.fromarray(np.clip(pixels * vignette[..., None], 0, 255).astype(np.uint8))

    def card(
        self, background: Image.Image, spec: AnimaticSpec, segment: Segment, subtitle: Subtitle
    ) -> Image.Image:
        image = background.copy()
        draw = ImageDraw.Draw(image, "RGBA")
        header_bottom = self._draw_header(draw, spec, segment)
        self._draw_body(draw, spec, segment, top=header_bottom + self.px(24))
        self._draw_progress_track(draw, spec)
        if subtitle:
            self._draw_subtitle(draw, subtitle)
        return image

    def _draw_header(self, draw: ImageDraw.ImageDraw, spec: AnimaticSpec, segment: Segment) -> int:
        """Title (and shot number) on the left, the honest badge on the right; returns the
        bottom edge. The badge moves under the title when both do not fit on one line."""
        title_font = _font(self.px(26), "-Bold")
        badge_font = _font(self.px(19), "-Bold")
        pad_x, pad_y = self.px(14), self.px(9)
        badge_text = _ellipsize(spec.label, badge_font, self.content_width - 2 * pad_x)
        badge_w = round(badge_font.getlength(badge_text)) + 2 * pad_x
        badge_h = self.px(19) + 2 * pad_y + self.px(4)
        x, y = self.margin_x, self.margin_y
        title = _ellipsize(spec.title, title_font, self.content_width)
        title_w = title_font.getlength(title)
        if title_w + self.px(24) + badge_w <= self.content_width:
            badge_xy = (self.width - self.margin_x - badge_w, y)
            title_y = y + (badge_h - self.px(30)) // 2
            bottom = y + badge_h
        else:
            badge_xy = (x, y + self.px(42))
            title_y = y
            bottom = badge_xy[1] + badge_h
        draw.text((x, title_y), title, font=title_font, fill=TEXT)
        bx, by = badge_xy
        draw.rounded_rectangle((bx, by, bx + badge_w, by + badge_h), radius=self.px(8), fill=BADGE)
        draw.text(
            (bx + badge_w / 2, by + badge_h / 2),
            badge_text,
            font=badge_font,
            fill=BADGE_TEXT,
            anchor="mm",
        )
        if segment.count > 1:
            shot_font = _font(self.px(20), "-Bold")
            draw.text(
                (x, bottom + self.px(14)),
                f"Shot {segment.index + 1} of {segment.count}",
                font=shot_font,
                fill=self.accent,
            )
            bottom += self.px(14) + self.px(24)
        return bottom

    def _details(self, spec: AnimaticSpec, segment: Segment) -> list[tuple[str, str]]:
        rows = []
        if segment.count > 1 and spec.scene:
            rows.append(("SCENE", spec.scene))
        rows += [("SETTING", spec.setting), ("CAMERA", spec.camera), ("STYLE", spec.style)]
        if not spec.audio:
            sound = "Silent clip (no audio)"
        else:
            sound = " · ".join(
                p.strip() for p in (spec.ambience, spec.sound_effects, spec.music) if p.strip()
            )
            sound = sound or "Room tone"
        rows.append(("SOUND", sound))
        return [(label, value) for label, value in rows if value.strip()]

    def _draw_body(
        self, draw: ImageDraw.ImageDraw, spec: AnimaticSpec, segment: Segment, top: int
    ) -> None:
        """The scene (or this shot's prompt) large, then the details, centred in the space
        between the header and the subtitles; the scene shrinks until everything fits."""
        available = self.subtitle_top - self.px(20) - top
        headline = segment.prompt.strip() or spec.scene.strip() or "(no scene described)"
        rows = self._details(spec, segment)
        label_font, value_font = _font(self.px(14), "-Bold"), _font(self.px(21))
        label_w = max(label_font.getlength(label) for label, _ in rows) + self.px(18)
        value_w = self.content_width - label_w
        row_line = self.px(29)
        # Details get two lines each, or one when that would crowd out the scene.
        for row_lines in (2, 1):
            value_lines = [_wrap(value, value_font, value_w, row_lines) for _, value in rows]
            details_h = sum(len(lines) * row_line + self.px(8) for lines in value_lines)
            if details_h + self.px(26 * 1.22 * 2 + 28) <= available:
                break
        for size in (46, 40, 34, 30, 26):
            font = _font(self.px(size), "-Bold")
            line_h = round(self.px(size) * 1.22)
            max_lines = max(1, (available - details_h - self.px(28)) // line_h)
            lines = _wrap(headline, font, self.content_width, min(max_lines, 6))
            if not lines[-1].endswith("…"):
                break
        block_h = len(lines) * line_h + self.px(28) + details_h
        y = top + max(0, (available - block_h) // 2)
        for line in lines:
            draw.text((self.margin_x, y), line, font=font, fill=TEXT)
            y += line_h
        y += self.px(14)
        draw.line(
            (self.margin_x, y, self.margin_x + self.px(64), y), fill=self.accent, width=self.px(3)
        )
        y += self.px(14)
        for (label, _), lines in zip(rows, value_lines, strict=True):
            draw.text((self.margin_x, y + self.px(5)), label, font=label_font, fill=self.accent)
            for line in lines:
                draw.text((self.margin_x + label_w, y), line, font=value_font, fill=MUTED)
                y += row_line
            y += self.px(8)

    def _draw_progress_track(self, draw: ImageDraw.ImageDraw, spec: AnimaticSpec) -> None:
        x0, y0, x1, y1 = self.bar_rect
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=(255, 255, 255, 40))
        # Ticks at shot boundaries show where each shot starts.
        for segment in segment_timeline(spec)[1:]:
            x = x0 + round((x1 - x0) * segment.start / spec.duration)
            draw.rectangle((x - 1, y0 - self.px(4), x + 1, y1 + self.px(4) - 1), fill=MUTED)

    def subtitle_pages(self, cue: Cue) -> tuple[Subtitle, ...]:
        """The cue as pages of at most two lines, shown one after another over its span,
        so a long line is never cut off. Each line is (name part, spoken part)."""
        bold = _font(self.px(28), "-Bold")
        # Wrapped with the (wider) bold face, so every line fits whatever its mix of faces.
        lines = _wrap(cue.text, bold, self.content_width - 2 * self.px(14), 1000)
        # The text starts with the name (a very long one may fill the first line); wrapping
        # collapsed runs of spaces, so measure the name collapsed the same way.
        named = min(len(" ".join(f"{cue.speaker}:".split())), len(lines[0])) if cue.speaker else 0
        runs = [(lines[0][:named], lines[0][named:])] + [("", line) for line in lines[1:]]
        return tuple(tuple(runs[i : i + 2]) for i in range(0, len(runs), 2))

    def _draw_subtitle(self, draw: ImageDraw.ImageDraw, subtitle: Subtitle) -> None:
        """A subtitle page in a dark box above the timecode, the speaker's name in colour."""
        regular, bold = _font(self.px(28)), _font(self.px(28), "-Bold")
        pad, line_h = self.px(14), self.px(36)
        box_w = max(bold.getlength(b) + regular.getlength(r) for b, r in subtitle) + 2 * pad
        top = self.subtitle_bottom - len(subtitle) * line_h - 2 * pad
        left = (self.width - box_w) / 2
        draw.rounded_rectangle(
            (left, top, left + box_w, self.subtitle_bottom), radius=self.px(10), fill=(0, 0, 0, 170)
        )
        for i, (name, spoken) in enumerate(subtitle):
            x, y = left + pad, top + pad + i * line_h
            draw.text((x, y), name, font=bold, fill=self.accent)
            draw.text((x + bold.getlength(name), y), spoken, font=regular, fill=TEXT)

    def draw_moving_parts(
        self, pixels: np.ndarray, index: int, total: int, motion: tuple[float, float, float]
    ) -> None:
        """Per-frame parts, drawn straight into the frame: cheap next to a full redraw."""
        x0, y0, x1, y1 = self.bar_rect
        pixels[y0:y1, x0 : x0 + round((x1 - x0) * (index + 1) / total)] = self.accent
        self._draw_timecode(pixels, index, total)
        self._draw_brackets(pixels, motion)

    def _draw_timecode(self, pixels: np.ndarray, index: int, total: int) -> None:
        x0, y0, x1, y1 = self.timecode_rect
        patch = Image.fromarray(pixels[y0:y1, x0:x1])
        seconds = index / FPS
        text = f"{_clock(seconds)} / {_clock(total / FPS)}   frame {index + 1:03d}"
        ImageDraw.Draw(patch).text((0, 0), text, font=_font(self.px(16), "Mono"), fill=MUTED)
        pixels[y0:y1, x0:x1] = np.asarray(patch)

    def _draw_brackets(self, pixels: np.ndarray, motion: tuple[float, float, float]) -> None:
        """Viewfinder corners in the margin, moving the way the camera is asked to move."""
        dx, dy, zoom = motion
        reach = min(self.margin_x, self.margin_y) * 0.3  # stays inside the margin
        inset = min(self.margin_x, self.margin_y) * 0.4 + zoom * reach
        left = round(inset + dx * reach)
        right = round(self.width - inset + dx * reach)
        top = round(inset + dy * reach)
        bottom = round(self.height - inset + dy * reach)
        arm, thick = self.px(26), max(2, self.px(3))
        color = (150, 158, 172)
        for x, sx in ((left, 1), (right, -1)):
            for y, sy in ((top, 1), (bottom, -1)):
                xs = sorted((x, x + sx * arm))
                ys = sorted((y, y + sy * arm))
                ty = sorted((y, y + sy * thick))
                tx = sorted((x, x + sx * thick))
                pixels[ty[0] : ty[1], xs[0] : xs[1]] = color
                pixels[ys[0] : ys[1], tx[0] : tx[1]] = color


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


Motion = Callable[[float], tuple[float, float, float]]

_CAMERA_MOVES: tuple[tuple[tuple[str, ...], Motion], ...] = (
    (("dolly in", "push in", "zoom in", "push-in", "move in"), lambda p: (0.0, 0.0, p)),
    (("dolly out", "pull back", "pull out", "zoom out"), lambda p: (0.0, 0.0, 1 - p)),
    (("pan left", "track left", "truck left"), lambda p: (1 - 2 * p, 0.0, 0.5)),
    (("pan right", "track right", "truck right", "pan", "tracking"), lambda p: (2 * p - 1, 0, 0.5)),
    (("tilt up", "crane up", "boom up", "pedestal up"), lambda p: (0.0, 1 - 2 * p, 0.5)),
    (("tilt down", "crane down", "boom down", "tilt"), lambda p: (0.0, 2 * p - 1, 0.5)),
    (
        ("orbit", "arc", "circle", "360"),
        lambda p: (math.cos(2 * math.pi * p), 0.5 * math.sin(2 * math.pi * p), 0.5),
    ),
    (
        ("handheld", "shaky", "hand-held"),
        lambda p: (0.4 * math.sin(37 * p) * math.cos(11 * p), 0.3 * math.sin(53 * p), 0.5),
    ),
)


def _camera_motion(camera: str) -> Motion:
    """How the viewfinder corners move over the clip (progress 0..1 -> dx, dy, zoom)."""
    text = camera.casefold()
    for keywords, motion in _CAMERA_MOVES:
        # Whole words only: "pan" must not match "panorama", nor "arc" "archway".
        if any(re.search(rf"\b{re.escape(keyword)}\b", text) for keyword in keywords):
            return motion
    return lambda p: (0.0, 0.0, 0.5)


# --- sound ---------------------------------------------------------------------------------


def _soundtrack(spec: AnimaticSpec, cues: tuple[Cue, ...]) -> np.ndarray:
    """The mixed stereo track, float32 (2, duration x rate), exactly as long as the video:
    trimming here is what keeps the AAC stream from outlasting the picture."""
    n = spec.duration * SAMPLE_RATE
    rng = np.random.default_rng(_seed(spec.ambience))
    bed = _ambience(spec.ambience, n, rng) * _ducking(cues, n)
    centre = _music(spec.music, n) + _effects(spec.sound_effects, n, rng) + _voice_track(cues, n)
    # A small delay on the right decorrelates the bed into a wide, cheap stereo image.
    mix = np.stack((bed + centre, np.roll(bed, 331) + centre))
    peak = float(np.abs(mix).max())
    if peak > 0.89:  # headroom for the AAC encoder, so nothing clips
        mix *= 0.89 / peak
    fade = min(n // 2, SAMPLE_RATE // 50)
    ramp = np.linspace(0.0, 1.0, fade)
    mix[:, :fade] *= ramp
    mix[:, n - fade :] *= ramp[::-1]
    return mix.astype(np.float32)


def _ducking(cues: tuple[Cue, ...], n: int) -> np.ndarray:
    """Gain for the bed: down to half while someone speaks, with short ramps, as a
    mixer would ride it so lines stay clear over rain or a crowd."""
    speaking = np.zeros(n)
    for cue in cues:
        speaking[int(cue.start * SAMPLE_RATE) : int(cue.end * SAMPLE_RATE)] = 1.0
    # A moving average (via cumsum, O(n)) turns the on/off steps into 0.15 s ramps.
    width = int(0.15 * SAMPLE_RATE)
    total = np.cumsum(np.concatenate((np.zeros(width), speaking)))
    return 1.0 - 0.5 * (total[width:] - total[:-width]) / width


def _band_noise(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    """Noise with a soft band-pass between ``low`` and ``high`` Hz, at unit RMS.

    Shaping the spectrum with one FFT is far cheaper than a sample-by-sample filter in
    Python, and numpy is all we have.
    """
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    freqs[0] = 1.0
    gain = 1 / (1 + (low / freqs) ** 4) / (1 + (freqs / high) ** 4)
    noise = np.fft.irfft(spectrum * gain, n)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def _slow_wobble(rng: np.random.Generator, n: int, rates: tuple[float, ...]) -> np.ndarray:
    """A smooth random curve in 0..1 made of a few slow sines."""
    t = np.arange(n) / SAMPLE_RATE
    curve = sum(np.sin(2 * np.pi * (r * t + rng.random())) for r in rates)
    return 0.5 + 0.5 * curve / len(rates)


def _envelope(length: int, attack: float, decay: float) -> np.ndarray:
    t = np.arange(length) / SAMPLE_RATE
    return np.minimum(1.0, t / max(attack, 1e-4)) * np.exp(-t / decay)


def _add(track: np.ndarray, grain: np.ndarray, at: float) -> None:
    start = int(at * SAMPLE_RATE)
    if 0 <= start < len(track):
        stop = min(len(track), start + len(grain))
        track[start:stop] += grain[: stop - start]


def _tone(freq: float | np.ndarray, length: int, harmonics: int = 1) -> np.ndarray:
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(freq, (length,))) / SAMPLE_RATE
    return sum(np.sin(k * phase) / k for k in range(1, harmonics + 1))


def _events(rng: np.random.Generator, n: int, per_second: float) -> np.ndarray:
    return np.sort(rng.uniform(0, n / SAMPLE_RATE, rng.poisson(per_second * n / SAMPLE_RATE)))


def _rain(rng: np.random.Generator, n: int) -> np.ndarray:
    track = 0.03 * _band_noise(rng, n, 800, 9000)
    for at in _events(rng, n, 18):
        length = int(0.03 * SAMPLE_RATE)
        freq = rng.uniform(1800, 4500) * np.linspace(1.0, 0.8, length)
        _add(track, rng.uniform(0.02, 0.08) * _tone(freq, length) * _envelope(length, 0, 0.006), at)
    return track


def _wind(rng: np.random.Generator, n: int) -> np.ndarray:
    return 0.05 * _band_noise(rng, n, 60, 700) * _slow_wobble(rng, n, (0.11, 0.23, 0.37)) ** 2


def _ocean(rng: np.random.Generator, n: int) -> np.ndarray:
    swell = _slow_wobble(rng, n, (0.13, 0.17)) ** 3
    return (
        0.06 * _band_noise(rng, n, 80, 1500) * (0.25 + swell)
        + 0.015 * _band_noise(rng, n, 2000, 8000) * swell
    )


def _city(rng: np.random.Generator, n: int) -> np.ndarray:
    track = 0.05 * _band_noise(rng, n, 30, 220) + 0.008 * _band_noise(rng, n, 300, 3000)
    for at in _events(rng, n, 0.25):
        length = int(rng.uniform(0.3, 0.6) * SAMPLE_RATE)
        horn = _tone(rng.choice((349.0, 392.0, 440.0)), length, 5) + _tone(466.0, length, 5)
        _add(track, 0.015 * horn * _envelope(length, 0.02, 0.5), at)
    return track


def _forest(rng: np.random.Generator, n: int) -> np.ndarray:
    track = 0.012 * _band_noise(rng, n, 400, 3000) * _slow_wobble(rng, n, (0.2, 0.31))
    for at in _events(rng, n, 1.2):
        for k in range(rng.integers(2, 5)):  # birds call in short bursts
            length = int(rng.uniform(0.05, 0.11) * SAMPLE_RATE)
            freq = np.linspace(rng.uniform(2800, 4200), rng.uniform(4200, 6000), length)
            grain = 0.03 * _tone(freq, length) * np.hanning(length)
            _add(track, grain, at + k * 0.13)
    return track


def _cafe(rng: np.random.Generator, n: int) -> np.ndarray:
    # Babble: speech-band noise pulsing at syllable rate, in a few overlapping "voices".
    t = np.arange(n) / SAMPLE_RATE
    track = np.zeros(n)
    for rate in (3.7, 4.9, 5.6):
        syllables = 0.5 + 0.5 * np.sin(2 * np.pi * rate * t + rng.random() * 6) ** 2
        track += 0.012 * _band_noise(rng, n, 250, 2500) * syllables
    for at in _events(rng, n, 0.6):
        length = int(0.25 * SAMPLE_RATE)
        base = rng.uniform(1800, 3200)
        clink = sum(_tone(base * r, length) for r in (1.0, 2.76, 5.4))
        _add(track, 0.012 * clink * _envelope(length, 0, 0.06), at)
    return track


def _fire(rng: np.random.Generator, n: int) -> np.ndarray:
    track = 0.03 * _band_noise(rng, n, 40, 500) * _slow_wobble(rng, n, (0.4, 0.7))
    for at in _events(rng, n, 9):
        length = int(0.006 * SAMPLE_RATE)
        crackle = rng.standard_normal(length) * _envelope(length, 0, 0.0015)
        _add(track, rng.uniform(0.015, 0.06) * np.diff(crackle, prepend=0.0), at)
    return track


def _room_tone(rng: np.random.Generator, n: int) -> np.ndarray:
    return 0.006 * _band_noise(rng, n, 40, 900)


# Whole words (with their plurals) pick a texture; several can layer.
_AMBIENCES: tuple[tuple[str, Callable[[np.random.Generator, int], np.ndarray]], ...] = (
    ("rain rainy raining drizzle downpour storm rainstorm", _rain),
    ("wind windy breeze gust gusts gale", _wind),
    ("ocean sea seaside wave waves beach shore surf", _ocean),
    ("city traffic street streets car cars urban downtown", _city),
    ("forest woods bird birds birdsong jungle park meadow", _forest),
    ("cafe café restaurant crowd crowds bar pub chatter diner murmur", _cafe),
    ("fire campfire fireplace crackling crackle bonfire", _fire),
)


def _ambience(text: str, n: int, rng: np.random.Generator) -> np.ndarray:
    words = set(_words(text))
    layers = [make(rng, n) for keywords, make in _AMBIENCES if words & set(keywords.split())]
    return sum(layers[:3]) if layers else _room_tone(rng, n)


_DARK_MUSIC = "sad dark tense melancholic suspense suspenseful eerie somber minor horror ominous"


def _music(text: str, n: int) -> np.ndarray:
    """A soft pad cycling through four chords (minor when the music sounds dark)."""
    if not text.strip():
        return np.zeros(n)
    minor = bool(set(_words(text)) & set(_DARK_MUSIC.split()))
    # Semitones above A2 for each chord's notes.
    chords = (
        ((0, 3, 7, 12), (8, 12, 15, 20), (3, 7, 10, 15), (10, 14, 17, 22))
        if minor
        else ((3, 7, 10, 15), (0, 3, 7, 12), (8, 12, 15, 20), (10, 14, 17, 22))
    )
    track = np.zeros(n)
    span = n / len(chords)
    fade = int(0.4 * SAMPLE_RATE)
    for i, chord in enumerate(chords):
        start, stop = max(0, int(i * span) - fade), min(n, int((i + 1) * span) + fade)
        length = stop - start
        window = np.minimum(1.0, np.minimum(np.arange(length), length - np.arange(length)) / fade)
        for semitone in chord:
            freq = 110.0 * 2 ** (semitone / 12)
            voice = _tone(freq, length, 3) + _tone(freq * 1.003, length, 3)
            track[start:stop] += 0.006 * voice * window
    return track


def _effects(text: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """A short transient per listed effect, spread over the clip."""
    phrases = [p.strip() for p in re.split(r"[,;]| and ", text) if p.strip()][:4]
    track = np.zeros(n)
    duration = n / SAMPLE_RATE
    for k, phrase in enumerate(phrases):
        at = duration * (k + 1) / (len(phrases) + 1)
        words = set(_words(phrase))
        if words & {"footstep", "footsteps", "steps", "walking", "knock", "knocks", "knocking"}:
            for step in range(4):
                _add(track, _thud(rng, 0.1), at + step * 0.35)
        elif words & {"whoosh", "swish", "swoosh", "passing", "flyby", "swipe"}:
            length = int(0.6 * SAMPLE_RATE)
            _add(track, 0.15 * _band_noise(rng, length, 300, 3000) * np.hanning(length), at)
        elif words & {"bell", "chime", "ding", "ping", "notification", "ring"}:
            length = int(1.2 * SAMPLE_RATE)
            bell = sum(_tone(880 * r, length) for r in (1.0, 2.0, 2.76))
            _add(track, 0.08 * bell * _envelope(length, 0.002, 0.35), at)
        else:  # doors, slams, hits, thunder, anything else: an impact
            _add(track, _thud(rng, 0.25), at)
    return track


def _thud(rng: np.random.Generator, level: float) -> np.ndarray:
    length = int(0.3 * SAMPLE_RATE)
    body = _tone(np.linspace(120, 55, length), length, 2) * _envelope(length, 0.002, 0.06)
    click = _band_noise(rng, length, 500, 4000) * _envelope(length, 0, 0.01)
    return level * (body + 0.3 * click)


# --- voice ---------------------------------------------------------------------------------


def find_espeak() -> str | None:
    """The espeak-ng binary on PATH, or None: then dialogue is voiced with tones."""
    return shutil.which("espeak-ng")


ESPEAK_SPEED = 160  # words per minute: unhurried, like film dialogue
_ESPEAK_VARIANTS = ("m3", "f3", "m7", "f2", "m1", "f4")
_ESPEAK_PITCH = (40, 58, 28, 66, 48, 52)
_LANGUAGES = {
    "french": "fr",
    "spanish": "es",
    "german": "de",
    "italian": "it",
    "portuguese": "pt",
    "japanese": "ja",
    "mandarin": "cmn",
    "chinese": "cmn",
    "korean": "ko",
    "hindi": "hi",
    "russian": "ru",
    "arabic": "ar",
    "dutch": "nl",
    "polish": "pl",
    "czech": "cs",
    "turkish": "tr",
    "swedish": "sv",
}
VOICE_RMS, VOICE_PEAK = 0.12, 0.8
_TONE_PITCH = (120.0, 215.0, 95.0, 250.0, 150.0, 185.0)


def _voice_track(cues: tuple[Cue, ...], n: int) -> np.ndarray:
    """Each line spoken at its subtitle's time and cut to its slot."""
    track = np.zeros(n)
    espeak = find_espeak()
    for cue in cues:
        slot = cue.end - cue.start
        speech = _espeak(espeak, cue, slot) if espeak else None
        if speech is None:  # no espeak-ng, or it failed on this line
            speech = _tone_speech(cue, slot)
        speech = speech[: int(slot * SAMPLE_RATE)]
        fade = min(len(speech), SAMPLE_RATE // 40)
        speech[len(speech) - fade :] *= np.linspace(1.0, 0.0, fade)
        if len(speech) and np.any(speech):
            # Dialogue sits well above the bed (about -18 dBFS RMS); a soft limiter tames
            # the synthesiser's spiky peaks instead of turning the whole line down.
            loudness = float(np.sqrt(np.mean(speech**2)))
            limited = VOICE_PEAK * np.tanh(speech * (VOICE_RMS / loudness / VOICE_PEAK))
            _add(track, limited, cue.start)
    return track


def _trim_silence(speech: np.ndarray) -> np.ndarray:
    """Without the synthesiser's lead-in and tail, speech starts with its subtitle."""
    loud = np.flatnonzero(np.abs(speech) > 0.02 * (np.abs(speech).max() if len(speech) else 0))
    return speech[loud[0] : loud[-1] + 1] if len(loud) else speech


def _espeak(binary: str, cue: Cue, slot: float) -> np.ndarray | None:
    """The line spoken by espeak-ng at a natural pace, or faster when that would overrun
    its slot (rather than cutting it off); None if the synthesiser fails."""
    speech = _run_espeak(binary, cue, ESPEAK_SPEED)
    target = max(0.5, slot - 0.15)
    if speech is not None and len(speech) > target * SAMPLE_RATE:
        faster = ESPEAK_SPEED * len(speech) / (target * SAMPLE_RATE) * 1.05
        quicker = _run_espeak(binary, cue, min(450, round(faster)))
        speech = speech if quicker is None else quicker
    return speech


def _run_espeak(binary: str, cue: Cue, speed: int) -> np.ndarray | None:
    delivery = set(_words(cue.delivery))
    language = next((code for word, code in _LANGUAGES.items() if word in delivery), "en-us")
    whisper = delivery & {"whisper", "whispering", "whispered", "whispers"}
    variant = "whisper" if whisper else _ESPEAK_VARIANTS[cue.voice % len(_ESPEAK_VARIANTS)]
    with tempfile.TemporaryDirectory(prefix="studio-voice-") as tmp:
        wav = Path(tmp) / "line.wav"
        command = [
            binary,
            "--stdin",  # the line goes through stdin, never the argument list
            "-w",
            str(wav),
            "-v",
            f"{language}+{variant}",
            "-p",
            str(_ESPEAK_PITCH[cue.voice % len(_ESPEAK_PITCH)]),
            "-s",
            str(speed),
        ]
        try:
            subprocess.run(  # noqa: S603 - fixed binary and arguments, text on stdin
                command, input=cue.line.encode(), capture_output=True, timeout=20, check=True
            )
            speech = _read_wav(wav)
        except (OSError, subprocess.SubprocessError, wave.Error, EOFError):
            return None
    return None if speech is None else _trim_silence(speech)


def _read_wav(path: Path) -> np.ndarray | None:
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnframes() == 0:
            return None
        rate, channels = wav.getframerate(), wav.getnchannels()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    mono = samples.reshape(-1, channels).mean(axis=1) / 32768
    # espeak-ng speaks at 22.05 kHz; linear interpolation is plenty for a draft voice.
    times = np.arange(int(len(mono) * SAMPLE_RATE / rate)) / SAMPLE_RATE
    return np.interp(times, np.arange(len(mono)) / rate, mono)


def _tone_speech(cue: Cue, slot: float) -> np.ndarray:
    """Voice-like blips, one per word, sized by word length: a line you can see and hear
    even without a speech synthesiser."""
    words = cue.line.split() or ["…"]
    rng = np.random.default_rng(_seed(cue.line))
    lengths = np.array([min(0.45, 0.08 + 0.035 * len(w)) for w in words])
    gap = 0.06
    scale = min(1.0, (slot - 0.1) / (lengths.sum() + gap * len(words)))
    base = _TONE_PITCH[cue.voice % len(_TONE_PITCH)]
    pieces = []
    for length in lengths * scale:
        size = max(1, int(length * SAMPLE_RATE))
        glide = base * rng.uniform(0.9, 1.15) * np.linspace(1.05, 0.92, size)
        envelope = np.minimum(1.0, np.minimum(np.arange(size), size - np.arange(size)) / 480)
        pieces += [_tone(glide, size, 6) * envelope, np.zeros(int(gap * scale * SAMPLE_RATE))]
    return np.concatenate(pieces)
