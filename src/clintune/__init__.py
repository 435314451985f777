"""clintune: build instruction-following clinical LLMs the Asclepius way."""

__version__ = "0.1.0"
