"""Evaluation from Python: answer held-out questions, score them, compare with the base, judge, report.

    from clintune import api
    metrics = api.evaluate(run=run_dir, compare_base=True)   # `clintune eval --run RUN --compare-base`
    metrics["gain"]["rouge_l"], metrics["tuned"]["overall"]["ci95"]["rouge_l"]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from clintune.errors import ClintuneError
from clintune.evaluate.decoding import Decoding
from clintune.prompts.techniques import Technique

FEW_SHOT = ("few-shot", "retrieved-few-shot")


def evaluate(run: Path | None = None, model: str | None = None, adapter: str | None = None,
             data: Path | None = None, split: str = "test", compare_base: bool = False, template: str | None = None,
             chat: bool | None = None, technique: str = "zero-shot", k: int = 3, train_data: Path | None = None,
             decoding: Decoding | None = None, batch_size: int = 8, limit: int | None = None,
             tokenize: str = "default", out: Path | None = None, judge: JudgeSettings | None = None) -> dict:
    """Evaluate a run (or a model with an optional adapter) on held-out question-answer rows: metrics overall and per
    task with 95% intervals, every prediction in OUT/predictions.jsonl and the metrics in OUT/metrics.json.

    `data` is a data file or a prepared folder (default: the run's data/); `out` defaults to RUN/eval. The template
    and chat setting default to the run's own. `compare_base` answers the same rows with the adapter switched off
    (same decoding; a fully fine-tuned run is compared with a fresh copy of its starting model); `judge` adds the
    Asclepius 4-point scores. Rerunning with the same `out` reuses the generations already made."""
    from clintune.evaluate.metrics import rouge_tokenizer
    from clintune.evaluate.run_eval import evaluate as run_evaluation
    from clintune.models.load import load_trained
    from clintune.runs import staged_folder, timestamped

    rouge_tokenizer(tokenize)  # a bad name fails before any model loads
    run = Path(run) if run is not None else None
    if compare_base and run is None and adapter is None:
        raise ClintuneError("--compare-base needs an adapter to switch off",
                            fix="evaluate a LoRA run (--run) or give --adapter")
    rows, data = _rows(run, data, split, limit)
    chosen = Technique(technique, k)
    train_rows = _train_rows(chosen, train_data, data)
    out = Path(out) if out is not None else run / "eval" if run else timestamped("eval")
    # Results appear in `out` only when complete; generations and judge replies cached on the way survive a failure
    # (in .NAME.partial beside it), so a rerun asks only what is missing.
    with staged_folder(out, replaces=("metrics.json",), keep="**/*.cache.jsonl") as work:
        opened_judge = judge.open(work) if judge else None  # a missing key fails before any model loads
        trained = load_trained(run, model, adapter, keep_adapter=compare_base)
        if template is not None:
            from clintune.prompts.templates import check_template_length

            check_template_length(trained.tokenizer, template)
            trained.template = template
        if chat is not None or trained.template == "chat":
            trained.chat = True if trained.template == "chat" else chat
        base = _starting_point(run, trained) if compare_base and not trained.has_adapter else None
        metrics = run_evaluation(trained, rows, work, decoding or Decoding(), batch_size, compare_base, tokenize,
                                 opened_judge, chosen, train_rows, base)
    return metrics | {"out": str(out)}


@dataclass
class JudgeSettings:
    """The Asclepius judge on an OpenAI-compatible server (GPT-4o, vLLM, Ollama, `clintune serve`). The API key is
    read from the environment variable `api_key_env` when the judge opens, and is never printed or stored."""

    url: str
    model: str
    api_key_env: str | None = None
    max_tokens: int = 512
    seed: int = 0

    def open(self, out: Path):
        """A Judge whose replies are cached in OUT/judge.cache.jsonl, so a rerun asks only what is missing."""
        from clintune.evaluate.judge import Judge
        from clintune.openai_client import ChatClient

        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if self.api_key_env and not key:
            raise ClintuneError(f"--judge-key-env {self.api_key_env}: that environment variable is empty or unset",
                                fix=f"export {self.api_key_env}=<the judge's key>")
        return Judge(ChatClient(self.url, self.model, key), seed=self.seed, cache_path=Path(out) / "judge.cache.jsonl",
                     max_tokens=self.max_tokens)


def compare_prompts(run: Path | None = None, model: str | None = None, adapter: str | None = None,
                    data: Path | None = None, split: str = "test",
                    techniques: tuple[str, ...] = ("zero-shot", "few-shot", "retrieved-few-shot", "cot",
                                                   "self-consistency"),
                    k: int = 3, train_data: Path | None = None, template: str | None = None,
                    decoding: Decoding | None = None, batch_size: int = 8, limit: int | None = None,
                    out: Path | None = None) -> tuple[dict, dict]:
    """Each prompt technique on the same model and rows: ({technique: {overall, per_task}}, facts about the run:
    model name, rows, template, output folder)."""
    from clintune.evaluate.run_eval import compare_techniques
    from clintune.models.load import load_trained
    from clintune.runs import staged_folder, timestamped

    run = Path(run) if run is not None else None
    chosen = [Technique(name, k) for name in techniques]
    rows, data = _rows(run, data, split, limit)
    needs_train = [t for t in chosen if t.name in FEW_SHOT]
    train_rows = _train_rows(needs_train[0], train_data, data) if needs_train else []
    out = Path(out) if out is not None else timestamped("prompt-compare")
    with staged_folder(out, replaces=("comparison.json",), keep="**/*.cache.jsonl") as work:
        trained = load_trained(run, model, adapter)
        if template:
            trained.template = template
            trained.chat = trained.chat or template == "chat"
        results = compare_techniques(trained, rows, chosen, work, decoding or Decoding(), batch_size, train_rows)
    return results, {"model": trained.name, "n": len(rows), "template": trained.template, "out": str(out)}


def score(predictions: list[str], answers: list[str], tasks: list[str] | None = None,
          notes: list[str] | None = None, questions: list[str] | None = None, tokenize: str = "default",
          bootstrap: int = 1000, bertscore: str | None = None) -> dict:
    """Score predictions made anywhere with the metrics of `evaluate`: {overall, per_task, per_example, ...}.
    With `notes` (and `questions`), grounding too: each answer's unsupported spans and, per block, the share of
    answers with any and the spans per answer. `bertscore` is a local encoder folder for BERTScore F1 (the optional
    bert-score package)."""
    from clintune.evaluate.scores import bertscore_f1, score_predictions

    tasks = tasks or ["all"] * len(predictions)
    bert = bertscore_f1(predictions, answers, bertscore) if bertscore else None
    result = score_predictions(predictions, answers, tasks, tokenize=tokenize, bootstrap=max(bootstrap, 1),
                               notes=notes, questions=questions)
    if bert is not None:
        result["overall"]["bertscore_f1"] = sum(bert) / len(bert)
        for task, block in result["per_task"].items():
            values = [b for b, t in zip(bert, tasks, strict=True) if t == task]
            block["bertscore_f1"] = sum(values) / len(values)
    return result


def score_file(path: Path, tokenize: str = "default", bootstrap: int = 1000, bertscore: str | None = None) -> dict:
    """`score` on a JSONL file of {prediction, answer, task?, note?, question?} lines (`clintune score --predictions
    FILE`); grounding is scored when every line has its note."""
    from clintune.evaluate.scores import read_predictions

    return score(*read_predictions(Path(path)), tokenize=tokenize, bootstrap=bootstrap, bertscore=bertscore)


def report(run: Path) -> tuple[Path, Path]:
    """RUN/report.md and RUN/report.html (one file, charts embedded): data card, loss, memory plan, metrics base vs
    tuned with intervals, judge scores, and the examples the tuning helped and hurt most."""
    from clintune.evaluate.report import build_report

    return build_report(Path(run))


def comparison_rows(metrics: dict) -> list[tuple[str, int, float, float, float, float]]:
    """(scope, n, ROUGE-L base, ROUGE-L tuned, token F1 base, token F1 tuned): overall first, then each task."""
    from clintune.evaluate.report import comparison_rows as rows

    return rows(metrics)


def _rows(run: Path | None, data: Path | None, split: str, limit: int | None) -> tuple[list[dict], Path]:
    from clintune.evaluate.run_eval import eval_rows

    data = Path(data) if data is not None else (run / "data" if run else None)
    if data is None:
        raise ClintuneError("no evaluation data", fix="give --data PATH (or --run, whose data/ is used)")
    return eval_rows(data, split, limit), data


def _train_rows(technique: Technique, train_data: Path | None, data: Path) -> list[dict]:
    if technique.name not in FEW_SHOT:
        return []
    from clintune.evaluate.run_eval import eval_rows

    source = train_data or (data if data.is_dir() else None)
    if source is None:
        raise ClintuneError(f"--technique {technique.name} needs training examples",
                            fix="give --train-data PATH, or evaluate a prepared folder (a run's data/)")
    return eval_rows(source, "train")


def _starting_point(run: Path, trained):
    """A fully fine-tuned run's base: a fresh copy of the model it started from, with the run's prompt settings."""
    from clintune.config import load_config
    from clintune.models.load import load_trained

    config = load_config(run / "config.yaml")
    base = load_trained(None, config.model.name, None, trust_remote_code=config.model.trust_remote_code)
    base.template, base.chat = trained.template, trained.chat
    return base


def pairs(run: Path, out: Path, samples: int = 4, questions: int | None = None, temperature: float = 1.0,
          max_new_tokens: int = 96, seed: int = 0, kto_out: Path | None = None, judge: JudgeSettings | None = None,
          min_gap: int = 1, say=print):
    """Preference pairs from an SFT run: `samples` answers per training question (the first `questions`), sampled at
    `temperature` with `seed`. Offline (no `judge`), each is scored against the gold answer (token F1) and its note
    (grounding); the gold answer is chosen and the worst ungrounded or wrong answer rejected. With `judge`, the
    Asclepius judge grades them; the best and worst make a pair when their grades differ by `min_gap` or more and the
    pairwise judge agrees in both orders (replies cached in RUN/pairs-judge/). `kto_out` also writes KTO rows (each
    clearly good or bad answer, labelled). Returns counts; every row records how it was made."""
    from clintune.evaluate.pairs import build_pairs

    opened = judge.open(Path(run) / "pairs-judge") if judge else None  # a missing key fails before the model loads
    return build_pairs(Path(run), Path(out), samples, questions, temperature, max_new_tokens, seed,
                       kto_out=Path(kto_out) if kto_out else None, judge=opened, min_gap=min_gap, say=say)
