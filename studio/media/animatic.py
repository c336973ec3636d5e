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
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from studio.media.soundtrack import mix_soundtrack
from studio.media.storyboard import (
    FPS,
    SAMPLE_RATE,
    AnimaticSpec,
    Cue,
    Segment,
    active,
    cue_timeline,
    segment_timeline,
    stable_seed,
    word_list,
)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Color = tuple[int, int, int]
Subtitle = tuple[tuple[str, str], ...]  # lines of (speaker name part, spoken part)


# --- rendering -----------------------------------------------------------------------------


def render_animatic(spec: AnimaticSpec, out_path: Path) -> None:
    """Render the animatic to ``out_path`` (an MP4), atomically: a reader never sees half."""
    out_path = Path(out_path)
    segments, cues = segment_timeline(spec), cue_timeline(spec)
    look = _Look.for_spec(spec)
    soundtrack = mix_soundtrack(spec, cues) if spec.audio else None
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
        segment, subtitle = segments[active(segments, t) or 0], _subtitle_at(t, cues, pages)
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
    index = active(cues, t)
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
    words = set(word_list(f"{spec.style} {spec.setting}"))
    for keywords, hue in _MOOD_HUES:
        if words.intersection(keywords):
            return hue
    return stable_seed(spec.style + spec.scene) % 1000 / 1000


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
