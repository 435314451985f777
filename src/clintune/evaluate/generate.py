"""Batched greedy generation: left padding, KV cache, length-sorted batches, stop at EOS."""

from __future__ import annotations

import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from clintune.prompts.templates import encode_prompt


def generate_answers(model, tokenizer, prompts: list[str], *, chat: bool, max_new_tokens: int, batch_size: int,
                     label: str = "generating") -> list[str]:
    """Greedy answers for rendered prompts, returned in the input order."""
    encoded = [encode_prompt(tokenizer, p, chat) for p in prompts]
    # Sorting by length keeps padding (and wasted compute) small within each batch.
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    answers: list[str] = [""] * len(encoded)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress, torch.inference_mode():
        task = progress.add_task(label, total=len(encoded))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            longest = max(len(encoded[i]) for i in batch)
            pad = tokenizer.pad_token_id
            input_ids = torch.tensor([[pad] * (longest - len(encoded[i])) + encoded[i] for i in batch])
            mask = torch.tensor([[0] * (longest - len(encoded[i])) + [1] * len(encoded[i]) for i in batch])
            output = model.generate(
                input_ids=input_ids.to(device),
                attention_mask=mask.to(device),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                num_beams=1,
                use_cache=True,  # explicit: Trainer leaves model.config.use_cache off after training
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            )
            for row, index in enumerate(batch):
                answers[index] = tokenizer.decode(output[row, longest:], skip_special_tokens=True).strip()
            progress.advance(task, len(batch))
    model.train(was_training)
    return answers
