"""Two small lm-evaluation-harness tasks made from generated notes, so both of the harness's paths (log-likelihood
and generation) can run offline against `clintune serve`: the tasks read local JSON files, nothing from the Hub.

- `clintune_note_mc`: a question about a note with four answers, the gold one and three gold answers to other
  questions of the same kind; scored by the log-likelihood of each answer (accuracy).
- `clintune_note_gen`: the same questions answered freely, until a newline (exact match against the gold answer).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from clintune.data.generate import generate_rows

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
