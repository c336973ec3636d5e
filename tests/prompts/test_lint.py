from studio.prompts.fields import DialogueLine, PromptFields
from studio.prompts.lint import lint
from studio.providers import catalog
from studio.providers.catalog import Params

OFFER = catalog.offer("preview", "kling-2.6-pro")


def params(duration=5, audio=True):
    return Params(duration=duration, aspect_ratio="16:9", resolution="1080p", audio=audio)


def messages(fields, p):
    return [w.message for w in lint(fields, p, OFFER, "x")]


def test_more_dialogue_than_fits_the_duration_is_flagged():
    long_line = " ".join(["word"] * 20)  # 20 words; 5 s fits about 12
    fields = PromptFields(subject="a man", dialogue=(DialogueLine("Tom", long_line),))
    assert any(
        "20 words of dialogue" in m and "fits about 12" in m for m in messages(fields, params())
    )


def test_the_same_dialogue_fits_a_longer_clip():
    line = " ".join(["word"] * 20)
    fields = PromptFields(subject="a man", dialogue=(DialogueLine("Tom", line),))
    assert not any("words of dialogue" in m for m in messages(fields, params(duration=10)))


def test_audio_off_with_dialogue_and_ambience_warns_that_they_will_not_be_heard():
    fields = PromptFields(subject="a man", dialogue=(DialogueLine("Tom", "Hi"),), ambience="rain")
    found = messages(fields, params(audio=False))
    assert any("Sound is off" in m and "dialogue and ambience" in m for m in found)


def test_audio_on_with_nothing_describing_sound_says_the_model_will_improvise():
    assert any("improvise" in m for m in messages(PromptFields(subject="a fox"), params()))


def test_three_speakers_in_one_clip_are_flagged():
    lines = tuple(DialogueLine(s, "Hi") for s in ("A", "B", "C"))
    assert any(
        "More than two speakers" in m
        for m in messages(PromptFields(subject="x", dialogue=lines), params())
    )
