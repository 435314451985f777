"""Batched generation: left padding, KV cache, length-sorted batches; greedy by default, beam search or sampling as
options; stop at EOS or a stop string; a cache on disk so an interrupted evaluation resumes without redoing work."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from clintune.evaluate.decoding import Decoding
from clintune.evaluate.greedy import greedy_batch, plain_greedy
from clintune.prompts.templates import encode_prompt
from clintune.runs import KeyedCache


class GenerationCache(KeyedCache):
    """Finished generations keyed by (prompt, model, adapter hash, decoding)."""

    def __init__(self, path: Path, model_id: str, decoding: Decoding):
        super().__init__(path)
        self.salt = json.dumps({"model": model_id, "decoding": asdict(decoding)}, sort_keys=True)

    def key(self, prompt: str) -> str:
        return hashlib.sha256(f"{self.salt}\0{prompt}".encode()).hexdigest()


def cut_at_stop(text: str, stop: tuple[str, ...]) -> str:
    hits = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return text[:min(hits)] if hits else text


def generate_answers(model, tokenizer, prompts: list[str], *, chat: bool, max_new_tokens: int | None = None,
                     batch_size: int, label: str = "generating", decoding: Decoding | None = None,
                     cache: GenerationCache | None = None) -> list[str]:
    """Answers for rendered prompts, returned in the input order."""
    decoding = decoding or Decoding(max_new_tokens=max_new_tokens or 256)
    encoded = [encode_prompt(tokenizer, p, chat) for p in prompts]
    keys = [cache.key(p) for p in prompts] if cache else [None] * len(prompts)
    answers: list[str] = [cache.values.get(k) if cache else None for k in keys]
    todo = [i for i, answer in enumerate(answers) if answer is None]
    # Sorting by length keeps padding (and wasted compute) small within each batch.
    order = sorted(todo, key=lambda i: len(encoded[i]))
    was_training = model.training
    model.eval()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    greedy = plain_greedy(model, decoding.num_beams, decoding.do_sample)
    stopped = (lambda tokens: any(s in tokenizer.decode(tokens) for s in decoding.stop)) if decoding.stop else None
    with Progress(*columns, transient=True) as progress, torch.inference_mode():
        task = progress.add_task(label, total=len(prompts), completed=len(prompts) - len(todo))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            if greedy:
                texts = [tokenizer.decode(tokens, skip_special_tokens=True) for tokens in greedy_batch(
                    model, [encoded[i] for i in batch], max_new_tokens=decoding.max_new_tokens,
                    eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, stopped=stopped)]
            else:
                texts = generate_batch(model, tokenizer, [encoded[i] for i in batch], decoding, seed=start)
            finished = {}
            for text, index in zip(texts, batch, strict=True):
                answers[index] = cut_at_stop(text, decoding.stop).strip()
                finished[keys[index]] = answers[index]
            if cache:
                cache.add(finished)
            progress.advance(task, len(batch))
    model.train(was_training)
    return answers


def generate_batch(model, tokenizer, prompts: list[list[int]], decoding: Decoding, seed: int) -> list[str]:
    """`transformers`' generate, left-padded: beams, sampling, and models whose generation config asks for logits
    processors."""
    longest = max(len(p) for p in prompts)
    pad = tokenizer.pad_token_id
    device = next(model.parameters()).device
    input_ids = torch.tensor([[pad] * (longest - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (longest - len(p)) + [1] * len(p) for p in prompts])
    if decoding.do_sample:
        torch.manual_seed(decoding.seed + seed)
    stop = {"stop_strings": list(decoding.stop), "tokenizer": tokenizer} if decoding.stop else {}
    output = model.generate(
        input_ids=input_ids.to(device),
        attention_mask=mask.to(device),
        use_cache=True,  # explicit: Trainer leaves model.config.use_cache off after training
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **decoding.options(),
        **stop,
    )
    return [tokenizer.decode(row[longest:], skip_special_tokens=True) for row in output]
