"""Towns and organisations named with no label around them ("she lived in Tuckahoe", "treated in the Ossining
program"): the identifier scan's gazetteer layer for places.

The context rules in phi.py find a place when something marks it (a street number, a state after a comma, a facility
word). A town said plainly has no such mark, so this layer looks capitalised words up in the U.S. place names of the
`zipcodes` package (every post-office city and its accepted alternative names, about 25,000, shipped in the wheel:
nothing is downloaded), in two positions:
- a town after "in", "from", "at" or "near", unless it is one of the most common English words ("in Normal saline":
  Zipf frequency 5 or more in `wordfreq`), a state ("in Florida" identifies no one), or an eponym: a town followed by
  a lower-case word other than a function word, or a possessive ("from Mayo stand", "in Mayfield 3-point fixation",
  "from Berry's ligament"), is an instrument's or a structure's name;
- an organisation named after its town, after "the": one capitalised word before an organisation noun ("the Ossining
  program", "the Ossining weight loss program"), two before one or before the end of the phrase ("the Riverside
  Ossining, and ..."), three or more before anything: the more capitalised words run together, the surer it is a
  proper name and not an instrument ("the Foley.", "the Babcock and ...").
Measured on the hand-labelled MTSamples notes (benchmarks/phi_real.py, per layer).
"""

from __future__ import annotations

import functools
import re

COMMON_FROM = 5.0  # Zipf frequency: 5 is about once in every 100,000 words
STATE_NAMES = ("Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware",
               "Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky",
               "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi", "Missouri",
               "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey", "New Mexico", "New York",
               "North Carolina", "North Dakota", "Ohio", "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island",
               "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah", "Vermont", "Virginia", "Washington",
               "West Virginia", "Wisconsin", "Wyoming")
# Nouns that a surgeon's or an anatomist's name is given to ("Kelly clamp", "Scarpa fascia", "Mayo Scissors").
EPONYM_NOUNS = {"clamp", "clamps", "forceps", "retractor", "retractors", "scissors", "fascia", "ligament",
               "disease", "syndrome", "sign", "maneuver", "incision", "drain", "drains", "catheter", "tube",
               "stitch", "stitches", "suture", "sutures", "technique", "procedure", "position", "pouch", "score",
               "needle", "dissector", "dissectors", "elevator", "curette", "rongeur", "dilator", "stent", "valve",
               "repair", "operation", "approach", "fracture", "line", "space", "canal", "test", "reflex",
               "classification", "method", "device", "blade", "probe", "hook", "table", "frame", "graft", "flap",
               "scale", "class", "criteria", "grade", "stage", "index", "protocol", "rule"}
# What may follow a town's name in a sentence; any other lower-case word makes it an eponym ("Mayo stand").
_FUNCTION_WORDS = {"and", "or", "but", "for", "to", "in", "on", "at", "of", "with", "by", "from", "where", "when",
                   "who", "which", "that", "since", "until", "as", "is", "was", "has", "had", "he", "she", "they",
                   "we", "i", "area", "about", "before", "after", "last", "this", "then", "recently"}
# Nouns that make the capitalised words before them an organisation's name ("the Ossining program").
_ORGANISATION_NOUNS = {"program", "programs", "clinic", "center", "centre", "hospital", "department", "office",
                       "practice", "group", "school", "company", "facility", "unit", "service", "services",
                       "association", "foundation", "system", "network", "corporation", "agency", "home"}
# A town's name: up to three capitalised words ("Tarrytown", "Salt Lake City", "Winston-Salem"); then what follows.
_AFTER_PLACE_WORD = re.compile(r"\b(?i:in|from|at|near)\s+([A-Z][a-z]+(?:[- ][A-Z][a-z]+){0,2})(?=(\s*[A-Za-z0-9]*))")
_ORGANISATION_TAIL = re.compile(rf"((?:\s[a-z]+){{0,3}}?)\s(?:{'|'.join(sorted(_ORGANISATION_NOUNS))})\b"
                                r"(?:\sof\s[a-z]+\b)?")
_AFTER_THE = re.compile(r"\b(?i:the)\s((?:[A-Z][a-z]+\s){0,3}[A-Z][a-z]+)(?=(\s[a-z]+|\s*[,.;:)]|\s[A-Z]|\s*$))")


def find_towns(text: str) -> list[tuple[int, int]]:
    """(start, end) of every U.S. town named after in / from / at / near, the longest known name first, and of every
    organisation named after its town after "the"."""
    found = []
    for match in _AFTER_PLACE_WORD.finditer(text):
        towns = town_names()  # loaded at the first candidate: most generated notes have none
        words = match.group(1).split(" ")
        for n in range(len(words), 0, -1):
            name = " ".join(words[:n])
            if name in towns or name.replace("-", " ") in towns:  # "Winston-Salem" is filed as "Winston Salem"
                end = match.start(1) + len(name)
                follower = match.group(2).strip() if n == len(words) else words[n]
                possessive = text[end:end + 1] in ("'", "\u2019")  # "Berry's ligament", "Scarpa's fascia"
                if not (_common_word(name) or name in STATE_NAMES or possessive or _eponym_before(follower)):
                    found.append((match.start(1), end))
                break
    for match in _AFTER_THE.finditer(text):
        words, follower = match.group(1).split(), match.group(2).strip()
        # An organisation noun within the next four words, with no eponym's noun before it ("the Ossining weight loss
        # program", not "the Foley catheter drainage system"); its own words go with it ("... department of health").
        tail = _ORGANISATION_TAIL.match(text, match.end(1))
        if tail and any(word in EPONYM_NOUNS for word in tail.group(1).split()):
            tail = None
        named = len(words) >= 3 or tail is not None or (
            len(words) == 2 and (not follower.islower() or follower in _FUNCTION_WORDS))
        eponym = any(word.lower() in EPONYM_NOUNS for word in (*words, follower))  # "the Glasgow Coma Scale"
        if named and not eponym and _holds_a_town(words):
            found.append((match.start(1), tail.end() if tail else match.end(1)))
    return found


def _eponym_before(follower: str) -> bool:
    """A town's name followed by a number or a lower-case content word names a thing, not a place."""
    return bool(follower) and (follower[0].isdigit() or (follower.islower() and follower not in _FUNCTION_WORDS))


def _holds_a_town(words: list[str]) -> bool:
    towns = town_names()
    for n in (3, 2):  # a town of several words is distinctive however common its words ("New York", "Salt Lake City")
        if any(" ".join(words[i:i + n]) in towns for i in range(len(words) - n + 1)):
            return True
    return any(word in towns and not _common_word(word) for word in words)  # a state too: "the Ohio program"


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
