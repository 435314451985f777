"""The one place clintune reaches into sacrebleu: per-example sufficient statistics, for bootstrap intervals.

sacrebleu scores a whole corpus through its public API, but a bootstrap needs each example's statistics (n-gram
matches and totals, lengths) so that any resample's corpus score is a sum, not a re-tokenisation. sacrebleu has them
only behind two underscored methods that every Metric implements (its own paired bootstrap uses them). They are
wrapped here and nowhere else; TESTED_VERSIONS names the sacrebleu releases tests/test_scores.py checked them against
(the sum of all statistics must give exactly `corpus_score`), and requirements.lock pins one of them.
"""

from __future__ import annotations

import numpy as np
import sacrebleu

TESTED_VERSIONS = ("2.4", "2.5", "2.6")


class CorpusStatistics:
    """A sacrebleu metric's statistics for each (prediction, reference) pair, and the corpus score of any subset."""

    def __init__(self, metric, predictions: list[str], references: list[str]):
        self.metric = metric
        self.per_example = np.array(metric._extract_corpus_statistics(predictions, [references]), dtype=float)

    def score(self, rows) -> float:
        """The corpus score of the examples `rows` (indices, repeats allowed: a bootstrap draw)."""
        return self.metric._compute_score_from_stats(list(self.per_example[rows].sum(axis=0))).score


def version_is_tested() -> bool:
    return sacrebleu.__version__.rsplit(".", 1)[0] in TESTED_VERSIONS
