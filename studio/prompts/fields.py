"""The structured prompt a creator fills in, as plain data.

It is stored as JSON on the shot (the draft) and on every take (frozen), so it must
round-trip through ``to_dict``/``from_dict`` without loss and tolerate keys added later.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass(frozen=True)
class DialogueLine:
    speaker: str
    line: str
    delivery: str = ""  # how it is said, or the language ("whispering", "in French")


@dataclass(frozen=True)
class ShotPart:
    """One shot of a Kling 3.0 multi-shot take: its own prompt and length in seconds."""

    prompt: str
    duration: int


@dataclass(frozen=True)
class PromptFields:
    subject: str = ""
    setting: str = ""
    action: str = ""
    camera_shot: str = ""  # framing: close-up, wide shot...
    camera_movement: str = ""  # dolly in, handheld, static...
    style: str = ""
    mood: str = ""
    dialogue: tuple[DialogueLine, ...] = ()
    ambience: str = ""
    sound_effects: str = ""
    music: str = ""
    negative: str = ""
    shots: tuple[ShotPart, ...] = field(default=())

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> PromptFields:
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["dialogue"] = tuple(
            DialogueLine(
                **{k: str(v) for k, v in d.items() if k in ("speaker", "line", "delivery")}
            )
            for d in data.get("dialogue") or ()
            if isinstance(d, dict)
        )
        values["shots"] = tuple(
            ShotPart(prompt=str(s.get("prompt", "")), duration=int(s.get("duration") or 0))
            for s in data.get("shots") or ()
            if isinstance(s, dict)
        )
        return cls(**values)

    @property
    def scene(self) -> str:
        return " ".join(p for p in (self.subject, self.action) if p)
