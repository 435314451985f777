"""LoRA on the real SmolLM2-135M-Instruct: a few steps through `train_stages`, and the saved adapter lowers the loss
on the trained examples."""

import pytest
import torch
from datasets import Dataset

from clintune.config import load_config
from clintune.data.generate import generate_rows
from clintune.devices import resolve_precision
from clintune.models.load import load_for_inference, load_tokenizer
from clintune.train.collator import LeftPaddingCollator
from clintune.train.run import train_stages
from clintune.train.stages import encode_sft


@pytest.mark.slow
def test_lora_steps_on_smollm2_lower_the_loss(smollm2_dir, tmp_path):
    name = str(smollm2_dir)
    tokenizer = load_tokenizer(name)
    config = load_config(None, [f"model.name={name}", "lora.r=8", "lora.alpha=16", "train.max_steps=4",
                                "train.batch_size=4", "train.grad_accum=1", "train.lr=1e-3", "train.warmup_ratio=0",
                                "train.save_steps=0", "train.max_length=512"])
    rows = Dataset.from_list([r for r in generate_rows(40, seed=11) if len(r["note"]) < 800][:4])
    # This machine's own precision: bf16 where the CPU has it natively (a bf16 base), else fp32; emulated bf16 is
    # ~100x slower than fp32.
    precision = resolve_precision("auto", "cpu")
    result = train_stages(config, tokenizer, rows, tmp_path, "cpu", precision, say=lambda _: None)
    assert result.steps == {"sft": 4} and 0 < result.trainable < result.total / 20
    batch = LeftPaddingCollator(tokenizer.pad_token_id)(encode_sft(tokenizer, rows, config).to_list())

    def loss(model) -> float:
        with torch.no_grad():
            return model(**batch).loss.item()

    before = loss(load_for_inference(name))
    after = loss(load_for_inference(name, adapter=str(result.saved)))
    assert after < before - 0.2, (before, after)
