"""Exactly what training will see: the encoded example, token by token, with trained and masked tokens told apart.

It encodes with `encode_example`, the function training uses, so the preview cannot drift from the real thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text

from clintune.prompts.templates import encode_example, render_prompt

MASKED_STYLE = "grey50"
TRAINED_STYLE = "bold green"
EOS_STYLE = "bold black on green"


@dataclass
class PreviewedExample:
    row: int
    task: str
    pieces: list[tuple[str, bool, bool]]  # (decoded token, trained, is_eos)
    prompt_tokens: int
    answer_tokens: int  # EOS included
    max_length: int

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.answer_tokens

    @property
    def truncation(self) -> str | None:
        """None if the example fits; otherwise what truncation at `max_length` would do to the answer."""
        if self.total <= self.max_length:
            return None
        if self.prompt_tokens >= self.max_length:
            return f"truncation at {self.max_length} tokens removes the whole answer and its EOS"
        kept = self.max_length - self.prompt_tokens
        return (f"truncation at {self.max_length} tokens cuts into the answer: {kept} of {self.answer_tokens} answer "
                "tokens kept, EOS lost")

    def as_text(self) -> Text:
        text = Text()
        for piece, trained, eos in self.pieces:
            if eos:
                text.append(f"⟨EOS {piece}⟩", style=EOS_STYLE)
            else:
                text.append(piece, style=TRAINED_STYLE if trained else MASKED_STYLE)
        return text

    def as_json(self) -> dict:
        return {"row": self.row, "task": self.task, "prompt_tokens": self.prompt_tokens,
                "answer_tokens": self.answer_tokens, "total_tokens": self.total, "max_length": self.max_length,
                "truncation": self.truncation,
                "trained_text": "".join(p for p, trained, _ in self.pieces if trained)}


def preview_examples(rows, tokenizer, template: str, chat: bool, max_length: int, n: int = 3) -> list[PreviewedExample]:
    previews = []
    for index, row in enumerate(rows):
        if index >= n:
            break
        prompt = render_prompt(tokenizer, row["note"], row["question"], template, chat)
        example = encode_example(tokenizer, prompt, row["answer"], chat)
        pieces = []
        for position, (token, label) in enumerate(zip(example["input_ids"], example["labels"], strict=True)):
            is_eos = label != -100 and token == tokenizer.eos_token_id and position == len(example["labels"]) - 1
            pieces.append((tokenizer.decode([token]), label != -100, is_eos))
        prompt_tokens = sum(1 for label in example["labels"] if label == -100)
        previews.append(PreviewedExample(index, row.get("task", ""), pieces, prompt_tokens,
                                         len(example["labels"]) - prompt_tokens, max_length))
    return previews


def example_token_length(tokenizer, template: str, chat: bool) -> Callable[[dict], int]:
    """The length of a row's training sequence (prompt + answer + EOS), as training will encode it."""

    def length(row: dict) -> int:
        prompt = render_prompt(tokenizer, row["note"], row["question"], template, chat)
        return len(encode_example(tokenizer, prompt, row["answer"], chat)["input_ids"])

    return length
