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
    {"demo", "doctor", "cli", "cli_data", "cli_eval", "cli_memory", "cli_serve", "__main__"},
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
