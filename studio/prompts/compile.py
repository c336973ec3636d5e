"""Turn the structured fields into the one text prompt Kling reads.

The layout follows Kling's own guidance for native-audio prompts: the scene first,
then camera and look, then each spoken line attributed to its speaker with the exact
words in quotes, then the sound bed. Every line is a sentence, so the model reads the
audio parts as instructions rather than as on-screen text.
"""

from __future__ import annotations

from studio.prompts.fields import DialogueLine, PromptFields


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?\"'" else f"{text}."


def dialogue_line(line: DialogueLine) -> str:
    speaker = line.speaker.strip() or "A voice"
    how = f" ({line.delivery.strip()})" if line.delivery.strip() else ""
    return f'{speaker}{how} says: "{line.line.strip()}"'


def compile_prompt(fields: PromptFields) -> str:
    parts: list[str] = []
    scene = " ".join(p.strip() for p in (fields.subject, fields.action) if p.strip())
    parts.append(_sentence(scene))
    if fields.setting.strip():
        parts.append(_sentence(f"Setting: {fields.setting.strip()}"))
    camera = ", ".join(p.strip() for p in (fields.camera_shot, fields.camera_movement) if p.strip())
    if camera:
        parts.append(_sentence(f"Camera: {camera}"))
    look = "; ".join(
        p
        for p in (
            fields.style.strip(),
            f"mood: {fields.mood.strip()}" if fields.mood.strip() else "",
        )
        if p
    )
    if look:
        parts.append(_sentence(f"Style: {look}"))
    parts.extend(dialogue_line(d) for d in fields.dialogue if d.line.strip())
    for label, value in (
        ("Ambience", fields.ambience),
        ("Sound effects", fields.sound_effects),
        ("Music", fields.music),
    ):
        if value.strip():
            parts.append(_sentence(f"{label}: {value.strip()}"))
    return " ".join(p for p in parts if p)
