"""`clintune merge`: a run's adapter merged into a fresh full-precision base, saved as a plain transformers model.

The merge always happens in fp32 on a freshly loaded base, never into 4-bit or bf16 weights, where the adapter's small
updates would be rounded away (a QLoRA run included). The result loads with `AutoModelForCausalLM.from_pretrained`
and nothing else, so vLLM and other servers can take it as it is.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import torch

from clintune.config import load_config
from clintune.errors import ClintuneError
from clintune.models.load import load_for_inference, load_tokenizer

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def merge_run(run_dir: Path, out: Path, dtype: str = "fp32") -> Path:
    config_path, adapter = run_dir / "config.yaml", run_dir / "adapter"
    if not config_path.is_file():
        raise ClintuneError("not a clintune run directory (no config.yaml)", where=str(run_dir),
                            fix="pass the folder a training run wrote")
    if not (adapter / "adapter_config.json").is_file():
        held = " it holds a full model in model/ already" if (run_dir / "model").is_dir() else ""
        raise ClintuneError(f"the run has no adapter to merge;{held}", where=str(run_dir),
                            fix="merge runs trained with lora, qlora or dora")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ClintuneError(f"--out {out} exists and is not an empty folder", fix="give a new or empty folder")
    config = load_config(config_path)
    trust = config.model.trust_remote_code
    model = load_for_inference(config.model.name, adapter=str(adapter), dtype=DTYPES[dtype], trust_remote_code=trust)
    tokenizer = load_tokenizer(config.model.name, trust_remote_code=trust)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        if out.is_dir():
            out.rmdir()
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out
