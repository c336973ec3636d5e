from studio.prompts.compile import compile_prompt
from studio.prompts.fields import DialogueLine, PromptFields, ShotPart


def test_scene_camera_style_dialogue_and_sound_come_out_in_order():
    fields = PromptFields(
        subject="a barista",
        action="pours latte art",
        setting="a sunny café",
        camera_shot="close-up",
        camera_movement="slow dolly in",
        style="warm film look",
        mood="cosy",
        dialogue=(DialogueLine("Barista", "Good morning!", "warm"),),
        ambience="café murmur",
        sound_effects="steam hiss",
        music="soft guitar",
    )
    assert compile_prompt(fields) == (
        "A barista pours latte art. Setting: a sunny café. Camera: close-up, slow dolly in. "
        "Style: warm film look; mood: cosy. "
        'Barista (warm) says: "Good morning!" '
        "Ambience: café murmur. Sound effects: steam hiss. Music: soft guitar."
    )


def test_empty_fields_leave_no_dangling_labels():
    assert compile_prompt(PromptFields(subject="a fox", action="runs")) == "A fox runs."


def test_a_line_without_delivery_has_no_empty_brackets():
    fields = PromptFields(subject="a man", dialogue=(DialogueLine("Tom", "Hi."),))
    assert 'Tom says: "Hi."' in compile_prompt(fields)
    assert "()" not in compile_prompt(fields)


def test_whitespace_is_collapsed_and_sentences_are_closed():
    assert (
        compile_prompt(PromptFields(subject="  a   fox ", action="runs\n fast"))
        == "A fox runs fast."
    )


def test_fields_round_trip_through_json_and_ignore_unknown_keys():
    fields = PromptFields(
        subject="a fox",
        dialogue=(DialogueLine("Fox", "Hello", "sly"),),
        shots=(ShotPart("wide", 3), ShotPart("close", 2)),
    )
    data = fields.to_dict() | {"added_later": "ignored"}
    assert PromptFields.from_dict(data) == fields
