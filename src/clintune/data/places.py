"""Towns named with no label around them ("she lived in Seattle"): the identifier scan's gazetteer layer.

The context rules in phi.py find a place when something marks it (a street number, a state after a comma, a facility
word). A town said plainly after "in", "from", "at" or "near" has no such mark, so this layer looks the capitalised
words that follow those words up in the U.S. place names of the `zipcodes` package (every post-office city and its
accepted alternative names, about 25,000, shipped in the wheel: nothing is downloaded). Only the most common English
words are left out ("Normal", "Hope": Zipf frequency 5 or more in `wordfreq`), because a capitalised word right after
"in" in the middle of a sentence is rarely an ordinary word. Measured on the hand-labelled MTSamples notes
(benchmarks/phi_real.py): 5 more of the 17 labelled places and 4 false findings, keeping overall precision at 92.6%;
with only rare words allowed (Zipf below 3) it found 2 more places and nothing false.
"""

from __future__ import annotations

import functools
import re

COMMON_FROM = 5.0  # Zipf frequency: 5 is about once in every 100,000 words
# A town's name: up to three capitalised words ("Eastchester", "Salt Lake City", "Winston-Salem").
_AFTER_PLACE_WORD = re.compile(r"\b(?i:in|from|at|near)\s+([A-Z][a-z]+(?:[- ][A-Z][a-z]+){0,2})")


def find_towns(text: str) -> list[tuple[int, int]]:
    """(start, end) of every U.S. town named after in / from / at / near, the longest known name first."""
    found = []
    for match in _AFTER_PLACE_WORD.finditer(text):
        towns = town_names()  # loaded at the first candidate: most generated notes have none
        words = match.group(1).split(" ")
        for n in range(len(words), 0, -1):
            name = " ".join(words[:n])
            if name in towns or name.replace("-", " ") in towns:  # "Winston-Salem" is filed as "Winston Salem"
                if not _common_word(name):
                    found.append((match.start(1), match.start(1) + len(name)))
                break
    return found


def _common_word(name: str) -> bool:
    from wordfreq import zipf_frequency

    return all(zipf_frequency(word, "en") >= COMMON_FROM for word in re.split(r"[- ]", name.lower()))


@functools.cache
def town_names() -> frozenset[str]:
    """Read once per process (about 0.8 s): the list is the same for every note."""
    import zipcodes

    names = set()
    for record in zipcodes.list_all():
        names.add(record["city"])
        names.update(record.get("acceptable_cities") or ())
    return frozenset(names)
