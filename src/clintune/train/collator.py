"""Batching for the SFT stage: left padding, so every answer ends at the right edge of the batch.

With the answers right-aligned, the vocabulary head only has to run over the last `max answer length` positions
(see `sft.AnswerHeadSFTTrainer`). Position ids restart at 0 for every sequence, so a padded row sees exactly the
positions it would see alone, as in left-padded batched generation.
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
