"""Training from Python: a recipe into a config, the config into a run directory, an adapter into a plain model.

    from clintune import api
    config = api.load_config("demo", ["train.epochs=1"])
    run_dir = api.train(config)          # what `clintune train demo train.epochs=1` does
    api.merge(run_dir, Path("merged"))   # what `clintune merge RUN --out merged` does
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from clintune.config import RunConfig, dump_config, with_overrides
from clintune.config import load_config as load_config_file
from clintune.errors import ClintuneError
from clintune.recipes import recipe_names, recipe_summary, resolve_recipe

if TYPE_CHECKING:
    from transformers import TrainerCallback

Say = Callable[[str], None]


def load_config(recipe: str | Path | None = None, overrides: Sequence[str] = ()) -> RunConfig:
    """A shipped recipe's name or a YAML path (None: the defaults) with key=value overrides, validated: an unknown
    key is an error naming the closest valid one."""
    return load_config_file(resolve_recipe(recipe) if recipe is not None else None, list(overrides))


def train(config: RunConfig | str | Path, overrides: Sequence[str] = (), out: Path | None = None,
          resume: bool = False, max_memory: str | None = None, force: bool = False, allow_phi: str | None = None,
          say: Say = print, relaunch_argv: Sequence[str] | None = None,
          callbacks: Sequence[TrainerCallback] = ()) -> Path:
    """Train every stage of a recipe (a RunConfig, a shipped recipe's name or a YAML path, with overrides) and return
    the run directory: weights, metrics, loss curve, TensorBoard logs and model card.

    The memory plan is held against the device's free memory (or `max_memory`, e.g. "12GiB") before any weight
    loads; `force` trains anyway. `allow_phi` trains on data with patient identifiers, the reason recorded.
    `callbacks` are transformers TrainerCallbacks added to every stage's trainer (after clintune's own: a checkpoint
    they hear of in `on_save` is already committed), as `callbacks=` is for a TRL or HF trainer.
    With distributed.nproc > 1 the CLI relaunches its own command line (`relaunch_argv`) under torchrun; from
    Python, start the script itself with torchrun."""
    from clintune.memory.units import parse_size

    if not isinstance(config, RunConfig):
        config = load_config(config, overrides)
    elif overrides:
        config = with_overrides(config, list(overrides))
    if allow_phi:
        config.data.allow_phi = allow_phi
    try:
        limit = parse_size(max_memory) if max_memory else None
    except ValueError as exc:
        raise ClintuneError(f"--max-memory {exc}", fix="write it like 12GiB") from None
    # The training stack (torch, transformers, TRL) loads once the config is known good: a mistake is reported at once.
    from clintune.memory.plan import MemoryCheck
    from clintune.train.launch import train_command

    return train_command(config, Path(out) if out else None, resume, say, MemoryCheck(limit, force),
                         list(relaunch_argv) if relaunch_argv is not None else None, callbacks,
                         _pair_maker(config) if set(config.stages) & {"dpo", "kto"} else None)


def _pair_maker(config: RunConfig):
    """How a preference stage makes its data from the SFT model when the recipe gives none: `clintune pairs`'s own
    way (DPO pairs and KTO rows)."""
    from clintune.evaluate.pairs import Sampled, pairs_for

    preference = config.preference
    sampled = Sampled(preference.samples, preference.temperature, preference.max_new_tokens, preference.seed,
                      config.generation.batch_size)

    def make(model, tokenizer, rows: list[dict], cache: Path) -> tuple[list[dict], list[dict]]:
        made = pairs_for(model, tokenizer, rows, config.prompt.template, config.prompt.chat, sampled, cache, "sft",
                         config.name)
        return made[0], made[1]

    return make


def in_distributed_launch() -> bool:
    """True in each rank of a torchrun launch (rank 0 writes the files; the launching process reports)."""
    from clintune.devices import in_distributed_launch as in_launch

    return in_launch()


def merge(run: Path, out: Path, dtype: str = "fp32") -> Path:
    """A LoRA/QLoRA/DoRA run's adapter merged in fp32 into a fresh base, saved as a plain transformers model (stored
    in `dtype`: fp32, bf16 or fp16)."""
    from clintune.train.merge import DTYPES, merge_run

    if dtype not in DTYPES:
        raise ClintuneError(f"unknown --dtype '{dtype}'", fix=f"use one of: {', '.join(DTYPES)}")
    return merge_run(Path(run), Path(out), dtype)


def recipes() -> dict[str, str]:
    """The shipped recipes: {name: what it trains}."""
    return {name: recipe_summary(name) for name in recipe_names()}


def recipe_text(name: str) -> str:
    """A recipe's YAML, to copy and edit."""
    return resolve_recipe(name).read_text(encoding="utf-8")


def config_yaml(config: RunConfig) -> str:
    """The fully resolved config as YAML (what a run saves as config.yaml)."""
    return dump_config(config)


def fetch_model(name: str, source: str = "auto", say: Say = print) -> Path:
    """Put a known model into clintune's cache as a plain safetensors folder (idempotent, atomic)."""
    from clintune.models.fetch import fetch_model as fetch

    return fetch(name, source=source, say=say)


def models() -> list[dict]:
    """Cached and fetchable models: name, cached, bytes, and source or description."""
    from clintune.models.registry import KNOWN_MODELS, cached_models

    cached = {m["name"]: m for m in cached_models()}
    return [{"name": name, "cached": name in cached, "bytes": cached[name]["bytes"] if name in cached else None,
             "about": cached[name]["source"] if name in cached else KNOWN_MODELS[name].description}
            for name in sorted(set(cached) | set(KNOWN_MODELS))]


def models_folder() -> Path:
    from clintune.models.registry import clintune_home

    return clintune_home() / "models"
