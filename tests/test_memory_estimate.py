"""The memory estimate's exact parts, checked against the real libraries: parameter counts against instantiating
the model, LoRA counts against PEFT, 4-bit sizes and constants against bitsandbytes' own tensors."""

import pytest
from transformers import AutoModelForCausalLM, PhiConfig

from clintune.config import load_config
from clintune.errors import ClintuneError
from clintune.memory.estimate import count_parameters, meta_model, model_config_from, state_bytes
from clintune.memory.measure import model_state_bytes
from clintune.train.methods import model_for_method

PHI2_SHAPED = PhiConfig(vocab_size=512, hidden_size=128, intermediate_size=512, num_hidden_layers=3,
                        num_attention_heads=4)


def test_parameter_counts_equal_the_instantiated_models(tiny_model_dir):
    for cfg in (PHI2_SHAPED, model_config_from(str(tiny_model_dir / "config.json"))):
        real = AutoModelForCausalLM.from_config(cfg)
        counts = count_parameters(meta_model(cfg), load_config(None, ["train.method=full"]))
        assert counts.total == sum(p.numel() for p in real.parameters())
        assert counts.trainable == counts.total


@pytest.mark.parametrize("overrides", [
    ["train.method=lora"],
    ["train.method=lora", "lora.r=4", "lora.targets=[q_proj, v_proj]"],
    ["train.method=dora", "lora.r=8", "lora.top_layers=2"],
])
def test_lora_counts_equal_peft_trainable_parameters(tiny_model_dir, overrides):
    config = load_config(None, overrides)
    peft_model = model_for_method(str(tiny_model_dir), config, "fp32")
    trainable, _ = peft_model.get_nb_trainable_parameters()  # what print_trainable_parameters prints
    counts = count_parameters(meta_model(model_config_from(str(tiny_model_dir))), config)
    assert counts.adapters == counts.trainable == trainable


@pytest.mark.parametrize("double_quant", [False, True])
def test_qlora_weights_and_constants_equal_bitsandbytes_tensors(tiny_model_dir, double_quant):
    config = load_config(None, ["train.method=qlora", f"quant.double_quant={double_quant}"])
    measured = model_state_bytes(model_for_method(str(tiny_model_dir), config, "bf16"))
    # bf16 compute: what bitsandbytes does not quantise is held in bf16 too (2 bytes), not upcast to fp32.
    estimate = state_bytes(count_parameters(meta_model(model_config_from(str(tiny_model_dir))), config, 2), config, 2)
    assert estimate["weights"] == measured["weights"]
    assert estimate["quant_constants"] == measured["quant_constants"]


def test_an_unreadable_model_config_is_one_line(tmp_path):
    with pytest.raises(ClintuneError, match="unknown model"):
        model_config_from(str(tmp_path / "missing"))
    bad = tmp_path / "config.json"
    bad.write_text('{"hidden_size": 8}')
    with pytest.raises(ClintuneError, match="config.json has no model_type"):
        model_config_from(str(bad))


def test_full_fine_tuning_keeps_fp32_weights_gradients_and_two_adam_moments():
    config = load_config(None, ["train.method=full"])
    counts = count_parameters(meta_model(PHI2_SHAPED), config)
    state = state_bytes(counts, config)
    assert state["weights"] == state["gradients"] == 4 * counts.total
    tensors = len(list(meta_model(PHI2_SHAPED).parameters()))
    assert state["optimizer"] == 8 * counts.total + 4 * tensors  # two moments, and torch's step counter per tensor
    assert state["adapters"] == 0


@pytest.mark.parametrize("model_type, extra", [
    ("mistral", {}), ("qwen2", {}), ("gemma", {"head_dim": 32}), ("phi3", {"pad_token_id": 0}), ("phi", {}),
])
def test_any_causal_lm_from_a_config_gets_exact_counts_and_a_plan(model_type, extra):
    from transformers import AutoConfig

    from clintune.memory.plan import plan_memory

    cfg = AutoConfig.for_model(model_type, vocab_size=512, hidden_size=128, intermediate_size=256,
                               num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, **extra)
    config = load_config(None, ["train.method=lora"])
    counts = count_parameters(meta_model(cfg), config)
    assert counts.total == sum(p.numel() for p in AutoModelForCausalLM.from_config(cfg).parameters())
    plan = plan_memory(meta_model(cfg), config, "bf16")
    assert plan.bytes["activations"] > 0 and plan.kv_cache > 0 and plan.params_trainable == counts.adapters
