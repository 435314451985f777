import pytest
from datasets import Dataset

from clintune.config import load_config
from clintune.data.generate import generate_rows
from clintune.devices import use_bf16
from clintune.prompts.templates import encode_example, render_prompt
from clintune.train.adapters import count_parameters
from clintune.train.methods import describe, model_for_method
from clintune.train.sft import train_sft


def _examples(tokenizer, n=8):
    rows = [r for r in generate_rows(80, seed=12) if len(r["note"]) < 900][:n]
    return Dataset.from_list([encode_example(tokenizer, render_prompt(tokenizer, r["note"], r["question"]), r["answer"])
                              for r in rows])


@pytest.mark.parametrize(("method", "lr"), [("full", "1e-3"), ("lora", "3e-2"), ("dora", "3e-2"), ("qlora", "3e-2")])
def test_every_method_trains_and_its_loss_falls(tmp_path, tiny_model_dir, tiny_tokenizer, method, lr):
    config = load_config(None, [f"train.method={method}", f"train.lr={lr}", "train.max_steps=30", "train.batch_size=4",
                                "train.grad_accum=1", "train.warmup_ratio=0", "train.scheduler=constant",
                                "lora.r=8", "lora.alpha=32"])
    bf16 = use_bf16("auto", "cpu")
    model = model_for_method(str(tiny_model_dir), config, bf16)
    trainable, total = count_parameters(model)
    assert (trainable == total) == (method == "full")
    assert method.lower()[:4] in describe(model, config).lower()
    # One batch of 4, seen at every step, so the loss curve is not the noise of changing batches.
    result = train_sft(model, tiny_tokenizer, _examples(tiny_tokenizer, 4), config.train, tmp_path, "cpu", bf16)
    losses = [h["loss"] for h in result.log_history if "loss" in h]
    assert result.steps == 30
    assert losses[-1] < losses[0] - 0.3, losses


def test_qlora_quantises_the_projections_and_counts_their_real_size(tiny_model_dir):
    lora = model_for_method(str(tiny_model_dir), load_config(None, ["train.method=lora"]), True)
    qlora = model_for_method(str(tiny_model_dir), load_config(None, ["train.method=qlora", "quant.double_quant=true"]),
                             True)
    kinds = {type(m).__name__ for m in qlora.modules()}
    assert "Linear4bit" in kinds
    assert count_parameters(qlora) == count_parameters(lora)  # packed 4-bit weights count as their real number
    head = qlora.get_output_embeddings()
    assert type(head).__name__ == "Linear"  # the vocabulary head is never quantised
