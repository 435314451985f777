"""Sampling stratified by task, and train/validation/test splits grouped by patient, deterministic for a seed.

A patient's rows always land on one side, so no note is seen in training and in testing. A patient belongs to the
task of their first row.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict

from datasets import Dataset

from clintune.errors import ClintuneError


def sample_by_task(dataset: Dataset, n: int, seed: int = 0) -> Dataset:
    """`n` rows whose task mix matches the dataset's (largest-remainder allocation), in file order. A patient's rows
    of one task are taken together (the generator's twin notes: the same question of a note with and without its
    answer), so a task may come one or two rows short of its share where only a group would overshoot it."""
    if n >= len(dataset):
        return dataset
    rows_by_task: dict[str, list[int]] = defaultdict(list)
    groups: dict[tuple[str, object], list[int]] = defaultdict(list)
    groups_by_task: dict[str, list[tuple[str, object]]] = defaultdict(list)
    patients = dataset["patient_id"] if "patient_id" in dataset.column_names else range(len(dataset))
    for index, (task, patient) in enumerate(zip(dataset["task"], patients, strict=True)):
        rows_by_task[task].append(index)
        if (task, patient) not in groups:
            groups_by_task[task].append((task, patient))
        groups[(task, patient)].append(index)
    shares = {task: n * len(rows) / len(dataset) for task, rows in rows_by_task.items()}
    quota = {task: int(share) for task, share in shares.items()}
    by_remainder = sorted(shares, key=lambda t: (shares[t] - quota[t], t), reverse=True)
    for task in by_remainder[: n - sum(quota.values())]:
        quota[task] += 1
    rng = random.Random(seed)
    chosen: list[int] = []
    for task in sorted(rows_by_task):
        taken = 0
        keys = sorted(groups_by_task[task])
        for key in rng.sample(keys, len(keys)):
            if taken + len(groups[key]) <= quota[task]:
                chosen += groups[key]
                taken += len(groups[key])
    return dataset.select(sorted(chosen))


def _quota(size: int | float, questions: int) -> int:
    """An int is a number of questions per task; a float in (0, 1) is a fraction of the task's questions."""
    return size if isinstance(size, int) else round(size * questions)


def split_by_patient(dataset: Dataset, test_size: int | float, val_size: int | float = 0, seed: int = 0
                     ) -> dict[str, Dataset]:
    """Hold out whole patients, task by task, for test then validation; the rest is train.

    Returns {"train", "test"} plus "validation" when `val_size` is non-zero.
    """
    rows_of: dict[object, list[int]] = defaultdict(list)
    for index, patient in enumerate(dataset["patient_id"]):
        rows_of[patient].append(index)
    tasks = dataset["task"]
    patients_by_task: dict[str, list[object]] = defaultdict(list)
    for patient, indices in rows_of.items():
        patients_by_task[tasks[indices[0]]].append(patient)
    questions_per_task = Counter(tasks)

    rng = random.Random(seed)
    held: dict[str, list[int]] = {"test": [], "validation": []}
    for task in sorted(patients_by_task):
        patients = patients_by_task[task]
        rng.shuffle(patients)
        remaining = iter(patients)
        for split, size in (("test", test_size), ("validation", val_size)):
            wanted, taken = _quota(size, questions_per_task[task]), 0
            while taken < wanted:
                patient = next(remaining, None)
                if patient is None:
                    break
                held[split].extend(rows_of[patient])
                taken += sum(1 for i in rows_of[patient] if tasks[i] == task)
    held_out = set(held["test"]) | set(held["validation"])
    train_rows = [i for i in range(len(dataset)) if i not in held_out]
    if not train_rows:
        raise ClintuneError(
            f"no rows left for training after holding out test_size={test_size} and val_size={val_size} per task",
            fix="use more data or smaller data.test_size / data.val_size",
        )
    splits = {"train": dataset.select(train_rows), "test": dataset.select(sorted(held["test"]))}
    if val_size:
        splits["validation"] = dataset.select(sorted(held["validation"]))
    return splits
