"""The prompt builder form.

Option fields accept every value any model takes; whether *this* provider and model
accept it is decided by the catalog's ``check`` in ``clean``, which words the error for
the creator ("Kling 2.6 here takes 5s or 10s") instead of Django's "Select a valid
choice". Dialogue lines and multi-shot rows are repeated inputs read as lists, so a row
can be added in the browser by cloning it, without formset bookkeeping.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.utils.functional import cached_property

from studio.generation.models import ProviderAccount
from studio.prompts.compile import compile_prompt
from studio.prompts.fields import DialogueLine, PromptFields, ShotPart
from studio.providers import catalog, registry
from studio.providers.catalog import FAMILIES, Offer, Params

DEFAULT_MODEL = "kling-2.6-pro"
MAX_TAKES = 4
MAX_DIALOGUE_LINES = 12
TEXT_FIELDS = (
    "subject",
    "action",
    "setting",
    "camera_shot",
    "camera_movement",
    "style",
    "mood",
    "ambience",
    "sound_effects",
    "music",
    "negative",
)
ALL_DURATIONS = sorted({d for f in FAMILIES.values() for d in f.durations})
ALL_RATIOS = sorted({r for f in FAMILIES.values() for r in f.aspect_ratios})
ALL_RESOLUTIONS = ["720p", "1080p", "4k"]


@dataclass(frozen=True)
class Route:
    """A provider the workspace can use for a model, with the account that pays for it."""

    offer: Offer
    account: ProviderAccount | None

    @property
    def label(self) -> str:
        return registry.label(self.offer.provider)


def routes(workspace, family: str) -> list[Route]:
    """Preview first (free), then every enabled provider account offering the model."""
    found = [Route(catalog.offer("preview", family), None)]
    for account in ProviderAccount.objects.for_workspace(workspace).enabled().order_by("provider"):
        offer = catalog.offer(account.provider, family)
        if offer is not None:
            found.append(Route(offer, account))
    return found


class BuilderForm(forms.Form):
    model = forms.ChoiceField(
        label="Model",
        choices=[(f.key, f.label) for f in FAMILIES.values()],
        widget=forms.RadioSelect,
    )
    provider = forms.CharField(label="Generate with", max_length=32)
    duration = forms.TypedChoiceField(
        label="Length", coerce=int, choices=[(d, f"{d} s") for d in ALL_DURATIONS]
    )
    aspect_ratio = forms.ChoiceField(
        label="Shape", choices=[(r, r) for r in ALL_RATIOS], widget=forms.RadioSelect
    )
    resolution = forms.ChoiceField(label="Resolution", choices=[(r, r) for r in ALL_RESOLUTIONS])
    audio = forms.BooleanField(label="Native audio (speech, ambience, effects)", required=False)
    takes = forms.IntegerField(label="Takes", min_value=1, max_value=MAX_TAKES, initial=1)

    subject = forms.CharField(
        label="Who or what",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "A young barista with a nose ring"}),
    )
    action = forms.CharField(
        label="Doing what",
        required=False,
        max_length=1000,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "pours latte art, looks up and smiles"}
        ),
    )
    setting = forms.CharField(
        label="Where",
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "a sunlit corner café at dawn"}),
    )
    camera_shot = forms.CharField(
        label="Framing",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"list": "framings", "placeholder": "Close-up"}),
    )
    camera_movement = forms.CharField(
        label="Movement",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"list": "movements", "placeholder": "Slow dolly in"}),
    )
    style = forms.CharField(
        label="Style",
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "warm film look, shallow depth of field"}),
    )
    mood = forms.CharField(
        label="Mood",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "cosy, hopeful"}),
    )
    ambience = forms.CharField(
        label="Ambience",
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "café murmur, rain on the window"}),
    )
    sound_effects = forms.CharField(
        label="Sound effects",
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "milk steamer hiss, cup set on a saucer"}),
    )
    music = forms.CharField(
        label="Music",
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "soft acoustic guitar, low in the mix"}),
    )
    negative = forms.CharField(
        label="Avoid",
        required=False,
        max_length=2500,
        help_text="Things you do not want to see or hear.",
        widget=forms.TextInput(attrs={"placeholder": "text on screen, watermark, distorted hands"}),
    )
    start_image = forms.FileField(label="Start image", required=False)
    end_image = forms.FileField(label="End image", required=False)
    start_image_url = forms.URLField(label="or a link to it", required=False, assume_scheme="https")
    end_image_url = forms.URLField(label="or a link to it", required=False, assume_scheme="https")
    request_key = forms.UUIDField(widget=forms.HiddenInput)
    # Not an input: the slot where errors about the compiled prompt are reported.
    prompt = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, workspace, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.dialogue = self._dialogue()
        self.shots = self._shots()
        self.fields["request_key"].initial = uuid.uuid4()

    # -- what the creator chose, even before validation (for live preview) --------------

    def _value(self, name: str):
        if self.is_bound:
            return self.data.get(name, "")
        return self.initial.get(name, self.fields[name].initial)

    @property
    def family(self) -> str:
        value = self._value("model")
        return value if value in FAMILIES else DEFAULT_MODEL

    @cached_property
    def routes(self) -> list[Route]:
        return routes(self.workspace, self.family)

    @property
    def route(self) -> Route:
        wanted = self._value("provider") or "preview"
        available = self.routes
        return next((r for r in available if r.offer.provider == wanted), available[0])

    @property
    def offer(self) -> Offer:
        return self.route.offer

    def _dialogue(self) -> tuple[DialogueLine, ...]:
        if self.is_bound:
            rows = zip(
                self.data.getlist("dialogue_speaker"),
                self.data.getlist("dialogue_line"),
                self.data.getlist("dialogue_delivery"),
                strict=False,
            )
            lines = (
                DialogueLine(s.strip()[:80], t.strip()[:500], d.strip()[:120]) for s, t, d in rows
            )
            return tuple(x for x in lines if x.line or x.speaker)[:MAX_DIALOGUE_LINES]
        return tuple(DialogueLine(**d) for d in self.initial.get("dialogue", ()))

    def _shots(self) -> tuple[ShotPart, ...]:
        if self.is_bound:
            if self.data.get("multi_shot") != "on":
                return ()
            parts = []
            for text, seconds in zip(
                self.data.getlist("shot_prompt"), self.data.getlist("shot_duration"), strict=False
            ):
                if text.strip():
                    try:
                        parts.append(ShotPart(text.strip()[:1000], int(seconds)))
                    except ValueError:
                        parts.append(ShotPart(text.strip()[:1000], 0))
            return tuple(parts)
        return tuple(ShotPart(**s) for s in self.initial.get("shots", ()))

    def prompt_fields(self) -> PromptFields:
        source = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        values = {}
        for name in TEXT_FIELDS:
            raw = source.get(name) if name in source else self._value(name)
            values[name] = (raw or "").strip()
        return PromptFields(**values, dialogue=self.dialogue, shots=self.shots)

    def params(self, *, snap: bool = False) -> Params:
        """The chosen options. ``snap`` replaces values this offer does not allow by the
        nearest allowed one (used while the creator switches models, before they submit)."""
        offer = self.offer
        data = getattr(self, "cleaned_data", {})

        def pick(name, allowed, cast=str):
            try:
                value = cast(data.get(name, self._value(name)))
            except (TypeError, ValueError):
                return allowed[0]
            if value in allowed or (self.is_bound and not snap):
                return value
            if cast is int:
                return min(allowed, key=lambda a: abs(a - value))
            return allowed[0]

        if "audio" in data:
            audio = data["audio"]
        elif self.is_bound:
            audio = self._value("audio") in (True, "on", "true")
        else:
            audio = bool(self._value("audio")) if "audio" in self.initial else offer.has_audio
        return Params(
            duration=pick("duration", offer.allowed_durations, int),
            aspect_ratio=pick("aspect_ratio", offer.allowed_aspect_ratios),
            resolution=pick("resolution", offer.allowed_resolutions),
            audio=bool(audio) and (offer.has_audio or not snap),
            has_start_image=self._has_image("start_image"),
            has_end_image=self._has_image("end_image"),
        )

    def _has_image(self, name: str) -> bool:
        return self.is_bound and bool(self.files.get(name) or self.data.get(f"{name}_url"))

    def take_count(self) -> int:
        try:
            return min(MAX_TAKES, max(1, int(self._value("takes") or 1)))
        except (TypeError, ValueError):
            return 1

    # -- validation ----------------------------------------------------------------------

    def clean_provider(self) -> str:
        provider = self.cleaned_data["provider"]
        if provider not in {r.offer.provider for r in self.routes}:
            model = FAMILIES[self.family].label
            raise forms.ValidationError(
                f"{registry.label(provider) if provider in registry.PROVIDERS else provider} "
                f"is not available for {model} in this workspace. Pick another."
            )
        return provider

    def clean(self) -> dict:
        data = super().clean()
        if self.errors.get("provider"):
            return data
        fields = self.prompt_fields()
        if not (fields.subject or fields.action):
            self.add_error("subject", "Describe the scene: who or what we see, and what happens.")
        for line in fields.dialogue:
            if line.line and not line.speaker:
                self.add_error(None, "Every dialogue line needs a speaker.")
                break
        self._check_image_reach()
        problems = catalog.check(
            self.offer,
            self.params(),
            prompt=compile_prompt(fields),
            negative=fields.negative,
            shots=tuple((s.prompt, s.duration) for s in fields.shots),
        )
        for name, messages in problems.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        return data

    def _check_image_reach(self) -> None:
        """A provider that fetches images needs a public address to fetch them from."""
        params = self.params()
        provider = registry.get(self.offer.provider)
        if provider.image_transport != "url" or settings.STUDIO_PUBLIC_URL:
            return
        inline = [
            p.label
            for p in registry.all_providers()
            if p.image_transport == "data" and p.slug != "preview"
        ]
        message = (
            f"{provider.label} downloads images from Studio, but this installation has no "
            f"public address (STUDIO_PUBLIC_URL). Use {', '.join(inline)} for images, "
            "or ask whoever runs Studio to set it."
        )
        for name, wanted in (
            ("start_image", params.has_start_image),
            ("end_image", params.has_end_image),
        ):
            if wanted:
                self.add_error(name, message)

    def initial_dialogue_rows(self) -> tuple[DialogueLine, ...]:
        """The rows to draw: what was entered, or one empty row to start from."""
        return self.dialogue or (DialogueLine("", "", ""),)

    def initial_shot_rows(self) -> tuple[ShotPart, ...]:
        return self.shots or (ShotPart("", 0),)


def initial_from(fields: PromptFields, *, provider: str, model: str, params: dict) -> dict:
    """Builder initial data from a saved recipe (a shot's draft or a take to remix)."""
    data = {name: getattr(fields, name) for name in TEXT_FIELDS}
    data.update(
        model=model,
        provider=provider,
        dialogue=[d.__dict__ for d in fields.dialogue],
        shots=[s.__dict__ for s in fields.shots],
        **{
            k: params[k] for k in ("duration", "aspect_ratio", "resolution", "audio") if k in params
        },
    )
    return data
