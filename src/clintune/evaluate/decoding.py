"""How answers are decoded: one frozen value, part of every generation cache key (and light to import: no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Decoding:
    max_new_tokens: int = 256
    num_beams: int = 1  # the Asclepius paper generated with 5
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    stop: tuple[str, ...] = field(default_factory=tuple)
    seed: int = 0

    def options(self) -> dict:
        sampled = {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p, "top_k": None}
        return {"max_new_tokens": self.max_new_tokens, "num_beams": self.num_beams,
                **(sampled if self.do_sample else {"do_sample": False})}
