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


def load_model(name: str, dtype: torch.dtype = torch.float32, trust_remote_code: bool = False):
    source = resolve_model(name)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            source,
            dtype=dtype,
            use_safetensors=True,
            trust_remote_code=trust_remote_code,
            local_files_only=hub_offline(),
        )
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fix = "check that the folder holds *.safetensors weights"
        raise ClintuneError(f"could not load model '{name}': {first}", fix=fix) from None
    return model
