"""`clintune eval`: generate answers for held-out examples with the template training used, score them, and with
`compare_base` do the same with the adapter switched off (same examples, same decoding), side by side.

Generations are cached in the output folder (evaluate/generate.py), keyed by prompt, model, adapter hash and
decoding, so an interrupted evaluation continues where it stopped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from clintune.errors import ClintuneError
from clintune.evaluate.generate import Decoding, GenerationCache, generate_answers
from clintune.evaluate.judge import Judge
from clintune.evaluate.scores import score_predictions
from clintune.models.load import Trained
from clintune.prompts.techniques import ExamplePicker, Technique, extract_answer, technique_prompt
from clintune.runs import write_json, write_jsonl


def eval_rows(data: Path, split: str, limit: int | None = None) -> list[dict]:
    """Rows with note, question and answer: a prepared data folder's `{split}.jsonl`, or a whole data file."""
    from clintune.data.load import open_dataset

    source = data / f"{split}.jsonl" if data.is_dir() and (data / f"{split}.jsonl").is_file() else data
    rows = open_dataset(source).to_list()
    missing = [c for c in ("note", "question", "answer") if not rows or c not in rows[0]]
    if missing:
        raise ClintuneError(f"the evaluation data has no {', '.join(missing)}", where=str(source),
                            fix="evaluate on question-answer rows (a run's data/ folder, or an Asclepius file)")
    return rows[:limit] if limit else rows


def _identity(trained: Trained) -> str:
    digest = ""
    if trained.adapter:
        weights = Path(trained.adapter) / "adapter_model.safetensors"
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:16] if weights.is_file() else trained.adapter
    return f"{trained.base_name}|adapter={digest}"


def consensus(answers: list[str]) -> str:
    """Self-consistency's pick: the answer given most often (SQuAD-normalised), else the medoid by token F1."""
    from collections import Counter

    from clintune.evaluate.metrics import normalize_answer, token_f1

    normalised = [normalize_answer(a) for a in answers]
    ((top, count),) = Counter(normalised).most_common(1)
    if count > 1:
        return answers[normalised.index(top)]
    return max(answers, key=lambda a: sum(token_f1(a, other) for other in answers))


def technique_prompts(trained: Trained, rows: list[dict], technique: Technique, train_rows: list[dict]) -> list[str]:
    picker = None
    if technique.name in ("few-shot", "retrieved-few-shot"):
        picker = ExamplePicker(train_rows, technique.name == "retrieved-few-shot", technique.k, technique.seed)
    return [technique_prompt(trained.tokenizer, row, trained.template, trained.chat, technique,
                             picker.pick(row) if picker else ()) for row in rows]


def answer_all(trained: Trained, prompts: list[str], decoding: Decoding, technique: Technique, cache_path: Path,
               identity: str, batch_size: int, label: str) -> list[str]:
    """Final answers under the technique: one pass, or k sampled passes voted on (self-consistency)."""
    def one_pass(pass_decoding: Decoding, pass_label: str) -> list[str]:
        cache = GenerationCache(cache_path, identity, pass_decoding)
        return generate_answers(trained.model, trained.tokenizer, prompts, chat=trained.chat, batch_size=batch_size,
                                decoding=pass_decoding, label=pass_label, cache=cache)

    if technique.name != "self-consistency":
        answers = one_pass(decoding, label)
        return [extract_answer(a) for a in answers] if technique.reasons else answers
    passes = [[extract_answer(a) for a in one_pass(
        Decoding(decoding.max_new_tokens, 1, True, 0.7, 0.95, decoding.stop, technique.seed + i),
        f"{label} (sample {i + 1}/{technique.k})")] for i in range(technique.k)]
    return [consensus([p[row] for p in passes]) for row in range(len(prompts))]


