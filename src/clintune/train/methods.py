"""The four training methods, as the model each one trains: full, LoRA, QLoRA and DoRA.

The weights are held in `train.weights_dtype` (devices.resolve_weights_dtype): by default a frozen base is loaded in
the compute precision (bf16, or fp16 on GPUs without bf16), and only the trainable weights are fp32.
- full: every weight is trained; fp32 master weights under autocast by default, or pure bf16 when asked.
- lora / dora: a frozen 16-bit base with fp32 adapters on the resolved targets (DoRA adds PEFT's magnitude vectors).
- qlora: the Linear layers except the head are quantised to 4 bits by bitsandbytes (nf4 or fp4, optionally with
  double quantisation), then LoRA goes on top; embeddings, norms and the head stay in the compute dtype. PEFT's
  `prepare_model_for_kbit_training` is not used: it upcasts all of them to fp32 (2,354 instead of 1,859 MiB for
  phi-2), for fp16 stability that the models' norms already provide by computing in fp32 inside.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import BitsAndBytesConfig

from clintune.config import RunConfig
from clintune.devices import resolve_weights_dtype
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
    dtype = COMPUTE_DTYPES[resolve_weights_dtype(config.train.weights_dtype, method, precision)]
    if method == "qlora":
        model = load_model(name, dtype=dtype, trust_remote_code=trust,
                           quantization_config=quantization_config(config, precision))
        return add_lora(model, config.lora)
    model = load_model(name, dtype=dtype, trust_remote_code=trust)
    if method == "full":
        return model
    return add_lora(model, config.lora, dora=method == "dora")


def describe(model: nn.Module, config: RunConfig) -> str:
    """One line for the log: what is trained, on which targets."""
    method = config.train.method
    if method == "full":
        dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
        return f"full fine-tuning: every weight is trained, held in {dtype}"
    targets = ", ".join(sorted(model.peft_config["default"].target_modules))
    base = f" on a 4-bit {config.quant.type} base" if method == "qlora" else ""
    dtypes = {p.dtype for p in model.parameters() if not p.requires_grad and p.is_floating_point()}
    base += f" (frozen weights in {', '.join(sorted(str(d).removeprefix('torch.') for d in dtypes))})"
    return f"{method.upper() if method != 'dora' else 'DoRA'} r={config.lora.r}{base} on {targets}"
