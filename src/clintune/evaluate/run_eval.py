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
from clintune.prompts.templates import render_prompt
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


def evaluate(trained: Trained, rows: list[dict], out_dir: Path, decoding: Decoding, batch_size: int = 8,
             compare_base: bool = False, tokenize: str = "default", judge: Judge | None = None) -> dict:
    """Scores of the model (and the base), written to `out_dir` with every prediction."""
    if compare_base and not trained.has_adapter:
        raise ClintuneError("--compare-base needs an adapter to switch off",
                            fix="evaluate a LoRA run (--run) or give --adapter; for a full model, eval the base apart")
    tokenizer = trained.tokenizer
    prompts = [render_prompt(tokenizer, r["note"], r["question"], trained.template, trained.chat) for r in rows]
    answers, tasks = [r["answer"] for r in rows], [r.get("task") or "all" for r in rows]
    identity = _identity(trained)
    cache = out_dir / "generations.cache.jsonl"
    predictions = {"tuned": generate_answers(trained.model, tokenizer, prompts, chat=trained.chat,
                                             batch_size=batch_size, decoding=decoding, label="tuned model",
                                             cache=GenerationCache(cache, identity, decoding))}
    if compare_base:
        with trained.model.disable_adapter():
            predictions["base"] = generate_answers(trained.model, tokenizer, prompts, chat=trained.chat,
                                                   batch_size=batch_size, decoding=decoding, label="base model",
                                                   cache=GenerationCache(cache, f"{identity}|base", decoding))
    results = {name: score_predictions(preds, answers, tasks, tokenize) for name, preds in predictions.items()}
    metrics = {"model": trained.name, "n": len(rows), "decoding": decoding.__dict__, "tokenize": tokenize,
               **{name: {k: r[k] for k in ("overall", "per_task")} for name, r in results.items()}}
    if compare_base:
        metrics["gain"] = {key: metrics["tuned"]["overall"][key] - metrics["base"]["overall"][key]
                           for key in ("rouge1", "rouge2", "rouge_l", "bleu", "chrf", "token_f1", "exact_match")}
    examples = [{**row, **{f"prediction_{name}": preds[i] for name, preds in predictions.items()},
                 **{f"rouge_l_{name}": results[name]["per_example"][i]["rouge_l"] for name in predictions}}
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
