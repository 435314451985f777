"""Full names with no cue around them ("support groups with Lynn Holmberg"): the identifier scan's given-name layer.

The context rules in phi.py find a name when something marks it (a title, a label, a relative, "..., MD"). A full
name said plainly has no such mark, so this layer takes two capitalised words in the middle of a sentence whose first
is a given name in Faker's U.S. list (its `first_names`: about 700 common ones, shipped in the wheel) and whose second
is a rare word in English (`wordfreq` Zipf frequency below 3: "Holmberg", not "Grace Period"). Eponyms pass because
their first word is not a given name ("Foley Catheter", "Allis Clamp"), and the two given names that do open an
instrument's name are left out. Measured on the hand-labelled MTSamples notes
(benchmarks/phi_real.py): one more of the 17 labelled names, no false finding.
"""

from __future__ import annotations

import functools
import re

RARE_BELOW = 3.0
# Given names that open an instrument's or a drain's name in operative notes ("Kelly Hemostat", "Jackson Pratt").
_INSTRUMENT_EPONYMS = {"Kelly", "Jackson"}
# Not after a full stop, a colon or a line break: a heading or a sentence's first word is capitalised anyway.
_TWO_CAPITALISED = re.compile(r"(?<![.:\n] )\b([A-Z][a-z]+) ([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b")


def find_full_names(text: str) -> list[tuple[int, int]]:
    """(start, end) of every given name followed by a rare capitalised word."""
    from wordfreq import zipf_frequency

    found = []
    for match in _TWO_CAPITALISED.finditer(text):
        first = match.group(1)
        if match.start() == 0 or first not in given_names() or first in _INSTRUMENT_EPONYMS:
            continue
        if zipf_frequency(match.group(2).lower().replace("-", " "), "en") < RARE_BELOW:
            found.append(match.span())
    return found


@functools.cache
def given_names() -> frozenset[str]:
    from faker.providers.person.en_US import Provider

    return frozenset(Provider.first_names)
