import pytest

from clintune.config import RunConfig, dump_config, load_config, parse_overrides
from clintune.errors import ClintuneError


def test_defaults_validate_and_round_trip_through_yaml(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text(dump_config(RunConfig()))
    assert load_config(path) == RunConfig()


def test_overrides_reach_nested_fields_with_yaml_types():
    config = load_config(None, ["lora.r=8", "train.lr=1e-4", "prompt.chat=false", "lora.targets=[q_proj, v_proj]"])
    assert config.lora.r == 8
    assert config.train.lr == pytest.approx(1e-4)
    assert config.prompt.chat is False
    assert config.lora.targets == ["q_proj", "v_proj"]


def test_unknown_key_names_the_closest_valid_key():
    with pytest.raises(ClintuneError) as caught:
        load_config(None, ["train.warmup_ration=0.1"])
    assert caught.value.one_line() == (
        "unknown config key 'train.warmup_ration' (overrides); did you mean 'train.warmup_ratio'?"
    )


def test_hugging_face_argument_names_point_to_ours():
    with pytest.raises(ClintuneError, match=r"unknown config key 'train.learning_rate'.*did you mean 'train.lr'"):
        load_config(None, ["train.learning_rate=1e-4"])
    with pytest.raises(ClintuneError, match=r"did you mean 'lora.targets'"):
        load_config(None, ["lora.target_modules=[q_proj]"])


def test_typo_in_section_key_suggests_the_right_one(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("lora:\n  rr: 8\n")
    with pytest.raises(ClintuneError, match=r"unknown config key 'lora.rr'.*did you mean 'lora.r'"):
        load_config(path)


def test_leaf_under_wrong_section_is_pointed_to_its_section():
    with pytest.raises(ClintuneError, match=r"did you mean 'train.batch_size'"):
        load_config(None, ["lora.batch_size=4"])


def test_bad_value_is_one_line_with_the_key():
    with pytest.raises(ClintuneError, match=r"bad value for 'lora.r'") as caught:
        load_config(None, ["lora.r=0"])
    assert "\n" not in caught.value.one_line()


def test_malformed_yaml_and_override_are_user_errors(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("train: [unclosed\n")
    with pytest.raises(ClintuneError, match="not valid YAML"):
        load_config(path)
    with pytest.raises(ClintuneError, match="not key=value"):
        parse_overrides(["lora.r"])
    with pytest.raises(ClintuneError, match="not found"):
        load_config(path.with_name("missing.yaml"))


def test_note_kinds_are_the_generators_and_an_unknown_one_is_refused():
    import typing

    from clintune.config import NoteKind
    from clintune.data.generate import NOTE_KINDS

    assert set(typing.get_args(NoteKind)) == set(NOTE_KINDS)
    assert load_config(None, ["data.note_kinds=[operative note, clinic note]"]).data.note_kinds == [
        "operative note", "clinic note"]
    with pytest.raises(ClintuneError, match=r"bad value for 'data.note_kinds.0'.*'operative note'"):
        load_config(None, ["data.note_kinds=[radiology letter]"])
