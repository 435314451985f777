"""Batches train exactly the answer and its EOS; packing never lets one example attend to another; our
trained-positions-only head gives transformers' own loss, padded or packed."""

import pytest
import torch
from datasets import Dataset

from clintune.config import RunConfig
from clintune.prompts.templates import encode_example, render_prompt
from clintune.train.collator import LeftPaddingCollator, PaddingFreeCollator
from clintune.train.trainer import ClintuneTrainer, trainer_config

ANSWERS = ("Heparin.", "Admitted with CAP, treated, d/c'd home.", "No.")


def _examples(tokenizer):
    pairs = [
        ("Pt on heparin, later apixaban.", "Which anticoagulant was first?", ANSWERS[0]),
        ("Short note.", "Summarize the hospital course in one sentence.", ANSWERS[1]),
        ("Discharged on day 3 without fever.", "Was the patient febrile at discharge?", ANSWERS[2]),
    ]
    return [encode_example(tokenizer, render_prompt(tokenizer, n, q), a) for n, q, a in pairs]


def _answer_ids(example):
    return [t for t, lab in zip(example["input_ids"], example["labels"], strict=True) if lab != -100]


def test_left_padded_batch_masks_prompt_and_padding_and_trains_eos_even_when_pad_is_eos(tiny_tokenizer):
    assert tiny_tokenizer.pad_token_id == tiny_tokenizer.eos_token_id  # the classic trap is present
    examples = _examples(tiny_tokenizer)
    batch = LeftPaddingCollator(tiny_tokenizer.pad_token_id)(examples)
    eos = tiny_tokenizer.eos_token_id
    for row, example in enumerate(examples):
        n = len(example["input_ids"])
        pad = batch["input_ids"].shape[1] - n
        labels = batch["labels"][row]
        assert labels[:pad].eq(-100).all() and batch["attention_mask"][row, :pad].eq(0).all()
        assert labels[-1].item() == eos  # the EOS is a trained label although it equals pad
        trained = labels[labels != -100].tolist()
        assert trained == _answer_ids(example)
        assert tiny_tokenizer.decode(trained[:-1]) in ANSWERS
        assert batch["position_ids"][row, pad:].tolist() == list(range(n))


def test_packed_batch_trains_every_answer_and_eos_and_nothing_else(tiny_tokenizer):
    examples = _examples(tiny_tokenizer)
    batch = PaddingFreeCollator()(examples)
    assert batch["input_ids"].shape[0] == 1 and "attention_mask" not in batch
    labels = batch["labels"][0].tolist()
    expected = [t for ex in examples for t in _answer_ids(ex)]
    assert [t for t in labels if t != -100] == expected
    assert expected.count(tiny_tokenizer.eos_token_id) >= len(examples)  # each example's EOS is trained
    starts = [sum(len(ex["input_ids"]) for ex in examples[:i]) for i in range(len(examples))]
    assert [batch["position_ids"][0, s].item() for s in starts] == [0, 0, 0]


def batch_inputs(batch):
    return {k: v for k, v in batch.items() if k != "labels"}


def _per_example_logits(model, examples):
    with torch.no_grad():
        return [model(input_ids=torch.tensor([ex["input_ids"]])).logits[0] for ex in examples]


def _split(logits, examples):
    pieces, start = [], 0
    for ex in examples:
        pieces.append(logits[start:start + len(ex["input_ids"])])
        start += len(ex["input_ids"])
    return pieces


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_packing_does_not_leak_attention_across_examples(tiny_model, tiny_tokenizer, attention):
    tiny_model.set_attn_implementation(attention)
    tiny_model.eval()
    examples = _examples(tiny_tokenizer)
    alone = _per_example_logits(tiny_model, examples)
    batch = PaddingFreeCollator()(examples)
    with torch.no_grad():
        # use_cache=False as in training: with a cache, transformers does not look for packed sequences.
        packed = tiny_model(**batch_inputs(batch), use_cache=False).logits[0]
        # The control: the same row read as one long sequence, as naive packing would, does mix the examples.
        naive = tiny_model(input_ids=batch["input_ids"], use_cache=False).logits[0]
    for own, from_pack in zip(alone, _split(packed, examples), strict=True):
        assert torch.allclose(own, from_pack, atol=1e-4), (own - from_pack).abs().max()
    assert not torch.allclose(alone[1], _split(naive, examples)[1], atol=1e-2)


def _trainer(model, tokenizer, tmp_path, collator):
    args = trainer_config(RunConfig(), "sft", tmp_path, device="cpu", precision="fp32")
    return ClintuneTrainer(model=model, args=args, train_dataset=Dataset.from_list(_examples(tokenizer)),
                           processing_class=tokenizer, data_collator=collator)


def test_trained_positions_head_gives_transformers_loss_padded_or_packed(tiny_model, tiny_tokenizer, tmp_path):
    examples = _examples(tiny_tokenizer)
    padded = LeftPaddingCollator(tiny_tokenizer.pad_token_id)(examples)
    trainer = _trainer(tiny_model, tiny_tokenizer, tmp_path, PaddingFreeCollator())
    with torch.no_grad():
        reference = tiny_model(**padded).loss  # transformers' own shifted cross-entropy over every position
        ours_padded = trainer.compute_loss(tiny_model, dict(padded))
        ours_packed = trainer.compute_loss(tiny_model, PaddingFreeCollator()(examples))
        # With gradient accumulation the sum is divided by the tokens of the whole accumulated batch.
        accumulated = trainer.compute_loss(tiny_model, dict(padded), num_items_in_batch=torch.tensor(1000))
    assert torch.allclose(ours_padded, reference, atol=1e-5), (ours_padded, reference)
    assert torch.allclose(ours_packed, reference, atol=1e-4), (ours_packed, reference)
    n_tokens = int((padded["labels"][:, 1:] != -100).sum())
    assert torch.allclose(accumulated, reference * n_tokens / 1000, atol=1e-5)
