"""clintune: build instruction-following clinical LLMs the Asclepius way."""

from clintune.privacy import disable_telemetry

# Before any Hugging Face library is imported through clintune: they read their telemetry switches at import time.
# Variables the user has set are left alone.
disable_telemetry()

__version__ = "0.1.0"
