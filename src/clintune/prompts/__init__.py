"""Prompt rendering: the one place where a (note, question) becomes model input, for training and inference alike."""
