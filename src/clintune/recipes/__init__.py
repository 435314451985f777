"""The shipped YAML recipes, found by name (`clintune train demo`) or used as a starting point (`recipes show`)."""

from __future__ import annotations

import difflib
from pathlib import Path

from clintune.errors import ClintuneError

RECIPES_DIR = Path(__file__).parent


def recipe_names() -> list[str]:
    return sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))


def recipe_summary(name: str) -> str:
    """The recipe's opening comment, as one line."""
    lines = (RECIPES_DIR / f"{name}.yaml").read_text(encoding="utf-8").splitlines()
    comment = []
    for line in lines:
        if not line.startswith("#"):
            break
        comment.append(line.lstrip("# ").strip())
    return " ".join(comment)


def resolve_recipe(name_or_path: str | Path) -> Path:
    """A YAML path as given, or the shipped recipe of that name."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    if str(name_or_path) in recipe_names():
        return RECIPES_DIR / f"{name_or_path}.yaml"
    close = difflib.get_close_matches(str(name_or_path), recipe_names(), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise ClintuneError(f"no recipe file or shipped recipe named '{name_or_path}'",
                        fix=f"{hint}see `clintune recipes list`, or give the path of a YAML file")
