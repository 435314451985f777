"""The one place clintune loads a model and its tokenizer: safetensors only, no remote code unless asked."""

from __future__ import annotations

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from clintune.errors import ClintuneError
from clintune.models.registry import resolve_model
from clintune.privacy import hub_offline


def load_tokenizer(name: str, trust_remote_code: bool = False):
    source = resolve_model(name)
    tokenizer = AutoTokenizer.from_pretrained(
        source, trust_remote_code=trust_remote_code, local_files_only=hub_offline()
    )
    if tokenizer.pad_token_id is None:
        # Padding is masked by the attention mask and by -100 labels, never by comparing ids, so pad may equal eos.
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(name: str, dtype: torch.dtype = torch.float32, trust_remote_code: bool = False,
               quantization_config=None):
    source = resolve_model(name)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            source,
            dtype=dtype,
            quantization_config=quantization_config,
            use_safetensors=True,
            trust_remote_code=trust_remote_code,
            local_files_only=hub_offline(),
        )
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fix = "check that the folder holds *.safetensors weights"
        raise ClintuneError(f"could not load model '{name}': {first}", fix=fix) from None
    return model


def load_for_inference(name: str, adapter: str | None = None, dtype: torch.dtype = torch.float32,
                       trust_remote_code: bool = False):
    """A model ready to generate: the base, or the base with a LoRA adapter merged in.

    The merge happens in fp32 and only then is the result cast to `dtype`; merging into low-precision weights
    would round the adapter's small updates away. Merged, the tuned model generates as fast as the base.
    """
    if adapter is None:
        return load_model(name, dtype=dtype, trust_remote_code=trust_remote_code).eval()
    from peft import PeftModel

    base = load_model(name, dtype=torch.float32, trust_remote_code=trust_remote_code)
    merged = PeftModel.from_pretrained(base, adapter).merge_and_unload()
    return merged.to(dtype=dtype).eval()
