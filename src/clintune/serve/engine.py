"""The served model and one generation, streamed: shared by `clintune serve` and `clintune chat`.

A run directory serves what it trained (its adapter on its base, or its full model) with the prompt settings it
trained with. Generation is transformers' `generate` with a streamer; stop strings are cut from the text, also in
the middle of a stream (text that could be the start of a stop string is held back until it is decided).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import StoppingCriteria, StoppingCriteriaList, TextStreamer

from clintune.models.load import Trained, load_trained
from clintune.serve.scoring import TokenScore, score_tokens


def open_served(run: Path | None, model: str | None, adapter: str | None, keep_adapter: bool = False,
                trust_remote_code: bool = False) -> Trained:
    """The model of a run directory, or a model (with an optional adapter), ready to generate."""
    trained = load_trained(run, model, adapter, keep_adapter, trust_remote_code)
    trained.model.generation_config.pad_token_id = trained.tokenizer.pad_token_id
    return trained


@dataclass
class Sampling:
    max_tokens: int = 256
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    logprobs: int | None = None  # score the tokens, with this many alternatives each; None: do not score
    echo: bool = False  # score the prompt's tokens too


@dataclass
class Generated:
    text: str
    finish_reason: str  # "stop" (EOS or a stop string) or "length"
    prompt_tokens: int
    completion_tokens: int
    scores: list[TokenScore] | None = None  # with Sampling.logprobs: the prompt's (echo) and the answer's tokens


class _StopTrimmer:
    """Passes text on as it arrives, except what could still become a stop string; ends at the first stop."""

    def __init__(self, stop: list[str], emit: Callable[[str], None]):
        self.stop = [s for s in stop if s]
        self.emit = emit
        self.pending = ""
        self.text = ""
        self.stopped = False

    def feed(self, piece: str) -> None:
        if self.stopped:
            return
        self.pending += piece
        hits = [i for i in (self.pending.find(s) for s in self.stop) if i >= 0]
        if hits:
            self._send(self.pending[:min(hits)])
            self.pending, self.stopped = "", True
            return
        keep = max((n for s in self.stop for n in range(len(s) - 1, 0, -1) if self.pending.endswith(s[:n])),
                   default=0)
        self._send(self.pending[:len(self.pending) - keep])
        self.pending = self.pending[len(self.pending) - keep:]

    def finish(self) -> None:
        if not self.stopped:
            self._send(self.pending)
        self.pending = ""

    def _send(self, text: str) -> None:
        if text:
            self.text += text
            self.emit(text)


class _Streamer(TextStreamer):
    def __init__(self, tokenizer, trimmer: _StopTrimmer):
        super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
        self.trimmer = trimmer

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        self.trimmer.feed(text)


class _Until(StoppingCriteria):
    def __init__(self, done: Callable[[], bool]):
        self.done = done

    def __call__(self, input_ids, scores, **kwargs) -> torch.BoolTensor:
        return torch.full((input_ids.shape[0],), self.done(), dtype=torch.bool, device=input_ids.device)


def generate(served: Trained, prompt_ids: list[int], sampling: Sampling,
             on_text: Callable[[str], None] = lambda _: None,
             cancelled: Callable[[], bool] = lambda: False) -> Generated:
    """One completion of `prompt_ids`, its text passed to `on_text` piece by piece as it is decided."""
    tokenizer = served.tokenizer
    trimmer = _StopTrimmer(sampling.stop, on_text)
    new = _generate(served, prompt_ids, sampling, trimmer, cancelled) if sampling.max_tokens > 0 else []
    trimmer.finish()
    ended = trimmer.stopped or (new and new[-1] == tokenizer.eos_token_id)
    scores = None
    if sampling.logprobs is not None:
        answer = _answer_tokens(tokenizer, new, trimmer)
        scores = score_tokens(served.model, prompt_ids + answer, sampling.logprobs)
        scores = scores if sampling.echo else scores[len(prompt_ids):]
    return Generated(trimmer.text, "stop" if ended or len(new) < sampling.max_tokens else "length", len(prompt_ids),
                     len(new), scores)


def _generate(served: Trained, prompt_ids: list[int], sampling: Sampling, trimmer: _StopTrimmer,
              cancelled: Callable[[], bool]) -> list[int]:
    tokenizer = served.tokenizer
    device = next(served.model.parameters()).device
    input_ids = torch.tensor([prompt_ids], device=device)
    options = {"do_sample": False} if sampling.temperature <= 0 else {
        "do_sample": True, "temperature": sampling.temperature, "top_p": sampling.top_p}
    if sampling.seed is not None:
        torch.manual_seed(sampling.seed)
    with torch.inference_mode():
        output = served.model.generate(
            input_ids=input_ids, attention_mask=torch.ones_like(input_ids), max_new_tokens=sampling.max_tokens,
            streamer=_Streamer(tokenizer, trimmer), use_cache=True, eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id, top_k=None,
            stopping_criteria=StoppingCriteriaList([_Until(lambda: trimmer.stopped or cancelled())]), **options)
    return output[0, len(prompt_ids):].tolist()


def _answer_tokens(tokenizer, new: list[int], trimmer: _StopTrimmer) -> list[int]:
    """The generated tokens, up to the stop string that ended the text if one did. An EOS that ended it stays: it
    was generated, and a harness asking for one token's log-probability must get it even when that token is EOS."""
    if not trimmer.stopped:
        return new
    kept = 0
    while kept < len(new) and len(tokenizer.decode(new[:kept + 1], skip_special_tokens=True)) <= len(trimmer.text):
        kept += 1
    return new[:kept]
