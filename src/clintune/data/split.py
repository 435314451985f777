"""Train/test splits grouped by patient, so that no patient's note is seen in training and in testing."""

from __future__ import annotations

import random
from collections import defaultdict

from datasets import Dataset

from clintune.errors import ClintuneError


def split_by_patient(dataset: Dataset, test_per_task: int, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Hold out whole patients until every task has `test_per_task` held-out questions (or as close as the data allows).

    A patient's task is the task of their first row; all of their rows go to the same side.
    """
    rows_of: dict[object, list[int]] = defaultdict(list)
    for index, patient in enumerate(dataset["patient_id"]):
        rows_of[patient].append(index)
    tasks = dataset["task"]
    patients_by_task: dict[str, list[object]] = defaultdict(list)
    for patient, indices in rows_of.items():
        patients_by_task[tasks[indices[0]]].append(patient)

    rng = random.Random(seed)
    test_rows: list[int] = []
    for task in sorted(patients_by_task):
        patients = patients_by_task[task]
        rng.shuffle(patients)
        taken = 0
        for patient in patients:
            if taken >= test_per_task:
                break
            test_rows.extend(rows_of[patient])
            taken += sum(1 for i in rows_of[patient] if tasks[i] == task)
    held_out = set(test_rows)
    train_rows = [i for i in range(len(dataset)) if i not in held_out]
    if not train_rows:
        raise ClintuneError(
            f"no rows left for training after holding out {test_per_task} questions per task",
            fix="generate more rows or lower data.test_per_task",
        )
    return dataset.select(train_rows), dataset.select(sorted(test_rows))
