"""What changed between two takes' recipes: prompt fields and parameters, word by word.

The result is plain data (rows of labelled segments); the template escapes every
segment and marks inserted and deleted words with <ins> and <del>.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from studio.prompts.fields import PromptFields
from studio.providers import catalog, registry

# The recipe as the take page labels it, in the same order.
PROMPT_LABELS = (
    ("subject", "Who or what"),
    ("action", "Doing what"),
    ("setting", "Where"),
    ("camera_shot", "Framing"),
    ("camera_movement", "Movement"),
    ("style", "Style"),
    ("mood", "Mood"),
    ("dialogue", "Dialogue"),
    ("ambience", "Ambience"),
    ("sound_effects", "Sound effects"),
    ("music", "Music"),
    ("negative", "Avoid"),
    ("shots", "Shots"),
)

SAME, ADDED, REMOVED = "same", "added", "removed"


@dataclass(frozen=True)
class Segment:
    kind: str  # SAME, ADDED or REMOVED
    text: str


@dataclass(frozen=True)
class DiffRow:
    label: str
    a: tuple[Segment, ...]
    b: tuple[Segment, ...]
    changed: bool


def _recipe(take) -> list[tuple[str, str]]:
    """(label, text) for every parameter and prompt field of a take."""
    family = catalog.FAMILIES.get(take.model)
    params = take.params or {}
    fields = PromptFields.from_dict(take.prompt)
    rows = [
        ("Model", family.label if family else take.model),
        ("Generated with", registry.label(take.provider)),
        ("Length", f"{params.get('duration', '')} s"),
        ("Shape", str(params.get("aspect_ratio", ""))),
        ("Resolution", str(params.get("resolution", ""))),
        ("Native audio", "On" if params.get("audio") else "Off"),
    ]
    for name, label in PROMPT_LABELS:
        value = getattr(fields, name)
        if name == "dialogue":
            value = "\n".join(
                f"{d.speaker}{f' ({d.delivery})' if d.delivery else ''}: {d.line}" for d in value
            )
        elif name == "shots":
            value = "\n".join(f"{s.prompt} ({s.duration} s)" for s in value)
        rows.append((label, value))
    return rows


def _words(text: str) -> list[str]:
    return re.findall(r"\s+|[^\s]+", text)


def diff_text(a: str, b: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Word-level difference: words only in ``a`` are REMOVED, only in ``b`` ADDED."""
    left, right = _words(a), _words(b)
    out_a: list[Segment] = []
    out_b: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out_a.append(Segment(SAME, "".join(left[i1:i2])))
            out_b.append(Segment(SAME, "".join(right[j1:j2])))
            continue
        if i2 > i1:
            out_a.append(Segment(REMOVED, "".join(left[i1:i2])))
        if j2 > j1:
            out_b.append(Segment(ADDED, "".join(right[j1:j2])))
    return tuple(out_a), tuple(out_b)


def compare_recipes(a, b) -> list[DiffRow]:
    """One row per parameter or prompt field that either take uses, changed rows marked."""
    rows = []
    for (label, text_a), (_, text_b) in zip(_recipe(a), _recipe(b), strict=True):
        if not text_a and not text_b:
            continue
        segments_a, segments_b = diff_text(text_a, text_b)
        rows.append(DiffRow(label, segments_a, segments_b, changed=text_a != text_b))
    return rows
