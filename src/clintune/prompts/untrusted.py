"""Untrusted text (a note, a case report, an answer to grade) inside an instruction prompt: fenced between markers it
cannot contain, so text in it cannot close the fence early and pose as instructions. Used by synth and the judge."""

from __future__ import annotations


def fenced(label: str, text: str) -> str:
    opening, closing = f"<<<{label}", f"{label}>>>"
    clean = text.replace(opening, "").replace(closing, "")  # copies of the markers are removed
    return f"{opening}\n{clean.strip()}\n{closing}"
