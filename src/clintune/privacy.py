"""Keep clintune quiet on the network: no telemetry, and the Hub only when the user allows it."""

from __future__ import annotations

import os
from collections.abc import MutableMapping

# Each library reads its own switch; setting them before those libraries are imported is what makes them stick.
TELEMETRY_OFF = {
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "TRL_TELEMETRY": "0",
    "ACCELERATE_DISABLE_TELEMETRY": "1",
    "WANDB_DISABLED": "true",
    "DISABLE_MLFLOW_INTEGRATION": "TRUE",
    "TOKENIZERS_PARALLELISM": "false",
}

_TRUTHY = {"1", "true", "yes", "on"}


def disable_telemetry(environ: MutableMapping[str, str] | None = None) -> None:
    """Switch off every telemetry channel of the HF stack, unless the user already set the variable."""
    env = os.environ if environ is None else environ
    for key, value in TELEMETRY_OFF.items():
        env.setdefault(key, value)


def hub_offline(environ: MutableMapping[str, str] | None = None) -> bool:
    """True when the user (or the test suite) asked for no Hugging Face Hub access."""
    env = os.environ if environ is None else environ
    return any(env.get(k, "").strip().lower() in _TRUTHY for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
