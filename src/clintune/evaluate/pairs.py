"""`clintune pairs --run RUN --out pairs.jsonl`: preference pairs from what the SFT model answers.

training questions (RUN/data/train.jsonl) -> k sampled answers each from the run's model (seeded; the generation
cache makes an interrupted run resume) -> scored one of two ways:
- offline (`gold`): each answer against the gold answer (token F1) and against its note (the grounding check: what
  the answer asserts that the note does not hold); a pair per question: the gold answer chosen, the worst sampled
  answer rejected when it is ungrounded or wrong; KTO rows: every answer that is clearly good or clearly bad, and
  the gold answers as good;
- by the Asclepius judge (`judge`): all k answers graded 1-4 in one prompt (evaluate/judge.py); the best and the worst
  make a pair when their grades differ by at least `min_gap` and the pairwise judge prefers the best one in both
  orders (so a judge that favours a position makes no pair); KTO rows: answers graded 3-4 good, 1-2 bad.
Every row says how it was made (method, run, seed, sample, scores, judge model), so a data card can say so.
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
from clintune.evaluate.judge import Judge
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
    judged: dict | None = None  # with the judge: questions graded, too close to call, order-dependent, unreadable

    def judge_summary(self) -> str:
        return judge_summary(self.judged or {})


def judge_summary(counts: dict) -> str:
    """Why the judge's questions made pairs or not, in words."""
    words = {"not_confirmed": "not confirmed in both orders", "too_close": "graded too close",
             "unreadable": "with unreadable replies", "reversed": "reversed by the pairwise judge"}
    said = ", ".join(f"{counts[key]} {text}" for key, text in words.items() if counts.get(key)) or "all confirmed"
    if counts.get("failed_requests"):
        said += f"; {counts['failed_requests']} requests to the judge failed, the first: {counts['first_failure']}"
    return said


def build_pairs(run_dir: Path, out: Path, samples: int = 4, questions: int | None = None, temperature: float = 1.0,
                max_new_tokens: int = 96, seed: int = 0, batch_size: int = 8, kto_out: Path | None = None,
                judge: Judge | None = None, min_gap: int = 1, say: Callable[[str], None] = print) -> PairsMade:
    if samples < 1 or (judge is not None and samples < 2):
        raise ClintuneError(f"--samples must be at least {2 if judge else 1}" + (" to compare answers with the judge"
                            if judge else ""), fix="sample 2 to 8 answers per question")
    rows = _training_rows(run_dir)[:questions]
    trained = load_trained(run_dir, None, None)
    sampled = Sampled(samples, temperature, max_new_tokens, seed, batch_size)
    prompts, answers = sample_answers(trained.model, trained.tokenizer, rows, trained.template, trained.chat, sampled,
                                      run_dir / "pairs-cache.jsonl", f"{run_dir.resolve()}:pairs")
    made = {"run": str(run_dir), "seed": seed, "temperature": temperature, "samples": samples}
    if judge is None:
        pairs, kto, ungrounded, wrong = gold_pairs(rows, prompts, answers, made)
        judged = None
    else:
        say(f"asking the judge {judge.client.model} to grade {samples} answers to each of {len(rows)} questions")
        pairs, kto, judged = judged_pairs(rows, prompts, answers, judge, made, min_gap)
        ungrounded = wrong = 0
    if not pairs:
        why = (f"none of the {samples} sampled answers to any of {len(rows)} questions was ungrounded or wrong"
               if judge is None else f"the judge separated no two answers to any of {len(rows)} questions "
               f"({judge_summary(judged)})")
        raise ClintuneError(f"{why}, so no pair could be made", fix="sample more (--samples) or at a higher "
                            "--temperature" + ("" if judge is None else ", or use a stronger judge"))
    write_jsonl(out, pairs)
    if kto_out is not None:
        write_jsonl(kto_out, kto)
    say(f"{len(pairs)} pairs from {len(rows)} questions" + (f" ({ungrounded} rejected answers ungrounded, {wrong} "
                                                            "wrong)" if judge is None
                                                            else f" (judge: {judge_summary(judged)})"))
    return PairsMade(out, kto_out, len(rows), len(pairs), len(kto) if kto_out else 0, ungrounded, wrong, judged)


@dataclass(frozen=True)
class Sampled:
    samples: int = 4
    temperature: float = 1.0
    max_new_tokens: int = 96
    seed: int = 0
    batch_size: int = 8


