"""The collated batch trains exactly the answer and its EOS, and our answer-only head gives HF's own loss."""

import torch
from datasets import Dataset

from clintune.config import TrainSection
from clintune.prompts.templates import encode_example, render_prompt
from clintune.train.collator import LeftPaddingCollator
from clintune.train.sft import AnswerHeadSFTTrainer, sft_config


def _examples(tokenizer):
    pairs = [
        ("Pt on heparin, later apixaban.", "Which anticoagulant was first?", "Heparin."),
        ("Short note.", "Summarize the hospital course in one sentence.", "Admitted with CAP, treated, d/c'd home."),
    ]
    return [encode_example(tokenizer, render_prompt(tokenizer, n, q), a) for n, q, a in pairs]


def test_collated_batch_masks_prompt_and_padding_and_trains_eos_even_when_pad_is_eos(tiny_tokenizer):
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
        answer_ids = [t for t, lab in zip(example["input_ids"], example["labels"], strict=True) if lab != -100]
        assert trained == answer_ids
        assert tiny_tokenizer.decode(trained[:-1]) in ("Heparin.", "Admitted with CAP, treated, d/c'd home.")
        assert batch["position_ids"][row, pad:].tolist() == list(range(n))


def test_answer_only_head_loss_equals_the_full_logits_loss(tiny_model, tiny_tokenizer, tmp_path):
    examples = _examples(tiny_tokenizer)
    batch = LeftPaddingCollator(tiny_tokenizer.pad_token_id)(examples)
    args = sft_config(TrainSection(), tmp_path, device="cpu", bf16=False)
    trainer = AnswerHeadSFTTrainer(model=tiny_model, args=args, train_dataset=Dataset.from_list(examples),
                                   processing_class=tiny_tokenizer,
                                   data_collator=LeftPaddingCollator(tiny_tokenizer.pad_token_id))
    with torch.no_grad():
        ours = trainer.compute_loss(tiny_model, dict(batch))
        reference = tiny_model(**batch).loss  # transformers' own shifted cross-entropy over every position
    assert torch.allclose(ours, reference, atol=1e-5), (ours, reference)
    # With gradient accumulation the sum is divided by the tokens of the whole accumulated batch.
    with torch.no_grad():
        accumulated = trainer.compute_loss(tiny_model, dict(batch), num_items_in_batch=torch.tensor(1000))
    n_tokens = int((batch["labels"][:, 1:] != -100).sum())
    assert torch.allclose(accumulated, reference * n_tokens / 1000, atol=1e-5)
