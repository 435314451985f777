"""Batching for both stages. Every collator keeps the labels it is given: prompt tokens stay -100 and the EOS stays
trained, also when the tokenizer's pad token is its EOS (padding is masked by position, never by comparing ids).

- `LeftPaddingCollator` (sft, `train.packing: false`): rows padded on the left; position ids restart at 0 for every
  row, so a padded row sees exactly the positions it would see alone, as in left-padded batched generation.
- `PaddingFreeCollator` (sft, `train.packing: true`): the batch's examples concatenated into one row with no padding
  at all; position ids restart at 0 at every example and no attention mask is passed, which is how transformers
  recognises packed sequences and builds a block-diagonal causal mask (or varlen flash attention on GPUs), so no
  example ever attends to another. (It looks for them only without a KV cache: the trainer passes use_cache=False.)
- `BlockCollator` (pretrain): equal-length blocks of notes, every token trained.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class LeftPaddingCollator:
    pad_token_id: int

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        longest = max(len(f["input_ids"]) for f in features)
        input_ids, labels, attention_mask, position_ids = [], [], [], []
        for feature in features:
            n = len(feature["input_ids"])
            pad = longest - n
            input_ids.append([self.pad_token_id] * pad + list(feature["input_ids"]))
            labels.append([-100] * pad + list(feature["labels"]))
            attention_mask.append([0] * pad + [1] * n)
            position_ids.append([0] * pad + list(range(n)))
        return {
            "input_ids": torch.tensor(input_ids),
            "labels": torch.tensor(labels),
            "attention_mask": torch.tensor(attention_mask),
            "position_ids": torch.tensor(position_ids),
        }


@dataclass
class PaddingFreeCollator:
    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        input_ids, labels, position_ids = [], [], []
        for feature in features:
            input_ids.extend(feature["input_ids"])
            # An example's first label is a prompt token (-100), so the previous example's last position never
            # learns to predict the next example's start.
            labels.extend([-100, *feature["labels"][1:]])
            position_ids.extend(range(len(feature["input_ids"])))
        return {
            "input_ids": torch.tensor([input_ids]),
            "labels": torch.tensor([labels]),
            "position_ids": torch.tensor([position_ids]),
        }


@dataclass
class BlockCollator:
    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        input_ids = torch.tensor([f["input_ids"] for f in features])
        return {"input_ids": input_ids, "labels": input_ids.clone()}