def evaluate(trained: Trained, rows: list[dict], out_dir: Path, decoding: Decoding, batch_size: int = 8,
             compare_base: bool = False, tokenize: str = "default", judge: Judge | None = None,
             technique: Technique | None = None, train_rows: list[dict] | None = None,
             base: Trained | None = None) -> dict:
    """Scores of the model (and the base), written to `out_dir` with every prediction. With `compare_base`, the base
    is the trained model with its adapter switched off, or `base` (a fully fine-tuned model's starting point)."""
    if compare_base and not trained.has_adapter and base is None:
        raise ClintuneError("--compare-base needs an adapter to switch off",
                            fix="evaluate a LoRA run (--run) or give --adapter; for a full model, eval the base apart")
    technique = technique or Technique()
    prompts = technique_prompts(trained, rows, technique, train_rows or [])
    answers, tasks = [r["answer"] for r in rows], [r.get("task") or "all" for r in rows]
    identity = _identity(trained)
    cache = out_dir / "generations.cache.jsonl"
    predictions = {"tuned": answer_all(trained, prompts, decoding, technique, cache, identity, batch_size,
                                       "tuned model")}
    if compare_base and base is not None:
        predictions["base"] = answer_all(base, prompts, decoding, technique, cache, f"{_identity(base)}|base",
                                         batch_size, "base model")
    elif compare_base:
        with trained.model.disable_adapter():
            predictions["base"] = answer_all(trained, prompts, decoding, technique, cache, f"{identity}|base",
                                             batch_size, "base model")
    notes, questions = [r["note"] for r in rows], [r["question"] for r in rows]
    results = {name: score_predictions(preds, answers, tasks, tokenize, notes=notes, questions=questions)
               for name, preds in predictions.items()}
    metrics = {"model": trained.name, "n": len(rows), "decoding": decoding.__dict__, "tokenize": tokenize,
               "template": trained.template, "chat": trained.chat, "technique": technique.__dict__,
               **{name: {k: r[k] for k in ("overall", "per_task")} for name, r in results.items()}}
    if compare_base:
        metrics["gain"] = {key: metrics["tuned"]["overall"][key] - metrics["base"]["overall"][key]
                           for key in ("rouge1", "rouge2", "rouge_l", "bleu", "chrf", "token_f1", "exact_match",
                                       "ungrounded_share") if metrics["tuned"]["overall"][key] is not None}
    examples = [{**row, **{f"prediction_{name}": preds[i] for name, preds in predictions.items()},
                 **{f"rouge_l_{name}": results[name]["per_example"][i]["rouge_l"] for name in predictions},
                 **{f"unsupported_{name}": results[name]["per_example"][i]["unsupported"] for name in predictions}}
                for i, row in enumerate(rows)]
    if judge is not None:
        candidates = list(predictions)
        judged = [{"note": r["note"], "question": r["question"], **{c: predictions[c][i] for c in candidates}}
                  for i, r in enumerate(rows)]
        pointwise = judge.pointwise(judged, candidates)
        metrics["judge"] = {"model": judge.client.model, "seed": pointwise["seed"], "scores": pointwise["scores"],
                            "missing": pointwise["missing"]}
        if len(candidates) == 2:
            pairwise = judge.pairwise(judged, "tuned", "base")
            metrics["judge"]["pairwise"] = {k: pairwise[k] for k in ("wins", "ties", "missing")}
        for example, verdict in zip(examples, pointwise["examples"], strict=True):
            example["judge"] = verdict
    write_jsonl(out_dir / "predictions.jsonl", examples)
    write_json(out_dir / "metrics.json", metrics)
    return metrics


def compare_techniques(trained: Trained, rows: list[dict], techniques: list[Technique], out_dir: Path,
                       decoding: Decoding, batch_size: int, train_rows: list[dict]) -> dict:
    """Each technique on the same model and examples: {technique: {overall, per_task}}, predictions per technique
    in out_dir/<technique>/ and the whole comparison in out_dir/comparison.json."""
    results = {}
    for technique in techniques:
        metrics = evaluate(trained, rows, out_dir / technique.name, decoding, batch_size, technique=technique,
                           train_rows=train_rows)
        results[technique.name] = {"overall": metrics["tuned"]["overall"], "per_task": metrics["tuned"]["per_task"]}
    write_json(out_dir / "comparison.json", results)
    return results
