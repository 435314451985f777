"""Standard benchmarks through lm-evaluation-harness, scored against `clintune serve`."""
