"""clintune: build instruction-following clinical LLMs the Asclepius way.

Importing clintune changes nothing in the process environment. The `clintune` command switches the HF stack's
telemetry off before any library loads (`clintune.privacy.disable_telemetry`); from Python, call that function first
(before transformers, TRL or huggingface_hub are imported: they read their switches at import time) or export
HF_HUB_DISABLE_TELEMETRY=1.
"""

__version__ = "0.1.0"
