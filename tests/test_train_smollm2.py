"""LoRA on the real SmolLM2-135M-Instruct: a few steps on TRL, and the loss on the trained examples drops."""

import pytest
import torch
from datasets import Dataset

from clintune.config import LoraSection, TrainSection
from clintune.data.generate import generate_rows
from clintune.models.load import load_model, load_tokenizer
from clintune.prompts.templates import encode_example, render_prompt
from clintune.train.adapters import add_lora, count_parameters
from clintune.train.collator import LeftPaddingCollator
from clintune.train.sft import train_sft


@pytest.mark.slow
def test_lora_steps_on_smollm2_lower_the_loss(smollm2_dir, tmp_path):
    tokenizer = load_tokenizer(str(smollm2_dir))
    model = add_lora(load_model(str(smollm2_dir)), LoraSection(r=8, alpha=16))
    trainable, total = count_parameters(model)
    assert 0 < trainable < total / 20
    rows = generate_rows(8, seed=11)
    data = Dataset.from_list(
        [encode_example(tokenizer, render_prompt(tokenizer, r["note"], r["question"]), r["answer"]) for r in rows]
    )
    batch = LeftPaddingCollator(tokenizer.pad_token_id)(data.to_list()[:4])

    def loss() -> float:
        with torch.no_grad():
            return model(**batch).loss.item()

    before = loss()
    section = TrainSection(max_steps=4, batch_size=4, grad_accum=1, lr=1e-3, warmup_ratio=0.0)
    result = train_sft(model, tokenizer, data, section, tmp_path, device="cpu", bf16=False)
    assert result.steps == 4
    after = loss()
    assert after < before - 0.2, (before, after)
