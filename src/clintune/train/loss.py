"""The SFT and pretraining loss without a [tokens x vocabulary] fp32 tensor.

The plain loss projects every trained position through the vocabulary head and upcasts the logits to fp32 before the
cross-entropy: for Llama-3's 128k vocabulary and 4,096 trained tokens that is 2 GiB of fp32 log-probabilities kept
for backward, plus the logits themselves. Here the model runs with its head short-circuited, so its forward stops at
the final hidden states of the trained positions, and the loss is computed from those:
- `chunked` (plain torch, every device): the head and the fp32 cross-entropy over `chunk` positions at a time, each
  chunk under activation checkpointing, so only the hidden states are saved and backward rebuilds one chunk's
  logits at a time. The result and its gradients equal the plain loss (tests/test_lean_training.py).
- `fused` (CUDA): liger-kernel's fused linear cross-entropy, which never materialises the logits at all.

The head is short-circuited with a forward pre-hook (PyTorch's public hook API) for the length of one forward:
the model slices the hidden states with `logits_to_keep` exactly as it would for its own head, the hook takes that
input and hands the head an empty one. Models whose logits are transformed after the head (Gemma 2's soft-capping,
Cohere's logit scale) keep the plain loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint


class HeadInput:
    """`with HeadInput(head) as captured: model(...)`: the head's input lands in `captured.hidden`, and the head
    computes logits for no position at all."""

    def __init__(self, head: nn.Module):
        self.head = head
        self.hidden: torch.Tensor | None = None
        self._handle = None

    def _take(self, module, args):
        self.hidden = args[0]
        return (args[0][..., :0, :],)

    def __enter__(self) -> HeadInput:
        self._handle = self.head.register_forward_pre_hook(self._take)
        return self

    def __exit__(self, *exc) -> None:
        self._handle.remove()


def _chunk_loss(hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(F.linear(hidden, weight, bias).float(), targets, reduction="sum")


def chunked_cross_entropy(hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                          targets: torch.Tensor, chunk: int) -> torch.Tensor:
    """Summed cross-entropy of head(hidden) against targets, `chunk` rows of hidden at a time.

    Each chunk is checkpointed: its logits and their fp32 copy are freed as soon as its loss is known and rebuilt in
    backward, so at most one chunk's [chunk x vocabulary] tensors exist at any time."""
    total = hidden.new_zeros((), dtype=torch.float32)
    for start in range(0, hidden.shape[0], chunk):
        piece = slice(start, start + chunk)
        total = total + checkpoint(_chunk_loss, hidden[piece], weight, bias, targets[piece], use_reentrant=False)
    return total


def fused_cross_entropy(hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                        targets: torch.Tensor) -> torch.Tensor:
    """liger-kernel's fused linear cross-entropy (CUDA): the logits are never materialised."""
    from liger_kernel.transformers import LigerFusedLinearCrossEntropyLoss

    return LigerFusedLinearCrossEntropyLoss(reduction="sum")(weight, hidden, targets, bias)


def summed_loss(model: nn.Module, head: nn.Module, inputs: dict, keep: torch.Tensor, targets: torch.Tensor,
                kind: str, chunk: int, autocast) -> tuple[torch.Tensor, object]:
    """(sum of the cross-entropy over the trained positions, the model's outputs). `model` may be wrapped (DDP);
    `head` is its vocabulary head; `keep` marks the positions whose next token is trained and `targets` holds those
    tokens; `autocast` is the trainer's mixed-precision context, so the head computes in the dtype it would inside
    the model's forward."""
    if kind == "plain":
        outputs = model(**inputs, use_cache=False, logits_to_keep=keep)
        return F.cross_entropy(outputs.logits.float(), targets, reduction="sum"), outputs
    with HeadInput(head) as captured:
        outputs = model(**inputs, use_cache=False, logits_to_keep=keep)
    with autocast:
        if kind == "fused":
            return fused_cross_entropy(captured.hidden, head.weight, head.bias, targets), outputs
        return chunked_cross_entropy(captured.hidden, head.weight, head.bias, targets, chunk), outputs
