"""The one place clintune loads a model and its tokenizer: safetensors only, no remote code unless asked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


@dataclass
class Trained:
    model: torch.nn.Module
    tokenizer: object
    name: str  # how to call it: the run directory's name, or the model's
    template: str = "asclepius"
    chat: bool = True  # the template goes in the user turn of the chat template, as in training
    has_adapter: bool = False  # a PeftModel whose adapter can be switched off (disable_adapter)
    base_name: str = ""
    adapter: str | None = None


def load_trained(run: Path | None, model: str | None, adapter: str | None, keep_adapter: bool = False,
                 trust_remote_code: bool = False) -> Trained:
    """What a run trained (its adapter on its base, or its full model, with its prompt settings), or a model with
    an optional adapter. `keep_adapter` keeps the adapter separate so it can be switched off; otherwise it is
    merged, which generates as fast as the base."""
    from clintune.config import load_config

    template, chat = "asclepius", True
    if run is not None:
        config_path = run / "config.yaml"
        if not config_path.is_file():
            raise ClintuneError("not a clintune run directory (no config.yaml)", where=str(run),
                                fix="pass the folder a training run wrote")
        config = load_config(config_path)
        template, chat, trust_remote_code = config.prompt.template, config.prompt.chat, config.model.trust_remote_code
        if (run / "adapter" / "adapter_config.json").is_file():
            model, adapter = config.model.name, str(run / "adapter")
        elif (run / "model" / "config.json").is_file():
            model, adapter = str(run / "model"), None
        else:
            raise ClintuneError("the run holds no trained weights (no adapter/ or model/)", where=str(run),
                                fix="use a finished run, or --model with --adapter")
        name = run.name
    elif model is None:
        raise ClintuneError("no model given", fix="give --run RUN_DIR or --model ID|DIR")
    else:
        name = Path(model).name if Path(model).exists() else model
    if adapter is not None and not (Path(adapter) / "adapter_config.json").is_file():
        raise ClintuneError(f"no PEFT adapter in '{adapter}' (adapter_config.json missing)",
                            fix="give the adapter/ folder of a LoRA run")
    tokenizer = load_tokenizer(model, trust_remote_code=trust_remote_code)
    if adapter is not None and keep_adapter:
        from peft import PeftModel

        base = load_model(model, trust_remote_code=trust_remote_code)
        loaded = PeftModel.from_pretrained(base, adapter).eval()
    else:
        loaded = load_for_inference(model, adapter=adapter, trust_remote_code=trust_remote_code)
    from clintune.devices import detect_device

    loaded.to(detect_device())  # generation runs where training would: the GPU when there is one
    return Trained(loaded, tokenizer, name, template, chat, adapter is not None and keep_adapter, model, adapter)
