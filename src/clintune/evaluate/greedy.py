"""Greedy decoding for a batch of prompts, written out so that a batch costs what its unfinished answers cost.

    new_tokens = greedy_batch(model, [ids_1, ids_2], max_new_tokens=64, eos_token_id=2, pad_token_id=2)

`transformers`' `generate` keeps every row of a batch until the longest answer ends, and prefills the whole prompt of
every row. Evaluation prompts share the template's opening (system prompt, instruction preamble: about 90 tokens of
350), and answers end at very different lengths. So this loop:
- prefills the shared opening once, at batch size 1, and repeats its KV cache across the batch;
- pads each row after that opening (attention mask 0, positions counted past the padding), so every row sees the
  same positions as it would alone;
- drops a row from the batch (and from the KV cache) as soon as it ends.

In fp32 the answers are the tokens `generate` would give, token for token (tests/test_evaluate.py checks it against
`generate` on a real model; benchmarks/eval_throughput.py on 64 SmolLM2 answers). `generate_answers` uses this loop
for plain greedy decoding and `generate` for everything else (sampling, beams, a model whose generation config asks
for logits processors).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from transformers import DynamicCache

# Generation-config fields that change greedy choices; a model that sets any of them is decoded by `generate`.
PROCESSOR_FIELDS = {"repetition_penalty": 1.0, "no_repeat_ngram_size": 0, "bad_words_ids": None, "min_length": 0,
                    "min_new_tokens": None, "suppress_tokens": None, "begin_suppress_tokens": None,
                    "forced_bos_token_id": None, "forced_eos_token_id": None, "sequence_bias": None,
                    "encoder_repetition_penalty": 1.0, "exponential_decay_length_penalty": None}


def greedy_batch(model, prompts: list[list[int]], *, max_new_tokens: int, eos_token_id: int, pad_token_id: int,
                 stopped: Callable[[list[int]], bool] | None = None) -> list[list[int]]:
    """The greedy continuation of each prompt (token ids, without the prompt), ended by EOS (kept, as `generate`
    keeps it), by `stopped(tokens)` or by `max_new_tokens`."""
    device = next(model.parameters()).device
    shared = shared_prefix_length(prompts) if len(prompts) > 1 else 0
    cache = DynamicCache(config=model.config)
    if shared:
        model(input_ids=torch.tensor([prompts[0][:shared]], device=device), past_key_values=cache, use_cache=True,
              logits_to_keep=1)
        cache.batch_repeat_interleave(len(prompts))
    rests = [p[shared:] for p in prompts]
    longest = max(len(r) for r in rests)
    input_ids = torch.tensor([[pad_token_id] * (longest - len(r)) + r for r in rests], device=device)
    mask = torch.tensor([[1] * shared + [0] * (longest - len(r)) + [1] * len(r) for r in rests], device=device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    logits = model(input_ids=input_ids, attention_mask=mask, position_ids=positions[:, shared:],
                   past_key_values=cache, use_cache=True, logits_to_keep=1).logits[:, -1]
    answers: list[list[int]] = [[] for _ in prompts]
    live = list(range(len(prompts)))  # the prompt index of each row still in the batch
    next_position = positions[:, -1:] + 1
    for _ in range(max_new_tokens):
        chosen = logits.argmax(-1)
        keep = []
        for row, index in enumerate(live):
            token = int(chosen[row])
            answers[index].append(token)
            ended = token == eos_token_id or len(answers[index]) == max_new_tokens
            if not ended and not (stopped and stopped(answers[index])):
                keep.append(row)
        if not keep:
            break
        if len(keep) < len(live):
            rows = torch.tensor(keep, device=device)
            cache.batch_select_indices(rows)
            chosen, mask, next_position = chosen[rows], mask[rows], next_position[rows]
            live = [live[row] for row in keep]
        mask = torch.cat([mask, mask.new_ones((len(live), 1))], dim=-1)
        logits = model(input_ids=chosen[:, None], attention_mask=mask, position_ids=next_position,
                       past_key_values=cache, use_cache=True).logits[:, -1]
        next_position = next_position + 1
    return answers


def shared_prefix_length(prompts: list[list[int]]) -> int:
    """Tokens every prompt starts with, leaving at least one token of each prompt to prefill with its own row."""
    shortest = min(len(p) for p in prompts)
    length = 0
    while length < shortest - 1 and all(p[length] == prompts[0][length] for p in prompts):
        length += 1
    return length


def plain_greedy(model, num_beams: int, do_sample: bool) -> bool:
    """Whether `greedy_batch` decodes as `generate` would: greedy, one beam, no logits processor in the config."""
    config = model.generation_config
    return (not do_sample and num_beams == 1
            and all(getattr(config, name, default) in (default, None) for name, default in PROCESSOR_FIELDS.items()))
