"""The four training methods, as the model each one trains: full, LoRA, QLoRA and DoRA.

- full: every weight of the fp32 model is trained (mixed precision comes from autocast, not from bf16 weights, so
  the optimizer updates fp32 master weights).
- lora / dora: a frozen fp32 base with adapters on the resolved targets (DoRA adds PEFT's magnitude vectors).
- qlora: the Linear layers except the head are quantised to 4 bits by bitsandbytes (nf4 or fp4, optionally with
  double quantisation), then LoRA goes on top; embeddings, norms and the head stay in their own dtype.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import BitsAndBytesConfig

from clintune.config import RunConfig
from clintune.models.load import load_model
from clintune.train.adapters import add_lora

COMPUTE_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def quantization_config(config: RunConfig, precision: str) -> BitsAndBytesConfig:
    """precision: the resolved train precision ('bf16' | 'fp16' | 'fp32'); 'auto' compute follows it."""
    quant = config.quant
    compute = COMPUTE_DTYPES[precision if quant.compute_dtype == "auto" else quant.compute_dtype]
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=quant.type,
                              bnb_4bit_use_double_quant=quant.double_quant, bnb_4bit_compute_dtype=compute)


def model_for_method(name: str, config: RunConfig, precision: str) -> nn.Module:
    """The model ready for the trainer: its trainable parameters are exactly what the method trains."""
    method = config.train.method
    trust = config.model.trust_remote_code
    if method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = load_model(name, dtype=torch.float32, trust_remote_code=trust,
                           quantization_config=quantization_config(config, precision))
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=config.train.gradient_checkpointing)
        return add_lora(model, config.lora)
    model = load_model(name, dtype=torch.float32, trust_remote_code=trust)
    if method == "full":
        return model
    return add_lora(model, config.lora, dora=method == "dora")


def describe(model: nn.Module, config: RunConfig) -> str:
    """One line for the log: what is trained, on which targets."""
    method = config.train.method
    if method == "full":
        return "full fine-tuning: every weight is trained"
    targets = ", ".join(sorted(model.peft_config["default"].target_modules))
    base = f" on a 4-bit {config.quant.type} base" if method == "qlora" else ""
    return f"{method.upper() if method != 'dora' else 'DoRA'} r={config.lora.r}{base} on {targets}"
