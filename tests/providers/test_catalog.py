from decimal import Decimal

import pytest

from studio.providers import catalog
from studio.providers.catalog import MICROS_PER_USD, Offer, Params, Rates


def preview(family):
    return catalog.offer("preview", family)


def p(**kw):
    base = {"duration": 5, "aspect_ratio": "16:9", "resolution": "1080p", "audio": True}
    return Params(**(base | kw))


def test_a_duration_the_model_does_not_allow_is_an_error_on_duration():
    errors = catalog.check(preview("kling-2.6-pro"), p(duration=7), prompt="x")
    assert errors == {"duration": ["Kling 2.6 Pro here takes 5s or 10s."]}


def test_kling_3_takes_any_whole_second_from_3_to_15():
    offer = preview("kling-3.0")
    assert catalog.check(offer, p(duration=3, resolution="720p"), prompt="x") == {}
    assert catalog.check(offer, p(duration=15, resolution="720p"), prompt="x") == {}
    assert "duration" in catalog.check(offer, p(duration=16, resolution="720p"), prompt="x")


def test_a_prompt_over_the_limit_is_an_error_on_prompt():
    errors = catalog.check(preview("kling-2.6-pro"), p(), prompt="x" * 2501)
    assert errors["prompt"] == ["The prompt is 2501 characters; the limit is 2500."]


def test_audio_on_a_silent_model_is_an_error():
    errors = catalog.check(preview("kling-2.6"), p(resolution="720p"), prompt="x")
    assert "audio" in errors


def test_kling_26_pro_cannot_combine_an_end_image_with_sound():
    errors = catalog.check(
        preview("kling-2.6-pro"), p(has_start_image=True, has_end_image=True), prompt="x"
    )
    assert errors["end_image"] == ["Kling 2.6 Pro cannot combine an end image with sound."]
    quiet = p(audio=False, has_start_image=True, has_end_image=True)
    assert catalog.check(preview("kling-2.6-pro"), quiet, prompt="x") == {}


def test_multi_shot_durations_must_add_up_to_the_clip():
    offer = preview("kling-3.0")
    ok = catalog.check(
        offer, p(duration=8, resolution="720p"), prompt="x", shots=(("a", 3), ("b", 5))
    )
    assert ok == {}
    wrong = catalog.check(
        offer, p(duration=8, resolution="720p"), prompt="x", shots=(("a", 3), ("b", 4))
    )
    assert wrong["shots"] == ["The shots last 7s in all; they must add up to 8s."]


def test_more_shots_than_allowed_is_an_error():
    shots = tuple((f"shot {i}", 2) for i in range(7))
    errors = catalog.check(
        preview("kling-3.0"), p(duration=14, resolution="720p"), prompt="x", shots=shots
    )
    assert "Use at most 6 shots." in errors["shots"]


def test_multi_shot_on_a_model_without_it_is_an_error():
    errors = catalog.check(preview("kling-2.6-pro"), p(), prompt="x", shots=(("a", 5),))
    assert "does not do multi-shot" in errors["shots"][0]


def test_per_second_and_per_clip_prices_convert_to_micro_usd_rounding_up():
    rates = Rates(
        unit="units",
        usd_micros_per_unit=140_000,  # 1 unit = $0.14
        per_second={("720p", False): Decimal("0.6")},
        per_clip={(5, "1080p", True): Decimal("5")},
    )
    offer = Offer(provider="x", family="kling-3.0", remote_model="x", rates=rates)
    assert offer.price(5, "720p", False).usd_micros == 420_000  # 3 units
    assert offer.price(5, "1080p", True).usd_micros == 700_000
    thirds = Rates(unit="t", usd_micros_per_unit=1, per_second={("*", False): Decimal("1") / 3})
    assert thirds.to_usd_micros(thirds.units(1, "720p", False)) == 1


def test_preview_is_free_for_every_family():
    for family in catalog.FAMILIES:
        offer = preview(family)
        assert offer.price(offer.allowed_durations[0], offer.allowed_resolutions[0], True).is_free


@pytest.mark.parametrize(
    ("micros", "text"),
    [
        (0, "$0.00"),
        (700_000, "$0.70"),
        (12_345_000, "$12.35"),
        (1_234_567_890, "$1,234.57"),
        (420, "$0.00042"),
    ],
)
def test_usd_formatting_never_hides_a_non_zero_amount(micros, text):
    assert catalog.format_usd(micros) == text


def test_micros_per_usd_is_a_million():
    assert MICROS_PER_USD == 1_000_000
