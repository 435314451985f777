"""`clintune pairs --run RUN --out pairs.jsonl`: preference pairs from what the SFT model answers, offline.

training questions (RUN/data/train.jsonl) -> k sampled answers each from the run's model (seeded; the generation
cache makes an interrupted run resume) -> each answer scored against the gold answer (token F1) and against its note
(the grounding check: what the answer asserts that the note does not hold) -> a pair per question: the gold answer
chosen, the worst sampled answer rejected when it is ungrounded or wrong -> KTO rows: every answer that is clearly
good or clearly bad, labelled, with the gold answers as good. Every row says how it was made (method, run, seed,
sample, scores), so a data card can say so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clintune.errors import ClintuneError
from clintune.evaluate.decoding import Decoding
from clintune.evaluate.generate import GenerationCache, generate_answers
from clintune.evaluate.grounding import unsupported_spans
from clintune.evaluate.metrics import token_f1
from clintune.models.load import load_trained
from clintune.prompts.templates import render_prompt
from clintune.runs import write_jsonl

WRONG_F1 = 0.3  # an answer sharing under 30% of its tokens with the gold answer is counted wrong
GOOD_F1 = 0.6  # a grounded answer sharing at least 60% is good enough to be a KTO "good" example


@dataclass
class PairsMade:
    pairs: Path
    kto: Path | None
    questions: int
    pairs_kept: int
    kto_rows: int
    rejected_ungrounded: int  # pairs whose rejected answer asserts something the note does not hold
    rejected_wrong: int  # pairs whose rejected answer is grounded but wrong (token F1 under WRONG_F1)


def build_pairs(run_dir: Path, out: Path, samples: int = 4, questions: int | None = None, temperature: float = 1.0,
                max_new_tokens: int = 96, seed: int = 0, batch_size: int = 8, kto_out: Path | None = None,
                say: Callable[[str], None] = print) -> PairsMade:
    if samples < 1:
        raise ClintuneError("--samples must be at least 1", fix="sample 2 to 8 answers per question")
    rows = _training_rows(run_dir)[:questions]
    trained = load_trained(run_dir, None, None)
    made = pairs_for(trained.model, trained.tokenizer, rows, trained.template, trained.chat,
                     Sampled(samples, temperature, max_new_tokens, seed, batch_size),
                     run_dir / "pairs-cache.jsonl", f"{run_dir.resolve()}:pairs", str(run_dir))
    pairs, kto, ungrounded, wrong = made
    if not pairs:
        raise ClintuneError(f"none of the {samples} sampled answers to any of {len(rows)} questions was ungrounded or "
                            "wrong, so no pair could be made", fix="sample more (--samples) or at a higher "
                            "--temperature")
    write_jsonl(out, pairs)
    if kto_out is not None:
        write_jsonl(kto_out, kto)
    say(f"{len(pairs)} pairs from {len(rows)} questions ({ungrounded} rejected answers ungrounded, {wrong} wrong)")
    return PairsMade(out, kto_out, len(rows), len(pairs), len(kto) if kto_out else 0, ungrounded, wrong)


@dataclass(frozen=True)
class Sampled:
    samples: int = 4
    temperature: float = 1.0
    max_new_tokens: int = 96
    seed: int = 0
    batch_size: int = 8


def pairs_for(model, tokenizer, rows: list[dict], template: str, chat: bool, sampled: Sampled, cache_path: Path,
              model_id: str, source: str) -> tuple[list[dict], list[dict], int, int]:
    """(pairs, KTO rows, rejected answers that were ungrounded, rejected answers that were wrong) for `rows`, from
    `sampled.samples` answers of `model` to each; `model_id` keys the generation cache."""
    prompts = [render_prompt(tokenizer, row["note"], row["question"], template, chat) for row in rows]
    answers = []
    for sample in range(sampled.samples):
        decoding = Decoding(max_new_tokens=sampled.max_new_tokens, do_sample=True, temperature=sampled.temperature,
                            seed=sampled.seed + 1000 * sample)
        cache = GenerationCache(cache_path, model_id, decoding)
        answers.append(generate_answers(model, tokenizer, prompts, chat=chat, batch_size=sampled.batch_size,
                                        decoding=decoding, cache=cache,
                                        label=f"sampling answer {sample + 1} of {sampled.samples}"))
    pairs, kto, ungrounded, wrong = [], [], 0, 0
    made = {"method": "gold", "run": source, "seed": sampled.seed, "temperature": sampled.temperature,
            "samples": sampled.samples}
    for index, (row, prompt) in enumerate(zip(rows, prompts, strict=True)):
        scored = [_score(answers[sample][index], row, sample) for sample in range(sampled.samples)]
        bad = [s for s in scored if s["unsupported"] or s["f1"] < WRONG_F1]
        if bad:
            worst = min(bad, key=lambda s: (not s["unsupported"], s["f1"]))
            ungrounded += bool(worst["unsupported"])
            wrong += not worst["unsupported"]
            pairs.append({"prompt": prompt, "chosen": row["answer"], "rejected": worst["answer"],
                          "note": row["note"], "question": row["question"], "task": row.get("task", ""),
                          "made_by": {**made, "chosen": "gold", "rejected_sample": worst["sample"],
                                      "rejected_f1": worst["f1"], "rejected_unsupported": worst["unsupported"]}})
        kto.append({"prompt": prompt, "completion": row["answer"], "label": True,
                    "made_by": {**made, "completion": "gold"}})
        for s in scored:
            good = not s["unsupported"] and s["f1"] >= GOOD_F1
            if good or s in bad:
                kto.append({"prompt": prompt, "completion": s["answer"], "label": good,
                            "made_by": {**made, "completion_sample": s["sample"], "f1": s["f1"],
                                        "unsupported": s["unsupported"]}})
    return pairs, kto, ungrounded, wrong


def _training_rows(run_dir: Path) -> list[dict]:
    path = run_dir / "data" / "train.jsonl"
    if not (run_dir / "config.yaml").is_file() or not path.is_file():
        raise ClintuneError("not a finished clintune run (no config.yaml or data/train.jsonl)", where=str(run_dir),
                            fix="pass the folder an SFT training run wrote")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [row for row in rows if row.get("question") and row.get("answer")]
    if not rows:
        raise ClintuneError("the run's training data holds no questions with answers", where=str(path),
                            fix="make pairs from a run trained with an sft stage")
    return rows


def _score(answer: str, row: dict, sample: int) -> dict:
    spans = unsupported_spans(answer, row["note"], row["question"])
    return {"answer": answer, "sample": sample, "f1": round(token_f1(answer, row["answer"]), 4),
            "unsupported": len(spans)}
