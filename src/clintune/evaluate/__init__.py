"""Evaluation: batched generation, reference metrics per task, and the run report."""
