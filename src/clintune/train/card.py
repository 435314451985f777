"""The model card: a README.md that travels with the trained weights and says what they are and are not for."""

from __future__ import annotations

from clintune.config import RunConfig, dump_config
from clintune.train.preference import REFERENCE


def model_card(config: RunConfig, summary: dict, data_card: dict) -> str:
    method = config.train.method
    adapter = method != "full"
    targets = summary.get("targets") or "every weight"
    steps = ", ".join(f"{stage} {n} steps" for stage, n in summary["steps"].items())
    load = (
        "```python\nfrom peft import AutoPeftModelForCausalLM\n"
        "model = AutoPeftModelForCausalLM.from_pretrained('adapter')\n```\n\n"
        "Or merge it into a full-precision copy of the base: `clintune merge RUN_DIR --out merged/`."
        if adapter else
        "```python\nfrom transformers import AutoModelForCausalLM\n"
        "model = AutoModelForCausalLM.from_pretrained('model')\n```"
    )
    dpo = _preference_section(config, data_card.get("preference", {}))
    counts = data_card.get("counts", {})
    flagged = data_card.get("identifier_scan", {}).get("rows_with_findings", "?")
    return f"""---
library_name: {"peft" if adapter else "transformers"}
base_model: {config.model.name}
tags: [clintune, clinical, asclepius, {method}]
---
# {config.name}

A clinical instruction-following model trained by clintune from `{config.model.name}`
({method}, targets: {targets}). Stages: {steps}; final training loss {summary.get("final_loss", "n/a")}.{dpo}

## Intended use
Research and education on clinical-note question answering (the 8 Asclepius tasks). **Not a medical device and not
for clinical decisions**: answers can be wrong, incomplete or invented, and must be checked against the note by a
clinician.

## Data
Source `{data_card.get("source", "?")}` (content hash `{data_card.get("content_hash", "?")}`), counts after each
preparation step: {counts}. Identifier scan: {flagged} rows with findings.
Unless the source says otherwise, these are synthetic notes; a model trained on real notes inherits their privacy
obligations.

## Prompt
Template `{config.prompt.template}`{" inside the model's chat template" if config.prompt.chat else ""}; the same
template must be used at inference (clintune's generate, serve and chat do this).

## How to load
{load}

## Training config
```yaml
{dump_config(config)}```
"""


def _preference_section(config: RunConfig, described: dict) -> str:
    stage = next((s for s in config.stages if s in ("dpo", "kto")), None)
    if stage is None:
        return ""
    preference = config.preference
    trainer, rows = ("DPO (TRL's DPOTrainer", "pairs in `data/pairs.jsonl`") if stage == "dpo" else (
        "KTO (TRL's KTOTrainer", "answers labelled good or bad in `data/kto.jsonl`")
    loss = preference.loss_type or ("sigmoid" if stage == "dpo" else "kto")
    made = (f"the file `{preference.pairs}` (made by: {', '.join(described.get('made_by', ['unrecorded']))})"
            if preference.pairs else
            f"made from {preference.samples} answers sampled from the SFT model (temperature {preference.temperature}, "
            f"seed {preference.seed}) to each of the first {preference.questions} training questions, scored against "
            "the gold answer and the note (an answer the note does not support, or a wrong one, is the bad one)")
    return (f"\n\n## Preference stage\n{trainer}; beta {preference.beta}, loss {loss}, learning rate {preference.lr}) "
            f"on {rows}: {made}. Reference model: {REFERENCE}.")
