"""Which device to train on, and whether it does bf16 natively."""

from __future__ import annotations

import importlib.util
import platform
from pathlib import Path

import torch


def detect_device() -> str:
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: there, bf16 matmuls run ~2.5x faster than fp32; elsewhere bf16 autocast is emulated."""
    if platform.system() != "Linux":
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def bf16_available(device: str) -> bool:
    if device == "cuda":
        return torch.cuda.is_bf16_supported()
    if device == "cpu":
        return cpu_has_native_bf16()
    return False


def resolve_precision(setting: str, device: str) -> str:
    """The config's train.precision made concrete: 'bf16', 'fp16' or 'fp32' (mixed precision over fp32 weights)."""
    if setting != "auto":
        return setting
    if bf16_available(device):
        return "bf16"
    # fp16 autocast with loss scaling is what GPUs without bf16 (T4, V100) have; CPUs and MPS stay in fp32.
    return "fp16" if device == "cuda" else "fp32"


def resolve_weights_dtype(setting: str, method: str, precision: str) -> str:
    """The dtype the weights are held in, from train.weights_dtype and the resolved precision.

    auto: a frozen base (LoRA, DoRA, QLoRA's unquantised rest) in the compute precision, as torchtune, LitGPT and
    LLaMA-Factory keep it: it receives no updates, so fp32 would only double its memory and add a cast per matmul.
    Full fine-tuning keeps fp32 master weights unless pure bf16 is asked for.
    """
    from clintune.errors import ClintuneError

    if setting == "auto":
        return "fp32" if method == "full" else precision
    if setting != "fp32" and setting != precision:
        raise ClintuneError(f"train.weights_dtype={setting} with train.precision={precision}",
                            fix=f"16-bit weights compute in their own dtype: set train.precision={setting}, or "
                            "train.weights_dtype=auto")
    return setting


def resolve_loss(setting: str, model, device: str, sharded: bool) -> str:
    """'plain', 'chunked' or 'fused' (train/loss.py) for this model and device, from train.loss."""
    from clintune.errors import ClintuneError

    fits = hidden_loss_applies(model) and not sharded
    if setting == "plain":
        return "plain"
    if setting == "auto":
        if not fits:
            return "plain"
        return "fused" if device == "cuda" and liger_installed() else "chunked"
    if not fits:
        raise ClintuneError(f"train.loss={setting} does not apply to this model or to sharded training (its logits "
                            "are transformed after the head, or FSDP/ZeRO-3 shards the head)",
                            fix="use train.loss=auto or plain")
    if setting == "fused" and (device != "cuda" or not liger_installed()):
        raise ClintuneError("train.loss=fused needs CUDA and the liger-kernel package",
                            fix="pip install 'clintune[liger]' on the GPU machine, or use train.loss=chunked")
    return setting


def liger_installed() -> bool:
    return importlib.util.find_spec("liger_kernel") is not None


def hidden_loss_applies(model) -> bool:
    """True when logits = head(hidden) and nothing else, so the loss may be computed from the hidden states."""
    from torch import nn

    head = model.get_output_embeddings()
    text = model.config.get_text_config()
    transformed = getattr(text, "final_logit_softcapping", None) is not None or getattr(text, "logit_scale", None)
    return type(head) is nn.Linear and not transformed


def process_state():
    """accelerate's view of this process in a launch (rank, world size), as the trainer will set it up: on a CPU it
    must be asked with cpu=True, or a torchrun launch on CPUs would read as one process."""
    from accelerate import PartialState

    return PartialState(cpu=detect_device() == "cpu")


def is_main_process() -> bool:
    """Rank 0 of a torchrun launch, or the only process: the one that writes files and speaks."""
    return process_state().is_main_process


def in_distributed_launch() -> bool:
    """True inside a data-parallel launch (torchrun), where every rank runs the same command."""
    return process_state().use_distributed
