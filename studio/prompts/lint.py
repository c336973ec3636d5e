"""Warnings about a prompt that will work but probably not as the creator hopes.

Errors (things a provider would reject) live in the catalog's ``check``; these are
advice, shown while typing and never blocking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from studio.prompts.fields import PromptFields
from studio.providers.catalog import Offer, Params

# A natural speaking pace is about 150 words a minute; Kling's voices rush beyond it.
WORDS_PER_SECOND = 2.5


@dataclass(frozen=True)
class Warning:
    field: str
    message: str


def dialogue_words(fields: PromptFields) -> int:
    return sum(len(d.line.split()) for d in fields.dialogue)


def lint(fields: PromptFields, params: Params, offer: Offer, compiled: str) -> list[Warning]:
    warnings: list[Warning] = []
    words = dialogue_words(fields)
    fits = math.floor(params.duration * WORDS_PER_SECOND)
    if words > fits:
        warnings.append(
            Warning(
                "dialogue",
                f"{words} words of dialogue; at a natural pace {params.duration} s fits about "
                f"{fits}. Shorten the lines or choose a longer clip.",
            )
        )
    sound_fields = [
        label
        for label, value in (
            ("dialogue", words),
            ("ambience", fields.ambience.strip()),
            ("sound effects", fields.sound_effects.strip()),
            ("music", fields.music.strip()),
        )
        if value
    ]
    if sound_fields and not params.audio:
        warnings.append(
            Warning(
                "audio",
                f"Sound is off, so the {_join(sound_fields)} will not be heard. "
                "Turn on native audio or remove them.",
            )
        )
    if params.audio and not sound_fields and offer.has_audio:
        warnings.append(
            Warning("ambience", "Sound is on but nothing describes it; the model will improvise.")
        )
    speakers = {d.speaker.strip().lower() for d in fields.dialogue if d.line.strip()}
    if len(speakers) > 2:
        warnings.append(
            Warning("dialogue", "More than two speakers in one short clip often mixes up voices.")
        )
    if compiled and len(compiled) > 0.9 * offer.text_limit and len(compiled) <= offer.text_limit:
        warnings.append(
            Warning("prompt", f"Close to the {offer.text_limit}-character limit of this provider.")
        )
    return warnings


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
