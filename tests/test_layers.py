"""Imports point one way: a lower layer of the pipeline never imports a higher one."""

import ast
from pathlib import Path

import clintune

ROOT = Path(clintune.__file__).parent
# Low to high. A module may import its own layer and the layers before it, never one after it.
LAYERS = [
    {"errors", "config", "devices", "privacy", "runs", "recipes", "openai_client"},
    {"data"},
    {"prompts"},
    {"synth"},
    {"models"},
    {"memory"},
    {"train"},
    {"evaluate"},
    {"serve"},
    {"export", "bench"},
    {"doctor", "api"},
    {"studio"},  # a UI over the API, as the command line is
    {"cli", "__main__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _part(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    return parts[0] if len(parts) > 1 else path.stem


def _imported_parts(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else (
            [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
        found |= {name.split(".")[1] for name in names if name.startswith("clintune.")}
    return found


def test_every_package_part_has_a_layer():
    parts = {_part(path) for path in ROOT.rglob("*.py")} - {"__init__"}
    assert parts <= set(RANK), parts - set(RANK)


def test_no_module_imports_a_higher_layer():
    upward = [f"{path.relative_to(ROOT)} imports clintune.{target}"
              for path in ROOT.rglob("*.py") if _part(path) != "__init__"
              for target in _imported_parts(path) if RANK[target] > RANK[_part(path)]]
    assert upward == []


def test_the_check_sees_an_upward_import(tmp_path):
    # The checker itself must catch one: memory/ importing train/ was such a case.
    module = tmp_path / "bad.py"
    module.write_text("from clintune.train.trainer import ClintuneTrainer\n")
    assert _imported_parts(module) == {"train"} and RANK["train"] > RANK["memory"]


def test_the_command_line_goes_through_the_api_alone():
    # The CLI parses, calls clintune.api and prints; any library module it imported would be logic outside the API.
    allowed = {"api", "cli", "errors", "privacy", "studio"}  # `clintune studio` starts the other UI
    reached = {f"{path.name} imports clintune.{target}" for path in (ROOT / "cli").glob("*.py")
               for target in _imported_parts(path) if target not in allowed}
    assert reached == set()
    assert _imported_parts(ROOT / "__main__.py") == {"cli"}


def test_the_studio_goes_through_the_api_alone():
    # Like the CLI: the page's actions call clintune.api; runs.py's file helpers are the one lower module it reads.
    allowed = {"api", "errors", "privacy", "runs", "studio"}
    reached = {f"{path.name} imports clintune.{target}" for path in (ROOT / "studio").glob("*.py")
               for target in _imported_parts(path) if target not in allowed}
    assert reached == set()


def test_the_api_names_what_it_exports():
    from clintune import api

    assert sorted(api.__all__, key=str.lower) == api.__all__
    missing = [name for name in api.__all__ if not hasattr(api, name)]
    assert missing == []
    for name in ("prepare", "plan_memory", "train", "evaluate", "score", "merge", "serve", "chat", "demo"):
        assert callable(getattr(api, name)) and getattr(api, name).__doc__, name


def test_clintune_train_reaches_trainer_train_in_five_files():
    # The walk a reader takes from the command to the training loop: each file hands over to the next by name.
    walk = [("cli/train.py", "api.train("), ("api/train.py", "train_command("), ("train/launch.py", "run_training("),
            ("train/run.py", "trainer.train("), ("train/trainer.py", "class ClintuneTrainer(")]
    for file, handover in walk:
        assert handover in (ROOT / file).read_text(encoding="utf-8"), (file, handover)
    assert len(walk) <= 5
