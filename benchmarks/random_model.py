"""A model folder with random weights for a config.json, and clintune's small test tokenizer: benchmarks and GPU
checks of a real architecture's shapes without the Hub (`python benchmarks/random_model.py CONFIG OUT_DIR`).

The weights are random, so losses mean nothing; memory and speed depend only on the shapes, which are the real ones.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def save_random_model(config_path: Path, out_dir: Path) -> Path:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from clintune.models.tiny import train_tokenizer

    if (out_dir / "config.json").is_file():
        return out_dir
    values = json.loads(Path(config_path).read_text(encoding="utf-8"))
    values.pop("torch_dtype", None)
    config = AutoConfig.for_model(values.pop("model_type"), **values)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer = train_tokenizer()
    tokenizer.save_pretrained(out_dir)
    return out_dir


def main() -> None:
    from clintune.privacy import disable_telemetry

    disable_telemetry()  # before any HF library loads: they read their switches at import time
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    print(save_random_model(args.config, args.out))


if __name__ == "__main__":
    main()
