"""Names with no cue around them ("support groups with Megan Halvorsen", "Emma was brought to the operating room"): the
identifier scan's given-name layer.

The context rules in phi.py find a name when something marks it (a title, a label, a relative, "..., MD", "Instructed
Omar to"). A name said plainly has no such mark, so this layer looks for a given name from Faker's lists (its U.S.
`first_names`, and those of its other English-speaking locales that are not common English words: about 8,500 in all,
shipped in the wheel) in two places:
- before a rare capitalised word in the middle of a sentence (`wordfreq` Zipf frequency below 3: "Halvorsen", not
  "Grace Period");
- as the subject of what a note tells of its patient ("Emma was ...", "Liam tolerated ..."), not after a determiner,
  a size or a hyphen ("a Parker was placed", "a #15 Bard-Parker").
Eponyms pass because their first word is not a given name ("Foley Catheter", "Allis Clamp"); the given names that
open an instrument's name, and those that are clinical words ("French", "Iris"), are left out. Measured on the
hand-labelled MTSamples notes (benchmarks/phi_real.py, per layer).
"""

from __future__ import annotations

import functools
import re

RARE_BELOW = 3.0
COMMON_FROM = 4.5  # a given name from a locale other than en_US must be rarer than this as a word ("Will", "Rose")
_LATIN_NAME = re.compile(r"[A-Z][a-z]+")
_CLINICAL_WORDS = {"French", "Iris", "Cord", "Bell", "Graves", "Addison", "Crystal", "Chase", "Hunter", "Page"}
# Given names that open an instrument's or a drain's name in operative notes ("Kelly Hemostat", "Jackson Pratt").
_INSTRUMENT_EPONYMS = {"Kelly", "Jackson"}
# Not after a full stop, a colon or a line break: a heading or a sentence's first word is capitalised anyway.
_TWO_CAPITALISED = re.compile(r"(?<![.:\n] )\b([A-Z][a-z]+) ([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b")
# A given name as the subject of what a note says its patient did or had done ("Emma was placed under general
# anesthesia", "Liam tolerated the procedure well"), anywhere in a sentence; not after a determiner ("a Parker was").
_NARRATIVE_VERBS = ("was", "is", "has", "had", "presents", "presented", "returns", "returned", "reports", "reported",
                    "states", "stated", "denies", "denied", "tolerated", "underwent", "continues", "complains",
                    "complained", "arrived", "came", "went")
_SUBJECT = re.compile(rf"\b([A-Z][a-z]+) (?:{'|'.join(_NARRATIVE_VERBS)})\b")
# Nor after a size or a hyphen: "a #15 Bard-Parker was then used" names a blade.
_DETERMINER_BEFORE = re.compile(r"(?:\b(?i:a|an|the|this|that|another|one|each|his|her|their)[ \t]+|#?\d+[ \t]+|-)$")


def find_full_names(text: str) -> list[tuple[int, int]]:
    """(start, end) of every given name followed by a rare capitalised word, or said as the subject of a narrative
    verb."""
    from wordfreq import zipf_frequency

    found = []
    for match in _TWO_CAPITALISED.finditer(text):
        first = match.group(1)
        if match.start() == 0 or first not in given_names() or first in _INSTRUMENT_EPONYMS:
            continue
        if zipf_frequency(match.group(2).lower().replace("-", " "), "en") < RARE_BELOW:
            found.append(match.span())
    for match in _SUBJECT.finditer(text):
        name = match.group(1)
        if name in given_names() and name not in _INSTRUMENT_EPONYMS and not _DETERMINER_BEFORE.search(
                text[max(0, match.start() - 12):match.start()]):
            found.append(match.span(1))
    return found


@functools.cache
def given_names() -> frozenset[str]:
    """Faker's U.S. given names, and those of its other English-speaking locales (Aisha, Kwame, Priya, Tomas: a
    clinic's patients come from everywhere) that are not common English words; less the few that are clinical words
    ("a 16 French catheter", "the iris")."""
    import importlib
    import pkgutil

    import faker.providers.person as people
    from faker.providers.person.en_US import Provider
    from wordfreq import zipf_frequency

    names = set(Provider.first_names)
    for locale in pkgutil.iter_modules(people.__path__):
        if locale.name == "en" or locale.name.startswith("en_"):
            provider = importlib.import_module(f"{people.__name__}.{locale.name}").Provider
            for attribute in ("first_names", "first_names_male", "first_names_female"):
                listed = getattr(provider, attribute, ())
                if isinstance(listed, (tuple, list, dict)):  # some locales define these as properties
                    names.update(name for name in listed if _LATIN_NAME.fullmatch(name)
                                 and zipf_frequency(name.lower(), "en") < COMMON_FROM)
    return frozenset(names - _CLINICAL_WORDS)
