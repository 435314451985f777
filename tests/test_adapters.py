import pytest

from clintune.config import LoraSection
from clintune.errors import ClintuneError
from clintune.models.targets import count_parameters, linear_layer_names, resolve_targets
from clintune.train.adapters import add_lora


def test_all_linear_resolves_to_every_projection_but_not_the_head(tiny_model):
    names = linear_layer_names(tiny_model)
    assert names == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]
    assert resolve_targets(tiny_model, "all-linear") == names
    assert resolve_targets(tiny_model, "q_proj, v_proj") == ["q_proj", "v_proj"]


def test_a_target_that_matches_nothing_is_refused_with_the_real_names(tiny_model):
    # The course's phi-2 config named Wqkv, which its model did not have; LoRA then silently skipped attention.
    with pytest.raises(ClintuneError, match=r"Wqkv, fc1 match no linear layer.*q_proj"):
        resolve_targets(tiny_model, ["Wqkv", "fc1"])


def test_lora_counts_and_top_layers(tiny_model):
    total_before = sum(p.numel() for p in tiny_model.parameters())
    model = add_lora(tiny_model, LoraSection(r=4, alpha=8, top_layers=2))
    trainable, total = count_parameters(model)
    adapted = {name.split(".layers.")[1].split(".")[0] for name, p in model.named_parameters() if p.requires_grad}
    assert adapted == {"2", "3"}  # only the last two of four layers
    # r * (in + out) per adapted projection: q,k,v,o are 128x128; gate/up 128->384; down 384->128.
    per_layer = 4 * 4 * (128 + 128) + 3 * 4 * (128 + 384)
    assert trainable == 2 * per_layer
    assert total == total_before + trainable


def test_top_layers_beyond_the_model_is_a_user_error(tiny_model):
    with pytest.raises(ClintuneError, match="has 4 layers"):
        add_lora(tiny_model, LoraSection(top_layers=5))
