"""Log-probabilities for the OpenAI API's `logprobs`, `top_logprobs` and `echo`, as harnesses read them.

One forward pass over the prompt and the generated tokens gives every token's log-probability under the model given
the tokens before it, in fp32 from the model's own logits: what lm-eval's Hugging Face backend computes, so a
log-likelihood scored through the server equals the one scored in process. The first prompt token has no
log-probability (nothing comes before it), as OpenAI returns it: null.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

MAX_TOP = 20  # OpenAI's limit on top_logprobs


@dataclass
class TokenScore:
    token: int
    logprob: float | None  # None for the first token of the sequence
    top: list[tuple[int, float]]  # the `top` most likely tokens at this position, most likely first


@torch.inference_mode()
def score_tokens(model, ids: list[int], top: int) -> list[TokenScore]:
    """Each token of `ids` with its log-probability given the ones before it, and the `top` alternatives there."""
    device = next(model.parameters()).device
    logits = model(input_ids=torch.tensor([ids], device=device)).logits[0, :-1].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    chosen = logprobs.gather(1, torch.tensor(ids[1:], device=device)[:, None])[:, 0].tolist()
    best = logprobs.topk(top, dim=-1) if top else None
    scores = [TokenScore(ids[0], None, [])]
    for position, token in enumerate(ids[1:]):
        alternatives = list(zip(best.indices[position].tolist(), best.values[position].tolist(), strict=True)) \
            if best is not None else []
        scores.append(TokenScore(token, chosen[position], alternatives))
    return scores


def completion_logprobs(tokenizer, scores: list[TokenScore], text_start: int = 0) -> dict:
    """The legacy completions shape: tokens, token_logprobs, top_logprobs ({token: logprob}) and text_offset."""
    pieces = [_piece(tokenizer, score.token) for score in scores]
    offsets, at = [], text_start
    for piece in pieces:
        offsets.append(at)
        at += len(piece)
    return {"tokens": pieces, "token_logprobs": [score.logprob for score in scores],
            "top_logprobs": [None if score.logprob is None else
                             {_piece(tokenizer, token): value for token, value in score.top} for score in scores],
            "text_offset": offsets}


def chat_logprobs(tokenizer, scores: list[TokenScore]) -> dict:
    """The chat completions shape: content, one entry per generated token with its top alternatives."""
    def entry(token: int, value: float) -> dict:
        piece = _piece(tokenizer, token)
        return {"token": piece, "logprob": value, "bytes": list(piece.encode("utf-8"))}

    return {"content": [{**entry(score.token, score.logprob),
                         "top_logprobs": [entry(token, value) for token, value in score.top]} for score in scores],
            "refusal": None}


def _piece(tokenizer, token: int) -> str:
    return tokenizer.decode([token], skip_special_tokens=False, clean_up_tokenization_spaces=False)
