"""What every note writer of the generator shares: the rendered note with what its writer knows it wrote, and the
small pieces of English the gold answers are built from."""

from __future__ import annotations

from dataclasses import dataclass, field

# How a gold answer says the note lacks what was asked (evaluate/metrics.py recognises it).
NOTE_LACKS = "The note does not mention"


@dataclass
class Note:
    """A rendered note, plus what the writer knows it wrote."""

    text: str
    abbreviations: set[str] = field(default_factory=set)
    sentences: dict[str, str] = field(default_factory=dict)


def first_upper(text: str) -> str:
    """Capitalise the first letter only ("EGD" and "LE duplex" keep their capitals)."""
    return text[:1].upper() + text[1:]


def and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def plural(n: int, unit: str) -> str:
    """'1 week', '3 weeks'."""
    return f"{n} {unit}{'s' if n != 1 else ''}"


def weeks(n: int) -> str:
    return plural(n, "week")
