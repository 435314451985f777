"""Untrusted text (a note, a case report, an answer to grade) inside an instruction prompt: fenced between markers it
cannot contain, so text in it cannot close the fence early and pose as instructions. Used by synth and the judge.

Every marker is `<<<LABEL` or `LABEL>>>`, so removing the bare `<<<` and `>>>` from the text removes copies of any
fence's markers: a note cannot open a fake AGENT A block, nor close its own NOTE block."""

from __future__ import annotations


def fenced(label: str, text: str) -> str:
    clean = text.replace("<<<", "").replace(">>>", "")
    return f"<<<{label}\n{clean.strip()}\n{label}>>>"
