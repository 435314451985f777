"""A patient-identifier scan for the HIPAA Safe Harbor classes that clinical text can carry.

Offline tools we tried missed names, record numbers and dates (../shared/reference/evaluation.md), and the good NER
models need downloads, so this is a set of context rules: a label ("MRN:", "Fax", "Member ID") or a shape (an e-mail,
a dotted IP, a date with a day in it) marks the identifier, and clinical look-alikes (blood pressures, doses, lab
values, hospital days, bare years) are left alone. `benchmarks/phi_scan.py` measures recall and precision per class on
identifiers the generator planted, `benchmarks/phi_real.py` on real notes we labelled by hand. A named facility
("... General Hospital", "University of ...", "the VA") is a place by its last words; a town with no such mark, or an
organisation named after one, is looked up in a gazetteer (places.py), and a given name before a rare capitalised
word or as the subject of what the note tells is a name (full_names.py): the layers that need no cue.

Findings carry positions, never the identifier's text, and each covers the whole word it touches ("Dr. McDevitt" is
one name, not "Mc" and the rest). `masked_snippet` shows the context with every identifier in it replaced by its
class, and every other occurrence of a found identifier's words too, so that no fragment of one is ever printed.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from clintune.data.full_names import find_full_names, given_names
from clintune.data.places import STATE_NAMES, find_towns

CLASSES = ("name", "date", "age", "phone", "fax", "email", "ssn", "mrn", "account", "health_plan", "license",
           "vehicle", "device", "address", "place", "zip", "url", "ip")

# A name word: "Lopez", "McDevitt", "DeLuca", "O'Neil", "Smith-Jones"; a surname may start with a particle ("van der
# Berg") and a full name with initials ("J. R. Smith", "J.R. Smith").
_NAME = r"(?:[A-Z]['’][A-Z][a-z]+|[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:-[A-Z][a-z]+)*)"
_PARTICLES = r"(?:(?:van|von|de|der|den|del|della|di|da|du|la|le|ten|ter|bin|ibn|al|el) )*"
_FULL_NAME = rf"(?:[A-Z]\. ?){{0,2}}{_PARTICLES}{_NAME}(?: [A-Z]\.)?(?: {_PARTICLES}{_NAME}){{0,2}}"
_LAST_FIRST = rf"{_NAME}, ?{_NAME}(?: [A-Z]\.)?"
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
          r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_FULL_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
# MD and PA are also degrees ("Ana Lee, MD"), so after a comma they count as states only before a ZIP code.
_STATES = ("AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND"
           "|OH|OK|OR|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY")
_STATE_NAMES = "|".join(STATE_NAMES)
# A named facility or employer ends in one of these ("Massachusetts General Hospital", "St. Mary's Medical Center").
_FACILITY = (r"(?:Hospital|Medical Center|Medical Centre|Health Center|Health System|Clinic|University|College"
             r"|Institute|Nursing Home|Rehabilitation Center|Surgery Center|Surgical Center|Cancer Center)")
_STREET = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Circle"
           r"|Highway|Hwy|Parkway|Pkwy)")
_NUMBER_SEP = r"\s?(?i:#|no\.?|number)?\s?[:#]?\s?"
_CODE = r"([A-Z0-9][A-Z0-9-]{4,}[A-Z0-9])"  # a code must also contain a digit; checked in _valid
_PHONE = r"(?:\+?1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}"
_END = r"(?![\d/-]|\.\d)"  # not followed by more of a number; a sentence's full stop is fine

# Words that look like names after a label but are the note's own vocabulary.
_NOT_NAMES = {"Discharge", "Hospital", "Admission", "History", "Service", "Pending", "Follow", "Physical", "The",
              "Patient", "Unknown", "None", "Not", "Pt", "Name", "Seen", "Admitted", "Denies", "Lives", "On", "At",
              "Mom", "Dad", "Mother", "Father", "Parents", "Family", "Staff", "Nursing", "Him", "Her", "Them", "Both"}

_FACILITY_WORDS = {"Hospital", "Medical", "Center", "Centre", "Health", "System", "Clinic", "University", "College",
                   "Institute", "Nursing", "Home", "Rehabilitation", "Surgery", "Surgical", "Cancer", "General", "St",
                   "of"}
# A note's own headings and generic wards that end in a facility word but name no place ("Brief Hospital Course").
_NOT_FACILITIES = _NOT_NAMES | {"Brief", "General", "Past", "Outpatient", "Inpatient", "Emergency", "Outside", "Local",
                                "Regional", "Community", "Teaching", "Day", "Walk", "Pain", "Urgent", "Free", "Of"}

# A clinic named for its specialty only ("the Pediatric Urology Clinic") is a department, not a place that identifies;
# a children's, women's, heart or eye hospital is an institution (few in a city), so those words are not here.
_DEPARTMENT_WORDS = {
    "Pediatric", "Pediatrics", "Adult", "Urology", "Urologic", "Cardiology", "Cardiac", "Orthopedic", "Orthopedics",
    "Orthopaedic", "Neurology", "Neurosurgery", "Neurosurgical", "Oncology", "Radiology", "Dermatology",
    "Gastroenterology", "GI", "Pulmonary", "Renal", "Nephrology", "Endocrinology", "Rheumatology", "Psychiatry",
    "Psychiatric", "Ophthalmology", "ENT", "Otolaryngology", "Obstetrics", "Gynecology", "Family", "Internal",
    "Medicine", "Plastic", "Vascular", "Trauma", "Burn", "Wound", "Sleep", "Allergy", "Infectious", "Disease",
    "Diseases", "Hematology", "Transplant", "Breast", "Spine", "Hand", "Sports", "Primary", "Care", "Dialysis",
    "Geriatric", "Geriatrics", "Hepatology", "Colorectal", "Bariatric", "and", "&"} | _FACILITY_WORDS
_NAME_LABELS = ("patient name", "patient", "pt name", "pt", "name", "attending", "pcp", "primary care physician",
                "resident", "nurse", "seen by", "signed by", "dictated by", "cosigned by", "emergency contact",
                "contact", "next of kin", "nok", "health care proxy", "hcp", "guardian", "referring physician")
_RELATIVES = ("wife", "husband", "daughter", "son", "mother", "father", "sister", "brother", "partner", "spouse",
              "friend", "niece", "nephew", "grandson", "granddaughter", "caregiver")

_INSTRUCTING = ("instructed", "told", "advised", "asked", "encouraged", "reminded", "informed", "counseled",
                "counselled", "taught", "reassured")
# Hospital units are initials too, and identify no one ("seen at ED", "transferred at ICU").
_UNITS = {"ER", "ED", "OR", "ICU", "PACU", "NICU", "PICU", "CCU", "SICU", "MICU", "CVICU", "ICN", "SNF", "LTAC",
          "CT", "MRI", "EKG", "ECG", "EEG", "ENT", "GI", "OB", "PT", "OT", "OSH", "AM", "PM"}
# (class, pattern, group holding the identifier, needles). Label words match case-insensitively with (?i:...), the
# identifier itself case-sensitively, so "Patient: John Smith" matches and "patient: no acute distress" does not.
# Labelled rules come first: "MRN: 45-07-2014" is a record number, not a date. A rule runs only on text that contains
# one of its needles (lower-case), which keeps a clean note's scan cheap.
_RULE_TABLE = (
    ("email", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", 0, ("@",)),
    ("url", r"\b(?:https?://|www\.)[^\s<>\"')\]]+[^\s<>\"')\].,;]", 0, ("http", "www.")),
    ("ip", r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)" + _END, 0, ()),
    ("ssn", r"\b(?i:ssn|social security(?: number| no\.?)?)\s?[:#]?\s?(\d{9}|\d{3} \d{2} \d{4})\b", 1,
     ("ssn", "social security")),
    ("fax", rf"(?i:\bfax(?:ed)?(?: to| no\.?| number| ?#)?)\s?[:.]?\s?({_PHONE})", 1, ("fax",)),
    ("mrn", r"\b(?i:mrn|medical record|med\.? rec(?:ord)?\.?|unit no\.?|hospital number)" + _NUMBER_SEP
            + r"([A-Z]{0,3}\d[\d-]{4,}\d)", 1, ("mrn", "record", "med rec", "unit no", "hospital number")),
    ("account", r"\b(?i:acct\.?|account|billing account|encounter|fin)" + _NUMBER_SEP + r"([A-Z]{0,3}\d[\d-]{4,}\d)",
     1, ("acct", "account", "encounter", "fin")),
    ("health_plan", r"\b(?i:member id|member|subscriber id|policy|insurance id|insurance|plan id|health plan"
                    r"|medicare id|medicare|medicaid id|medicaid|beneficiary id)" + _NUMBER_SEP + _CODE, 1,
     ("member", "subscriber", "policy", "insurance", "plan", "medicare", "medicaid", "beneficiary")),
    ("vehicle", r"\b(?i:licen[sc]e plate|plate|vin|vehicle id)" + _NUMBER_SEP + _CODE, 1, ("plate", "vin", "vehicle")),
    ("license", r"\b(?i:driver'?s licen[sc]e|licen[sc]e(?! plate)|dl|dea|npi|certificate)" + _NUMBER_SEP + _CODE, 1,
     ("licen", "dl", "dea", "npi", "certificate")),
    ("device", r"\b(?i:serial(?: no\.?| number)?|s/n|sn|device id|udi|lot)\s?[:#.]?\s?"
               r"([A-Z0-9][A-Z0-9()./-]{4,}[A-Z0-9])", 1, ("serial", "s/n", "sn", "device", "udi", "lot")),
    ("zip", rf"\b(?:{_STATES}|MD|PA) (\d{{5}}(?:-\d{{4}})?)\b", 1, ()),
    ("zip", r"\b(?i:zip(?: code)?)[: ] ?(\d{5}(?:-\d{4})?)\b", 1, ("zip",)),
    ("ssn", r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])", 0, ("-",)),
    ("phone", rf"(?<![\d-]){_PHONE}(?![\d-])", 0, ()),
    ("phone", r"\b(?i:call|phone|tel|telephone|pager|cell)\b[^.\n\d]{0,24}(?<![\d-])(\d{3}-\d{4})(?![\d-])", 1,
     ("call", "phone", "tel", "pager", "cell")),
    ("date", r"\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b", 0, ("-",)),
    ("date", r"(?<![\d/.])\d{1,2}([/.-])\d{1,2}\1(?:19|20)?\d{2}" + _END, 0, ()),
    ("date", rf"\b{_MONTH}\.? \d{{1,2}}(?:st|nd|rd|th)?(?:,? (?:19|20)\d{{2}})?\b", 0, ()),
    ("date", rf"\b\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH}\.?(?:,? (?:19|20)\d{{2}})?\b", 0, ()),
    ("date", rf"\b{_MONTH}\.?,? (?:of )?(?:19|20)\d{{2}}\b", 0, ()),
    ("date", rf"\b\d{{1,2}}-{_MONTH}-(?:19|20)?\d{{2}}\b", 0, ("-",)),
    ("date", r"\b(?i:on|since|from|until|dated|admitted|discharged|dob|seen|d\.o\.b\.?)[: ] ?"
             r"((?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01]))(?![\d/])", 1, ("/",)),
    # A month and year ("7/2008"; "in 12/07", where the context rules out a fraction: pain scores are out of 10).
    ("date", r"(?<![\d/.])(?:0?[1-9]|1[0-2])/(?:19|20)\d{2}" + _END, 0, ("/",)),
    ("date", r"\b(?i:in|since|until|of|on|dated)\s((?:0?[1-9]|1[0-2])/(?!10\b)\d{2})(?![\d/])", 1, ("/",)),
    # A month on its own is a date element too ("cystoscopy in November", "biopsy June of this year").
    ("date", rf"\b(?i:in|since|until|during|by|early|late|mid|of|through)[ -]({_FULL_MONTH})\b", 1, ()),
    ("date", rf"\b({_FULL_MONTH}) of (?:this|last|next) year\b", 1, (" year",)),
    ("date", r"\b(?:Thanksgiving|Christmas(?: Eve| Day)?|New Year'?s(?: Eve| Day)?|Easter|Halloween|Memorial Day"
             r"|Labor Day|Independence Day|Fourth of July|Valentine'?s Day)\b", 0, ()),
    ("age", r"\b((?:9\d|1[01]\d) ?(?:-? ?(?:year|yr)s?[- ]old|y/?o\b|yo\b))", 1, ()),
    ("age", r"\b(?i:age[d:]?|aged) ?((?:9\d|1[01]\d))\b", 1, ("age",)),
    ("age", r"\b(?i:pt|patient) is (9\d|1[01]\d)\b(?! ?(?:mg|kg|%|cm|mm|bpm|/))", 1, (" is ",)),
    ("address", rf"\b\d{{1,5}} (?:[A-Z][a-z]+ ){{1,3}}{_STREET}\b\.?(?:,? (?:Apt|Unit|Suite)\.? ?\w+)?", 0, ()),
    ("address", rf"\b([A-Z][a-z]+(?: [A-Z][a-z]+)?), (?:(?:{_STATES})\b(?= \d{{5}}|[.,;]|$)|(?:MD|PA)(?= \d{{5}}))",
     1, (", ",)),
    # A town before a state written out ("Tarrytown, New York"); a named facility, with no cue needed around it.
    ("address", rf"\b([A-Z][a-z]+(?: [A-Z][a-z]+)?), (?:{_STATE_NAMES})\b", 1, (", ",)),
    ("place", rf"\b((?:St\.? )?(?:[A-Z][A-Za-z'’&.-]*[a-z] ){{1,4}}{_FACILITY})\b", 1,
     ("hospital", "medical cent", "health", "clinic", "universit", "college", "institute", "nursing home", "center")),
    ("place", r"\b((?:University|College|Institute) of (?:[A-Z][a-z]+ ?){1,3})", 1, (" of ",)),
    ("place", r"(?<=\bthe )VA\b(?: (?:Hospital|Medical Center|Clinic))?", 0, ("va",)),
    # A facility known by its initials, said where a place is expected ("the urology clinic at UCSF", "seen at MGH").
    ("place", r"\b(?i:clinic|hospital|center|centre|seen|followed|follow[- ]?up|treated|admitted|transferred"
              r"|evaluated|managed)\s(?i:at)\s(?:the\s)?([A-Z]{2,6})\b", 1, (" at ",)),
    ("name", rf"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)(?:\. ?| )({_FULL_NAME})", 1, ("mr", "ms", "miss", "dr", "prof")),
    ("name", rf"\b(?i:{'|'.join(_NAME_LABELS)}) ?[:#-] ?(?:Dr\.? )?({_LAST_FIRST}|{_FULL_NAME})", 1, (":", "#", "-")),
    ("name", rf"\b(?i:{'|'.join(_RELATIVES)}),? ({_FULL_NAME})", 1, _RELATIVES),
    # A patient called by a first name in the plan ("Instructed Omar to avoid caffeine", "Reassured Anna that ...").
    ("name", rf"\b(?i:{'|'.join(_INSTRUCTING)})\s({_NAME})(?=\s(?:to|that|about|regarding|how|not)\b)",
     1, _INSTRUCTING),
    ("name", rf"(?:^|(?<=[.\n] )|(?<=\n))({_NAME} (?:[A-Z]\. )?{_NAME}) (?:is|was) an? \d", 1, (" is a", " was a")),
    ("name", rf"\b({_NAME} (?:[A-Z]\. )?{_NAME}),? (?:MD|M\.D\.|RN|NP|PA-C|DO)\b", 1, ("md", "m.d.", "rn", "np",
                                                                                      "pa-c", "do")),
)
RULES: tuple[tuple[str, re.Pattern, int, tuple[str, ...]], ...] = tuple(
    (cls, re.compile(pattern), group, needles) for cls, pattern, group, needles in _RULE_TABLE
)


@dataclass(frozen=True)
class Finding:
    row: int
    column: str
    cls: str
    start: int
    end: int

    def as_json(self) -> dict:
        return {"row": self.row, "column": self.column, "class": self.cls}


def _valid(cls: str, text: str) -> bool:
    if cls in ("health_plan", "vehicle", "license", "device") and not any(ch.isdigit() for ch in text):
        return False
    if cls == "name":
        return text.split()[0].rstrip(",") not in _NOT_NAMES
    if cls == "place":
        words = text.split()
        return words[0] not in _NOT_FACILITIES and text not in _UNITS and not all(w in _DEPARTMENT_WORDS for w in words)
    return True


def find_identifiers(text: str, gazetteers: bool = True) -> list[tuple[str, int, int]]:
    """(class, start, end) of every identifier in `text`, each widened to the whole words it touches; overlapping
    matches keep the earlier rule's class. `gazetteers=False` leaves out the layers that look words up in lists of
    towns and given names (the benchmarks measure each layer)."""
    spans: list[tuple[str, int, int]] = []
    lowered = text.lower()
    for cls, pattern, group, needles in RULES:
        if needles and not any(needle in lowered for needle in needles):
            continue
        for match in pattern.finditer(text):
            start, end = match.span(group)
            if start < 0 or not _valid(cls, match.group(group)):
                continue
            start, end = whole_words(text, start, end)
            if any(start < e and s < end for _, s, e in spans):
                continue
            spans.append((cls, start, end))
    if not gazetteers:
        return sorted(spans, key=lambda span: span[1])
    # The second layer: a town after a preposition, a given name before a rare capitalised word.
    looked_up = [("place", *span) for span in find_towns(text)] + [("name", *span) for span in find_full_names(text)]
    for cls, start, end in looked_up:
        start, end = whole_words(text, start, end)
        if any(start < e and s < end for _, s, e in spans):
            continue
        # A proper name goes on past a looked-up word ("from Jackson Miller at": the town list knows "Jackson"); the
        # finding takes the capitalised words that follow, or the masked context would print the rest of the name.
        # A town that is also a given name, followed by another capitalised word, is a person ("Jackson Miller").
        more = _PROPER_NOUN_GOES_ON.match(text, end)
        if more and not any(end <= s < more.end() for _, s, _ in spans):
            cls = "name" if cls == "place" and text[start:end] in given_names() else cls
            end = more.end()
        spans.append((cls, start, end))
    return sorted(spans, key=lambda span: span[1])


def scan_rows(rows: Iterable[dict], columns: Iterable[str]) -> Iterator[Finding]:
    """Findings for every text cell, rows numbered from 0 in input order. A text seen before (a note asked several
    questions) is scanned once: its findings are remembered by a digest of the text, not the text."""
    columns = list(columns)
    known: dict[bytes, list[tuple[str, int, int]]] = {}
    for row_number, row in enumerate(rows):
        for column in columns:
            value = row.get(column)
            if isinstance(value, str):
                digest = hashlib.blake2b(value.encode(), digest_size=16).digest()
                if digest not in known:
                    known[digest] = find_identifiers(value)
                for cls, start, end in known[digest]:
                    yield Finding(row_number, column, cls, start, end)


_PROPER_NOUN_GOES_ON = re.compile(r"(?: [A-Z][A-Za-z'\u2019-]*[a-z])+")
_JOINERS = "'\u2019-"  # inside a word when letters or digits stand on both sides: O'Neil, Smith-Jones


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """The span widened to the whole words at its ends: a match that stops inside a word ("Mc" of "McDevitt", a name
    glued to the next word) would leave the rest of the word to be printed."""
    def inside(i: int) -> bool:  # is text[i] part of the word around it?
        if text[i].isalnum():
            return True
        return text[i] in _JOINERS and 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()

    while start > 0 and inside(start - 1):
        start -= 1
    while end < len(text) and inside(end):
        end += 1
    return start, end


def masks(text: str) -> list[tuple[str, int, int]]:
    """What a masked view of `text` hides: every identifier, and every other occurrence of an identifier's words (a
    surname said again without its title), as merged (class, start, end) spans in order."""
    found = find_identifiers(text)
    word_class = {word: cls for cls, s, e in found for word in re.findall(r"\w{2,}", text[s:e])
                  if not (cls == "place" and word in _FACILITY_WORDS)}  # "Hospital" said again names no one
    spans = list(found)
    if word_class:
        words = sorted(word_class, key=len, reverse=True)
        for match in re.finditer(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", text):
            spans.append((word_class[match.group()], *whole_words(text, *match.span())))
    merged: list[tuple[str, int, int]] = []
    for cls, start, end in sorted(spans, key=lambda span: span[1]):
        if merged and start <= merged[-1][2]:
            merged[-1] = (merged[-1][0], merged[-1][1], max(merged[-1][2], end))
        else:
            merged.append((cls, start, end))
    return merged


def masked_snippet(text: str, finding: Finding, width: int = 24) -> str:
    """The context around a finding, every identifier in it (and every other occurrence of an identifier's words)
    replaced by [CLASS]; no character of an identifier is ever shown."""
    lo, hi = max(0, finding.start - width), min(len(text), finding.end + width)
    pieces, cursor = [], lo
    for cls, start, end in masks(text):
        if end <= lo or start >= hi:
            continue
        pieces.append(text[cursor:max(cursor, start)])
        pieces.append(f"[{cls.upper()}]")
        cursor = max(cursor, end)
    pieces.append(text[cursor:hi])
    snippet = "".join(pieces).replace("\n", " ")
    return ("…" if lo > 0 else "") + snippet + ("…" if hi < len(text) else "")


def summarize_findings(findings: list[Finding]) -> dict:
    """The scan result a data card records: counts per class and the rows involved, no text."""
    return {
        "findings": len(findings),
        "rows_with_findings": len({f.row for f in findings}),
        "by_class": dict(sorted(Counter(f.cls for f in findings).items())),
    }
