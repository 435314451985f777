"""Text as EHR and transcription exports write it, made readable: the form a note has when a clinician reads it.

    clean_export_text("HISTORY:, He has pain.,PLAN: ,1.  Rest.") == "HISTORY: He has pain.\\nPLAN:\\n1. Rest."

Exports flatten a note's layout into one CSV field: headings become `,HEADING:,`, numbered lists `,1.  item`, and
HTML entities (`&quot;`) survive from a web page. A model trained on notes with headings on their own lines meets a
different text. Cleaning puts headings and list items back on lines of their own, unescapes entities and drops the
stray commas; it never changes a word.
"""

from __future__ import annotations

import html
import re

# An upper-case heading ("PAST MEDICAL HISTORY:", "2-D M-MODE:") followed by the export's comma(s).
_HEADING = re.compile(r"\s*,?\s*\b([A-Z0-9][A-Z0-9/&()'\-, ]*?[A-Z)]\s*:)\s*(?:,\s*)+")
# A numbered item after a full stop or a colon: ".,2.  Text" or ": 1. Text".
_ITEM = re.compile(r"(?<=[.:]),?\s*(\d{1,2}\.)\s+(?=[A-Z])")
# A comma the export put before a word inside a sentence ("If ,he lost").
_STRAY_COMMA = re.compile(r"\s+,(?=[a-z])")
_SPACES = re.compile(r"[ \t]{2,}")


def clean_export_text(text: str) -> str:
    """The note with its headings and numbered items on lines of their own, entities unescaped, stray commas gone."""
    text = html.unescape(text)
    text = _HEADING.sub(lambda m: "\n" + re.sub(r"\s+:", ":", m.group(1)) + " ", text)
    text = _ITEM.sub(lambda m: "\n" + m.group(1) + " ", text)
    text = _STRAY_COMMA.sub(" ", text)
    text = _SPACES.sub(" ", text)
    return "\n".join(line.strip() for line in text.splitlines()).strip()
