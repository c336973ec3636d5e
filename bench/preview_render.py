"""How long the Preview renderer takes, and how big and hungry it is.

Renders 5 s and 10 s clips at every aspect ratio, with audio and dialogue, and prints
wall time, file size and the process's peak RSS so far. Run from the project root:

    .venv/bin/python bench/preview_render.py
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

from studio.media.animatic import render_animatic
from studio.media.soundtrack import find_espeak
from studio.media.storyboard import SIZES, AnimaticSpec
from studio.prompts.fields import DialogueLine, PromptFields

PROMPT = PromptFields(
    subject="A street food vendor in a neon-lit night market",
    action="flips noodles high into the air and catches them in a bowl",
    setting="Crowded Taipei night market in the rain",
    camera_shot="Medium shot",
    camera_movement="handheld, slow push in",
    style="Cinematic, shallow depth of field",
    mood="warm, lively",
    dialogue=(
        DialogueLine("Vendor", "One more bowl, the best in the whole market!"),
        DialogueLine("Customer", "Make it extra spicy, please.", "laughing"),
    ),
    ambience="rain on tarps, crowd chatter, traffic in the distance",
    sound_effects="sizzling wok, bowl clinks",
    music="upbeat lo-fi beat",
)


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux; children covers espeak-ng.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def main() -> None:
    print(f"espeak-ng: {find_espeak() or 'not found (tone voice)'}")
    print(f"{'clip':<12} {'wall s':>7} {'size KiB':>9} {'peak RSS MiB':>13}")
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as tmp:
        for duration in (5, 10):
            for aspect_ratio in SIZES:
                spec = AnimaticSpec.from_prompt(
                    PROMPT,
                    title="Kling 3.0",
                    label="Preview: offline draft, not AI",
                    duration=duration,
                    aspect_ratio=aspect_ratio,
                    audio=True,
                )
                out = Path(tmp) / f"{duration}-{aspect_ratio.replace(':', 'x')}.mp4"
                started = time.perf_counter()
                render_animatic(spec, out)
                wall = time.perf_counter() - started
                name = f"{duration}s {aspect_ratio}"
                size = out.stat().st_size / 1024
                print(f"{name:<12} {wall:>7.2f} {size:>9.0f} {peak_rss_mib():>13.0f}")


if __name__ == "__main__":
    main()
