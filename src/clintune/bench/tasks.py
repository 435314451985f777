"""The tasks `clintune bench` gives lm-evaluation-harness, all read from local files.

Two small tasks made from generated notes, so both of the harness's paths (log-likelihood and generation) run
offline against `clintune serve`:
- `clintune_note_mc`: a question about a note with four answers, the gold one and three gold answers to other
  questions of the same kind; scored by the log-likelihood of each answer (accuracy).
- `clintune_note_gen`: the same questions answered freely, until a newline (exact match against the gold answer).

And the clinical benchmarks as lm-eval names them, read from the user's own copies (`--data-dir`): for each task a
YAML that includes lm-eval's own task file and only points its splits at DIR/TASK/SPLIT.jsonl (or .json, .parquet,
.csv), so prompts, choices and metrics stay lm-eval's.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from clintune.data.generate import generate_rows
from clintune.errors import ClintuneError

MC_TASK, GEN_TASK = "clintune_note_mc", "clintune_note_gen"
MAX_ANSWER_CHARS = 120  # short options keep the harness's forward passes small

_PROMPT = "Note:\n{{note}}\n\nQuestion: {{question}}\nAnswer:"
_MC_YAML = f"""task: {MC_TASK}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {{data}}
test_split: test
output_type: multiple_choice
doc_to_text: "{_PROMPT.encode("unicode_escape").decode()}"
doc_to_choice: choices
doc_to_target: gold
target_delimiter: " "
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
"""
_GEN_YAML = f"""task: {GEN_TASK}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {{data}}
test_split: test
output_type: generate_until
doc_to_text: "{_PROMPT.encode("unicode_escape").decode()}"
doc_to_target: "{{{{answer}}}}"
target_delimiter: " "
generation_kwargs:
  until: ["\\n"]
  max_gen_toks: 16
  do_sample: false
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: true
"""


def write_note_tasks(folder: Path, n: int = 8, seed: int = 0) -> list[str]:
    """The two tasks' YAML and their `n` documents in `folder` (pass it to lm-eval as --include_path)."""
    rng = random.Random(seed)
    rows = [row for row in generate_rows(20 * n, seed=seed) if len(row["answer"]) <= MAX_ANSWER_CHARS]
    docs = []
    for index, row in enumerate(rows[:n]):
        others = [other["answer"] for other in rows if other is not row and other["task"] == row["task"]
                  and other["answer"] != row["answer"]]
        others += [other["answer"] for other in rows if other is not row and other["answer"] not in others
                   and other["answer"] != row["answer"]]
        choices = rng.sample(others[:12], 3) + [row["answer"]]
        rng.shuffle(choices)
        docs.append({"id": index, "note": row["note"], "question": row["question"], "answer": row["answer"],
                     "choices": choices, "gold": choices.index(row["answer"])})
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "clintune_note_tasks.jsonl"
    data.write_text("".join(json.dumps(doc) + "\n" for doc in docs), encoding="utf-8")
    (folder / f"{MC_TASK}.yaml").write_text(_MC_YAML.replace("{data}", str(data)), encoding="utf-8")
    (folder / f"{GEN_TASK}.yaml").write_text(_GEN_YAML.replace("{data}", str(data)), encoding="utf-8")
    return [MC_TASK, GEN_TASK]


# lm-eval's names. MMLU's clinical subjects are the six the medical LLM literature reports (Med-PaLM, Meditron).
CLINICAL = ["medqa_4options", "medmcqa", "pubmedqa", "mmlu_anatomy", "mmlu_clinical_knowledge",
            "mmlu_college_biology", "mmlu_college_medicine", "mmlu_medical_genetics", "mmlu_professional_medicine"]
KORMEDMCQA = ["kormedmcqa_doctor", "kormedmcqa_nurse", "kormedmcqa_pharm", "kormedmcqa_dentist"]
SHORTCUTS = {"notes": [MC_TASK, GEN_TASK], "clinical": CLINICAL, "kormedmcqa": KORMEDMCQA}
_SPLITS = ("training_split", "validation_split", "test_split", "fewshot_split")
_BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def expand(tasks: list[str]) -> list[str]:
    """Task names with the shortcuts (notes, clinical, kormedmcqa) spelled out, each once."""
    names = [name for task in tasks for name in SHORTCUTS.get(task, [task])]
    return list(dict.fromkeys(names))


def write_local_copies(tasks: list[str], data_dir: Path, folder: Path) -> None:
    """For each lm-eval task, a YAML in `folder` that reads its splits from DATA_DIR/TASK/ instead of the Hub."""
    from lm_eval.tasks import TaskManager

    manager = TaskManager()
    folder.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        yaml_path = getattr(manager.task_index.get(task), "yaml_path", None)
        if task not in manager.all_subtasks or yaml_path is None:
            raise ClintuneError(f"lm-eval has no task named '{task}'", fix="use lm-eval's names, e.g. "
                                f"{', '.join(CLINICAL[:3])}, or the shortcuts {', '.join(SHORTCUTS)}")
        yaml_path = Path(yaml_path)
        config = _task_yaml(yaml_path)
        files = {config[key]: _split_file(data_dir / task, config[key]) for key in _SPLITS if config.get(key)}
        test = config.get("test_split") or config.get("validation_split")
        if files.get(test) is None:
            raise ClintuneError(f"no local copy of {task}'s '{test}' split", where=str(data_dir / task),
                                fix=f"put it at {data_dir / task / test}.jsonl (docs/serve.md says where to get it)")
        builders = {_BUILDERS[path.suffix] for path in files.values() if path is not None}
        if len(builders) > 1:
            raise ClintuneError(f"{task}'s splits mix file types", where=str(data_dir / task),
                                fix="give every split the same format")
        override = {"include": str(yaml_path), "task": task, "dataset_path": builders.pop(), "dataset_name": None,
                    "dataset_kwargs": {"data_files": {split: str(path) for split, path in files.items() if path}}}
        override.update({key: None for key in _SPLITS if config.get(key) and files.get(config[key]) is None})
        (folder / f"{task}.yaml").write_text(json.dumps(override, indent=1), encoding="utf-8")  # JSON is YAML


def _split_file(folder: Path, split: str) -> Path | None:
    found = [folder / f"{split}{suffix}" for suffix in _BUILDERS if (folder / f"{split}{suffix}").is_file()]
    return found[0] if found else None


def _task_yaml(path: Path) -> dict:
    """An lm-eval task file with its includes merged (the file's own keys win); `!function` tags are kept as text,
    since only the split names are read here."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!function", lambda loader, node: loader.construct_scalar(node))
    config = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader) or {}  # noqa: S506 - a SafeLoader
    merged: dict = {}
    includes = config.pop("include", [])
    for include in includes if isinstance(includes, list) else [includes]:
        merged.update(_task_yaml(Path(include) if Path(include).is_absolute() else path.parent / include))
    return {**merged, **config}
