"""Prompt-engineering techniques, as prompts (and, for chain-of-thought, as answer extraction):

- zero-shot: the template alone;
- few-shot: k random training examples first, each as the template filled in and its answer;
- retrieved few-shot: the k training examples nearest to this note and question by BM25 (rank-bm25);
- cot: the question asks for step-by-step reasoning and a last line "Answer: ..."; the answer is read from it;
- self-consistency: the cot prompt sampled k times; the answer given most often wins (evaluate/run_eval.py), and
  when no answer repeats, the medoid.

With a chat template the examples are earlier user/assistant turns; in raw mode they are earlier blocks of text.
Their gains vary by model, which is why `clintune prompt compare` measures them on the user's own data.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from clintune.errors import ClintuneError
from clintune.prompts.templates import CHAT_SYSTEM, fill_template

TECHNIQUES = ("zero-shot", "few-shot", "retrieved-few-shot", "cot", "self-consistency")
COT_SUFFIX = ("\nThink it through step by step from the note, then give the final answer on a last line that starts "
              "with 'Answer:'.")
_ANSWER_LINE = re.compile(r"^\s*(?:final\s+)?answer\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_TOKEN = re.compile(r"\w+")


@dataclass
class Technique:
    name: str = "zero-shot"
    k: int = 3  # examples for few-shot, samples for self-consistency
    seed: int = 0

    def __post_init__(self):
        if self.name not in TECHNIQUES:
            raise ClintuneError(f"unknown technique '{self.name}'", fix=f"choose one of {', '.join(TECHNIQUES)}")

    @property
    def reasons(self) -> bool:
        return self.name in ("cot", "self-consistency")


class ExamplePicker:
    """The demonstrations for a few-shot prompt: random (seeded per question) or nearest by BM25."""

    def __init__(self, train_rows: list[dict], retrieve: bool, k: int, seed: int = 0):
        if len(train_rows) < k:
            raise ClintuneError(f"few-shot with k={k} needs at least {k} training examples, got {len(train_rows)}",
                                fix="lower --k or give more training rows")
        self.rows, self.k, self.seed, self.index = train_rows, k, seed, None
        if retrieve:
            from rank_bm25 import BM25Okapi

            self.index = BM25Okapi([_tokens(f"{r['note']} {r['question']}") for r in train_rows])

    def pick(self, row: dict) -> list[dict]:
        if self.index is None:
            return random.Random(f"{self.seed}:{row['question']}").sample(self.rows, self.k)
        scores = self.index.get_scores(_tokens(f"{row['note']} {row['question']}"))
        best = sorted(range(len(self.rows)), key=lambda i: -scores[i])[: self.k]
        return [self.rows[i] for i in best]


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def technique_prompt(tokenizer, row: dict, template: str, chat: bool, technique: Technique,
                     examples: list[dict] = ()) -> str:
    """The full prompt text for `row` under `technique`, with `examples` as demonstrations (few-shot)."""
    question = row["question"] + (COT_SUFFIX if technique.reasons else "")
    turns = [(fill_template(template, e["note"], e["question"]), e["answer"]) for e in examples]
    final = fill_template(template, row["note"], question)
    if not chat and template != "chat":
        return "".join(f"{prompt}{answer}\n\n" for prompt, answer in turns) + final
    if not getattr(tokenizer, "chat_template", None):
        raise ClintuneError("this prompt needs a chat template but the tokenizer has none",
                            fix="use --no-chat with a raw template, or an instruct model")
    messages = [{"role": "system", "content": CHAT_SYSTEM}] if template == "chat" else []
    for prompt, answer in turns:
        messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
    messages.append({"role": "user", "content": final})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def extract_answer(text: str) -> str:
    """The final answer of a reasoned reply: its last "Answer: ..." line, else the whole reply."""
    found = _ANSWER_LINE.findall(text)
    return found[-1].strip() if found else text.strip()
