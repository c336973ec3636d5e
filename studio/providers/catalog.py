"""What each provider offers for each Kling model: options, limits and prices.

Two levels:

* a :class:`ModelFamily` is what the creator picks ("Kling 2.6 Pro"): what the model
  itself can do, the same on every provider (reference/providers.md section 1.5);
* an :class:`Offer` is one provider's route to a family: its remote model id, the
  subset of options it accepts, its own limits (Kie allows 1000 prompt characters where
  Kling allows 2500) and its price.

The builder's choices, the validation before any paid call and the cost estimate all
read from here, so a request a provider would reject or silently change never leaves
Studio. Provider modules declare their offers next to their wire code; ``OFFERS``
collects them through the registry.

Money is integer micro-USD. Provider units (tokens, credits, Kling units) are kept as
``Decimal`` and converted once, rounding up to the next micro-dollar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from functools import cache

MICROS_PER_USD = 1_000_000


@dataclass(frozen=True)
class ModelFamily:
    key: str
    label: str
    blurb: str
    durations: tuple[int, ...]
    aspect_ratios: tuple[str, ...]
    resolutions: tuple[str, ...]
    audio: bool
    start_image: bool = True
    end_image: bool = False
    # Kling 2.6 Pro cannot combine an end frame with native audio.
    end_image_with_audio: bool = True
    max_shots: int = 0  # multi-shot (Kling 3.0): up to this many shots, 0 = not offered
    shot_prompt_limit: int = 512
    prompt_limit: int = 2500
    negative_limit: int = 2500


FAMILIES: dict[str, ModelFamily] = {
    f.key: f
    for f in (
        ModelFamily(
            key="kling-2.6",
            label="Kling 2.6",
            blurb="Budget 720p clips without sound. 5 or 10 seconds.",
            durations=(5, 10),
            aspect_ratios=("16:9", "9:16", "1:1"),
            resolutions=("720p",),
            audio=False,
        ),
        ModelFamily(
            key="kling-2.6-pro",
            label="Kling 2.6 Pro",
            blurb="1080p with native audio: speech, ambience and effects. 5 or 10 seconds.",
            durations=(5, 10),
            aspect_ratios=("16:9", "9:16", "1:1"),
            resolutions=("1080p",),
            audio=True,
            end_image=True,
            end_image_with_audio=False,
        ),
        ModelFamily(
            key="kling-3.0",
            label="Kling 3.0",
            blurb="Flagship: 3 to 15 seconds, up to 4K, native audio, up to 6 shots.",
            durations=tuple(range(3, 16)),
            aspect_ratios=("16:9", "9:16", "1:1"),
            resolutions=("720p", "1080p", "4k"),
            audio=True,
            end_image=True,
            max_shots=6,
        ),
    )
}


@dataclass(frozen=True)
class ImageRules:
    formats: tuple[str, ...] = ("JPEG", "PNG", "WEBP")
    max_bytes: int = 10 * 1024 * 1024
    min_side: int = 300
    min_aspect: float = 0.4  # width / height
    max_aspect: float = 2.5
    max_pixels: int = 40_000_000


@dataclass(frozen=True)
class Rates:
    """A price list in the provider's unit.

    ``per_second`` maps (resolution, audio) to units per second of video;
    ``per_clip`` maps (duration, resolution, audio) to units per clip, for providers
    that price fixed lengths. A key with resolution ``"*"`` matches any resolution.
    """

    unit: str  # "USD", "credits", "tokens", "units"
    usd_micros_per_unit: int
    per_second: dict[tuple[str, bool], Decimal] = field(default_factory=dict)
    per_clip: dict[tuple[int, str, bool], Decimal] = field(default_factory=dict)

    def units(self, duration: int, resolution: str, audio: bool) -> Decimal:
        for res in (resolution, "*"):
            if (duration, res, audio) in self.per_clip:
                return self.per_clip[(duration, res, audio)]
            if (res, audio) in self.per_second:
                return self.per_second[(res, audio)] * duration
        raise KeyError(f"no price for {duration}s {resolution} audio={audio}")

    def to_usd_micros(self, units: Decimal) -> int:
        return int((units * self.usd_micros_per_unit).to_integral_value(rounding=ROUND_CEILING))


FREE = Rates(
    unit="USD",
    usd_micros_per_unit=MICROS_PER_USD,
    per_second={("*", True): Decimal(0), ("*", False): Decimal(0)},
)


@dataclass(frozen=True)
class Offer:
    provider: str
    family: str
    remote_model: str
    rates: Rates
    durations: tuple[int, ...] | None = None  # None: whatever the family allows
    aspect_ratios: tuple[str, ...] | None = None
    resolutions: tuple[str, ...] | None = None
    audio: bool | None = None
    start_image: bool | None = None
    end_image: bool | None = None
    max_shots: int | None = None
    shot_prompt_limit: int | None = None
    shot_max_seconds: int | None = None  # longest single shot (Kie: 12 s); None: no limit
    prompt_limit: int | None = None
    negative_limit: int | None = None
    image_rules: ImageRules = ImageRules()
    note: str = ""  # a quirk worth telling the creator, shown under the model picker

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.family}"

    @property
    def model(self) -> ModelFamily:
        return FAMILIES[self.family]

    def _pick(self, name: str):
        own = getattr(self, name)
        return getattr(self.model, name) if own is None else own

    @property
    def allowed_durations(self) -> tuple[int, ...]:
        return self._pick("durations")

    @property
    def allowed_aspect_ratios(self) -> tuple[str, ...]:
        return self._pick("aspect_ratios")

    @property
    def allowed_resolutions(self) -> tuple[str, ...]:
        return self._pick("resolutions")

    @property
    def has_audio(self) -> bool:
        return self._pick("audio")

    @property
    def has_start_image(self) -> bool:
        return self._pick("start_image")

    @property
    def has_end_image(self) -> bool:
        return self._pick("end_image")

    @property
    def shots_limit(self) -> int:
        return self._pick("max_shots")

    @property
    def shot_text_limit(self) -> int:
        return self._pick("shot_prompt_limit")

    @property
    def text_limit(self) -> int:
        return self._pick("prompt_limit")

    @property
    def negative_text_limit(self) -> int:
        return self._pick("negative_limit")

    def price(self, duration: int, resolution: str, audio: bool) -> Price:
        units = self.rates.units(duration, resolution, audio and self.has_audio)
        return Price(units=units, unit=self.rates.unit, usd_micros=self.rates.to_usd_micros(units))


@dataclass(frozen=True)
class Price:
    units: Decimal
    unit: str
    usd_micros: int

    def times(self, n: int) -> Price:
        return Price(units=self.units * n, unit=self.unit, usd_micros=self.usd_micros * n)

    @property
    def is_free(self) -> bool:
        return self.usd_micros == 0


@dataclass(frozen=True)
class Params:
    """The options of one take, as the builder collected them."""

    duration: int
    aspect_ratio: str
    resolution: str
    audio: bool
    has_start_image: bool = False
    has_end_image: bool = False

    def to_dict(self) -> dict:
        return {
            "duration": self.duration,
            "aspect_ratio": self.aspect_ratio,
            "resolution": self.resolution,
            "audio": self.audio,
        }


def check(
    offer: Offer,
    params: Params,
    *,
    prompt: str,
    negative: str = "",
    shots: tuple[tuple[str, int], ...] = (),
) -> dict[str, list[str]]:
    """Every reason the provider would reject or silently change this request.

    Returns errors keyed by builder field name; empty means the request is safe to send.
    """
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    model = offer.model
    if params.duration not in offer.allowed_durations:
        add("duration", f"{model.label} here takes {_choices(offer.allowed_durations, 's')}.")
    if params.aspect_ratio not in offer.allowed_aspect_ratios:
        add("aspect_ratio", f"Choose {_choices(offer.allowed_aspect_ratios)}.")
    if params.resolution not in offer.allowed_resolutions:
        add("resolution", f"Choose {_choices(offer.allowed_resolutions)}.")
    if params.audio and not offer.has_audio:
        add("audio", f"{model.label} has no native audio on this provider. Turn sound off.")
    if params.has_start_image and not offer.has_start_image:
        add("start_image", "This provider does not take a start image for this model.")
    if params.has_end_image:
        if not offer.has_end_image:
            add("end_image", f"{model.label} does not take an end image here.")
        elif params.audio and not model.end_image_with_audio:
            add("end_image", f"{model.label} cannot combine an end image with sound.")
        elif not params.has_start_image:
            add("end_image", "An end image needs a start image too.")
    if len(prompt) > offer.text_limit:
        add("prompt", f"The prompt is {len(prompt)} characters; the limit is {offer.text_limit}.")
    if negative and not offer.negative_text_limit:
        add("negative", "This provider has no way to avoid things; leave this empty.")
    elif len(negative) > offer.negative_text_limit:
        add("negative", f"Keep this under {offer.negative_text_limit} characters.")
    if shots:
        if not offer.shots_limit:
            add("shots", f"{model.label} on this provider does not do multi-shot.")
        elif len(shots) > offer.shots_limit:
            add("shots", f"Use at most {offer.shots_limit} shots.")
        total = sum(d for _, d in shots)
        if total != params.duration:
            add("shots", f"The shots last {total}s in all; they must add up to {params.duration}s.")
        for text, seconds in shots:
            if len(text) > offer.shot_text_limit:
                add(
                    "shots", f"Each shot's text must stay under {offer.shot_text_limit} characters."
                )
                break
            if seconds < 1:
                add("shots", "Every shot needs at least 1 second.")
                break
            if offer.shot_max_seconds and seconds > offer.shot_max_seconds:
                add("shots", f"A shot can last at most {offer.shot_max_seconds} seconds here.")
                break
        if params.has_end_image:
            add("end_image", "An end image cannot be combined with multi-shot.")
    return errors


def _choices(values, suffix: str = "") -> str:
    items = [f"{v}{suffix}" for v in values]
    if len(items) > 4 and all(isinstance(v, int) for v in values):
        return f"{values[0]}{suffix} to {values[-1]}{suffix}"
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else items[0]


def format_usd(micros: int) -> str:
    """$0.70, $12.35; sub-cent amounts keep their digits so nothing shows as $0.00."""
    dollars = Decimal(micros) / MICROS_PER_USD
    if micros and micros < 10_000:
        return f"${dollars.normalize():f}"
    return f"${dollars.quantize(Decimal('0.01'), rounding=ROUND_CEILING):,}"


def format_units(units: Decimal, unit: str) -> str:
    """'25 credits', '1.5 units'; empty for prices already in dollars."""
    return "" if unit == "USD" else f"{units.normalize():f} {unit}"


@cache
def offers() -> dict[str, Offer]:
    """Every offer of every registered provider, keyed ``provider:family``."""
    from studio.providers.registry import all_providers

    return {offer.key: offer for provider in all_providers() for offer in provider.offers}


def offer(provider: str, family: str) -> Offer | None:
    return offers().get(f"{provider}:{family}")
