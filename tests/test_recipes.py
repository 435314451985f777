"""The shipped recipes: each validates, says what it trains, and names LoRA targets the real model has."""

import pytest
import torch
import yaml
from transformers import LlamaConfig, MistralConfig, PhiConfig, PhiForCausalLM

from clintune.config import load_config
from clintune.errors import ClintuneError
from clintune.models.targets import resolve_targets
from clintune.recipes import recipe_names, resolve_recipe

SHIPPED = {"demo", "asclepius-llama3-8b", "asclepius-mistral-7b", "course-phi2-qlora-t4", "llama32-1b-qlora"}


def test_every_shipped_recipe_validates_against_the_one_config():
    assert set(recipe_names()) == SHIPPED
    for name in SHIPPED:
        load_config(resolve_recipe(name))


def test_the_asclepius_recipes_carry_the_papers_numbers():
    for name in ("asclepius-llama3-8b", "asclepius-mistral-7b"):
        config = load_config(resolve_recipe(name))
        train, dist = config.train, config.distributed
        assert config.stages == ["pretrain", "sft"] and config.pretrain.epochs == 1 and train.epochs == 3
        assert (train.lr, train.scheduler, train.warmup_ratio) == (2e-5, "cosine", 0.03)
        assert train.batch_size * train.grad_accum * dist.nproc == 128
        assert train.max_length == 2048 and config.pretrain.block_size == 2048 and train.precision == "bf16"
        assert dist.fsdp == "full_shard" and train.gradient_checkpointing and train.method == "full"


def test_the_asclepius_fsdp_wrap_classes_are_the_models_own_decoder_layers():
    for name, model_config in (("asclepius-llama3-8b", LlamaConfig), ("asclepius-mistral-7b", MistralConfig)):
        wrap = load_config(resolve_recipe(name)).distributed.fsdp_wrap
        from transformers import AutoModelForCausalLM

        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(model_config(num_hidden_layers=1, hidden_size=64,
                                                                  intermediate_size=128, num_attention_heads=4,
                                                                  num_key_value_heads=4))
        assert wrap in model._no_split_modules


def test_the_course_recipe_names_targets_that_phi2_actually_has():
    config = load_config(resolve_recipe("course-phi2-qlora-t4"))
    assert (config.quant.type, config.quant.compute_dtype, config.quant.double_quant) == ("nf4", "fp16", False)
    assert (config.lora.r, config.lora.alpha, config.lora.dropout) == (4, 8, 0.0)
    assert (config.train.optimizer, config.train.lr, config.train.max_length) == ("paged_adamw_32bit", 1e-4, 512)
    assert config.train.batch_size * config.train.grad_accum == 16 and config.train.gradient_checkpointing
    # A phi-2-shaped model (transformers' Phi, the code the course actually loaded), small and random.
    phi = PhiForCausalLM(PhiConfig(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                   num_attention_heads=4))
    assert resolve_targets(phi, config.lora.targets) == ["q_proj", "k_proj", "v_proj", "dense", "fc1", "fc2"]
    with pytest.raises(ClintuneError, match="Wqkv match no linear layer"):  # the course's mistake
        resolve_targets(phi, ["Wqkv", "fc1", "fc2"])


def test_recipes_list_and_show(cli):
    listed = cli("recipes", "list")
    assert listed.returncode == 0
    for name in SHIPPED:
        assert name in listed.stdout
    shown = cli("recipes", "show", "course-phi2-qlora-t4")
    assert shown.returncode == 0 and yaml.safe_load(shown.stdout)["lora"]["targets"][0] == "q_proj"
    unknown = cli("recipes", "show", "course-phi2")
    assert unknown.returncode == 2 and "did you mean 'course-phi2-qlora-t4'" in unknown.stderr


def test_a_typo_in_a_recipe_key_exits_2_naming_the_right_key(cli, tmp_path):
    recipe = tmp_path / "mine.yaml"
    recipe.write_text(yaml.safe_dump({"train": {"learning_rat": 1e-4}}))
    result = cli("train", str(recipe))
    assert result.returncode == 2
    assert "unknown config key 'train.learning_rat'" in result.stderr and "'train.lr'" in result.stderr
    assert "Traceback" not in result.stderr


def test_sharding_keys_become_the_trainers_own_fsdp_and_deepspeed_arguments(tmp_path):
    from clintune.train.trainer import trainer_config

    config = load_config(resolve_recipe("asclepius-llama3-8b"))
    args = trainer_config(config, "pretrain", tmp_path, "cpu", "bf16")
    assert args.fsdp and args.fsdp_config["reshard_after_forward"] is True
    assert args.fsdp_config["transformer_layer_cls_to_wrap"] == ["LlamaDecoderLayer"]
    # FSDP checkpoints inside its own wrapping, so the trainer's own checkpointing stays off.
    assert args.fsdp_config["activation_checkpointing"] is True and not args.activation_checkpointing
    assert args.learning_rate == 2e-5 and args.num_train_epochs == 1  # stage 1 runs its own epoch count
    with pytest.raises(ClintuneError, match="needs the deepspeed package"):  # not installed here
        trainer_config(load_config(None, ["distributed.deepspeed_zero=2"]), "sft", tmp_path, "cpu", "bf16")