def pairs_for(model, tokenizer, rows: list[dict], template: str, chat: bool, sampled: Sampled, cache_path: Path,
              model_id: str, source: str) -> tuple[list[dict], list[dict], int, int]:
    """Offline: (pairs, KTO rows, rejected answers that were ungrounded, rejected answers that were wrong) for `rows`,
    from `sampled.samples` answers of `model` to each; `model_id` keys the generation cache."""
    prompts, answers = sample_answers(model, tokenizer, rows, template, chat, sampled, cache_path, model_id)
    return gold_pairs(rows, prompts, answers, {"run": source, "seed": sampled.seed,
                                               "temperature": sampled.temperature, "samples": sampled.samples})


def sample_answers(model, tokenizer, rows: list[dict], template: str, chat: bool, sampled: Sampled,
                   cache_path: Path, model_id: str) -> tuple[list[str], list[list[str]]]:
    """(each row's rendered prompt, answers[sample][row]): sample `s` drawn with seed `seed + 1000 s`."""
    prompts = [render_prompt(tokenizer, row["note"], row["question"], template, chat) for row in rows]
    answers = []
    for sample in range(sampled.samples):
        decoding = Decoding(max_new_tokens=sampled.max_new_tokens, do_sample=True, temperature=sampled.temperature,
                            seed=sampled.seed + 1000 * sample)
        cache = GenerationCache(cache_path, model_id, decoding)
        answers.append(generate_answers(model, tokenizer, prompts, chat=chat, batch_size=sampled.batch_size,
                                        decoding=decoding, cache=cache,
                                        label=f"sampling answer {sample + 1} of {sampled.samples}"))
    return prompts, answers


def gold_pairs(rows: list[dict], prompts: list[str], answers: list[list[str]], made: dict
               ) -> tuple[list[dict], list[dict], int, int]:
    pairs, kto, ungrounded, wrong = [], [], 0, 0
    made = {"method": "gold", **made}
    for index, (row, prompt) in enumerate(zip(rows, prompts, strict=True)):
        scored = [_score(answers[sample][index], row, sample) for sample in range(len(answers))]
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


def judged_pairs(rows: list[dict], prompts: list[str], answers: list[list[str]], judge: Judge, made: dict,
                 min_gap: int = 1) -> tuple[list[dict], list[dict], dict]:
    """Pairs and KTO rows from the judge's grades; the counts say why questions made no pair."""
    candidates = [f"sample {s}" for s in range(len(answers))]
    examples = [{"note": row["note"], "question": row["question"],
                 **{c: answers[s][index] for s, c in enumerate(candidates)}} for index, row in enumerate(rows)]
    graded = judge.pointwise(examples, candidates)["examples"]
    made = {"method": "judge", "judge_model": judge.client.model, "judge_seed": judge.seed, **made}
    kto, contests = [], []
    counts = {"questions": len(rows), "unreadable": 0, "too_close": 0, "not_confirmed": 0, "reversed": 0}
    for index, grades in enumerate(graded):
        scores = grades["scores"]
        if None in scores.values():
            counts["unreadable"] += 1
            continue
        for s, c in enumerate(candidates):  # the rubric's 3 and 4 are good answers, 1 and 2 bad ones
            kto.append({"prompt": prompts[index], "completion": answers[s][index], "label": scores[c] >= 3,
                        "made_by": {**made, "completion_sample": s, "score": scores[c]}})
        best = max(candidates, key=lambda c: scores[c])
        worst = min(candidates, key=lambda c: scores[c])
        if scores[best] - scores[worst] < min_gap or answers[candidates.index(best)][index].strip() == \
                answers[candidates.index(worst)][index].strip():
            counts["too_close"] += 1
            continue
        contests.append((index, best, worst))
    checked = judge.pairwise([{"note": rows[i]["note"], "question": rows[i]["question"], "best": examples[i][b],
                               "worst": examples[i][w]} for i, b, w in contests], "best", "worst")["examples"]
    pairs = []
    for (index, best, worst), verdict in zip(contests, checked, strict=True):
        if verdict["winner"] is None:
            counts["unreadable"] += 1
        elif verdict["winner"] == "tie":  # a tie, or a verdict that followed the position instead of the answer
            counts["not_confirmed"] += 1
        elif verdict["winner"] == "worst":  # preferred the lower-graded answer in both orders
            counts["reversed"] += 1
        else:
            row, scores = rows[index], graded[index]["scores"]
            pairs.append({"prompt": prompts[index], "chosen": examples[index][best], "rejected": examples[index][worst],
                          "note": row["note"], "question": row["question"], "task": row.get("task", ""),
                          "made_by": {**made, "chosen_sample": candidates.index(best),
                                      "rejected_sample": candidates.index(worst),
                                      "scores": [scores[c] for c in candidates],
                                      "pairwise": [verdict["forward"], verdict["backward"]]}})
    counts["pairs"] = len(pairs)
    if judge.failures:
        counts["failed_requests"], counts["first_failure"] = len(judge.failures), judge.failures[0]
    return pairs, kto, counts


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
