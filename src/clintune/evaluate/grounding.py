"""Grounding: which clinical content an answer asserts that its note does not hold.

    spans = unsupported_spans(answer, note, question)   # [{"text": "ceftriaxel 500 mg", "kind": "medication"}, ...]

An answer asserts content of five kinds: numbers (doses, sizes, values, with their units), dates and times,
abbreviations, medication names, and clinical terms (procedures, findings, anatomy, diagnoses). Each is looked up in
the note:
- a number is supported when the same value appears in the note (4 = 4.0 = four);
- an abbreviation when the note uses it, or spells out a phrase with its initials;
- a word when the note holds it, a word of the same stem (Porter), or a lay or clinical twin ("kidney" for
  "renal"), or when the answer spells out an abbreviation of the note with it ("transurethral resection of bladder
  tumor" for TURBT).
What the question says is given, not asserted, so it counts as support too. Sentences that say the note lacks the
information ("The note does not mention the dose") assert nothing and are skipped.

Which words are clinical content: rare English words (Zipf frequency below 3.5 in `wordfreq`'s English list, so
drug names, procedures and invented words such as "viperin" all qualify), a short list of common words that carry
clinical facts (organs, laterality, frequent diagnoses), and nothing in a list of generic clinical wording that
states no fact ("underwent", "tolerated"). Adjacent unsupported words form one span.

How well this agrees with people: docs/evaluation.md (precision and recall against the hand labels in
benchmarks/grounding_labels.jsonl).
"""

from __future__ import annotations

import re
from functools import lru_cache

from clintune.evaluate.metrics import UNANSWERABLE

RARE_BELOW = 3.5  # Zipf frequency: 3.5 is about 3 per million words ("hypertension" 3.4, "bladder" 3.6)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Common English words that state a clinical fact: an answer that names the wrong side or organ is wrong.
CLINICAL_COMMON = _words("""
    left right bilateral upper lower anterior posterior heart kidney kidneys liver lung lungs brain blood bladder bone
    bones chest stomach bowel breast prostate eye eyes knee hip spine skin throat neck arm leg foot hand shoulder back
    tumor tumour cancer mass stone stones pain fever infection stroke diabetes pressure fracture surgery biopsy scan
    injury bleeding cough nausea vomiting weight male female man woman boy girl daily weekly monthly hourly""")
# Clinical wording that names no fact of the case: never a span on its own.
GENERIC = _words("""
    underwent undergo undergoes tolerated uneventful uneventfully postoperative preoperative postop preop
    intraoperative procedure procedures diagnosis diagnoses diagnosed treatment treated medication medications
    condition conditions finding findings abbreviation abbreviations note notes summary discharge discharged admission
    admitted hospital hospitalization evaluation evaluated examination noted revealed showed presented presents
    patient patients history complaint complaints symptoms symptom clinical therapy plan follow followup outpatient
    inpatient unremarkable consistent significant mild moderate severe stable normal abnormal status chronic acute
    sentence paraphrase refers concise accurate detailed instruction instructions response""")
# Lay and clinical words for the same thing: a paraphrase for a patient says "kidney" where the note says "renal".
TWINS = tuple(_words(group) for group in (
    "kidney kidneys renal nephro", "heart cardiac cardio", "lung lungs pulmonary respiratory", "liver hepatic",
    "cancer carcinoma malignancy malignant neoplasm", "tumor tumour mass lesion neoplasm growth",
    "stone stones calculus calculi lithiasis", "blood hematologic haemorrhage hemorrhage bleeding",
    "man male gentleman m", "woman female lady f", "skin cutaneous dermal", "brain cerebral",
    "bowel intestine intestinal colon", "stomach gastric", "bone osseous", "urine urinary", "vein venous",
    "artery arterial", "testicle testicles testis testes testicular scrotal scrotum", "belly abdomen abdominal",
    "eye ocular ophthalmic", "fever febrile pyrexia", "breathing respiratory", "swelling edema oedema",
    "numbing anesthesia anesthetic", "hypertension htn", "hyperlipidemia hld", "diabetes dm", "fracture fx",
    "history hx", "diagnosis dx", "treatment tx", "symptoms sx"))
_COUNTS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
           " seventeen eighteen nineteen twenty")
NUMBER_WORDS = {word: str(value) for value, word in enumerate(_COUNTS.split())} | {
    "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
    "hundred": "100"}
MONTHS = _words("january february march april may june july august september october november december")
DRUG_ENDINGS = ("cillin", "mycin", "floxacin", "cycline", "azole", "statin", "pril", "sartan", "olol", "dipine",
                "prazole", "tidine", "parin", "caine", "micin", "vir", "mab", "nib", "triaxone", "zepam", "zolam",
                "sone", "olone", "ine", "in", "ol", "il", "ide", "xel")
UNITS = _words("mg mcg g kg ml mL cc l L cm mm m mmHg % units unit iu meq mEq mmol bpm hours hour days day weeks week"
               " wk wks months month mo years year yr yrs minutes minute min h hr hrs")
LITTLE_WORDS = _words("of the and with in to on for a an by")
_TOKEN = re.compile(r"\d+(?:[.,/:]\d+)*%?|[A-Za-z][A-Za-z'\-]*(?:/[A-Za-z][A-Za-z']*)*")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_LIST_MARKER = re.compile(r"^\s*(?:\d{1,2}[.)]?|[-*•])(?:\s+|$)", re.MULTILINE)
_DEFINITION = re.compile(r"\b(?P<abbreviation>[A-Za-z][A-Za-z0-9&/'\-]{1,9})['\"]?\s+(?:stands for|means|is short for|"
                         r"is an abbreviation for)\s+(?:the\s+)?(?P<expansion>[^.;]+)")
TRUNCATED_WORDS = 25  # an answer this long that ends without punctuation hit the token limit
# Shorthand whose expansion is not its initials (Latin, clinical habit): the one meaning an answer may give it.
SHORTHAND = {"po": "by mouth", "bid": "twice daily", "tid": "three times daily", "qid": "four times daily",
             "prn": "as needed", "qhs": "at bedtime", "npo": "nothing by mouth", "tx'd": "treated",
             "tx": "treatment", "etoh": "alcohol", "hx": "history", "dx": "diagnosis", "sx": "symptoms",
             "fx": "fracture", "rx": "prescription", "htn": "hypertension", "hld": "hyperlipidemia"}
_NOTE_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
# Shorthand whose words say what a number measures ("HD 11" is a hospital day).
CONTEXT_ABBREVIATIONS = {"hd": ("hospital", "day"), "pod": ("postoperative", "day"), "ebl": ("blood", "loss"),
                         "y/o": ("year", "old"), "yo": ("year", "old"), "d/c'd": ("discharged",),
                         "d/c": ("discharge",), "f/u": ("follow",), "ef": ("ejection", "fraction"),
                         "lvef": ("ejection", "fraction"), "bp": ("blood", "pressure"), "hr": ("heart", "rate")}
# Words that say nothing about what a number measures.
_NOT_CONTEXT = _words("the and was were with for has had his her this that are from patient note which who "
                      "she him there been into than not")
_KIND_ORDER = ("medication", "number", "date", "abbreviation", "term")


def unsupported_spans(answer: str, note: str, question: str = "") -> list[dict]:
    """The answer's clinical content that neither the note nor the question holds, as [{"text", "kind"}]."""
    support = _Support(f"{note}\n{question}")
    spans: list[dict] = []
    answer = _LIST_MARKER.sub("", answer)  # "2. Aspirin": the 2 numbers a list, it asserts nothing
    if len(answer.split()) >= TRUNCATED_WORDS and answer.rstrip()[-1].isalnum():
        answer = answer.rstrip().rsplit(None, 1)[0]  # a long answer cut off mid-word by the token limit
    for sentence in _SENTENCE.split(answer):
        if not sentence.strip() or UNANSWERABLE.search(sentence):
            continue
        sentence = _check_definition(sentence, support, spans)
        run: list[tuple[str, str]] = []  # adjacent unsupported tokens (text, kind)
        tokens = _TOKEN.findall(sentence)
        spelled = _expansion_tokens(tokens, support.abbreviations)
        context = _context(tokens)
        for index, token in enumerate(tokens):
            kind = None if index in spelled or _left_as_verb(tokens, index) else _content_kind(token)
            if kind and not support.holds(token, kind, context, _unit(tokens, index) if kind == "number" else ""):
                run.append((token, kind))
                continue
            if kind is None and run and _is_unit(token):
                run.append((token, "unit"))  # "500 mg": the unit belongs to its number
                continue
            _close(run, spans)
        _close(run, spans)
    return spans


def _left_as_verb(tokens: list[str], index: int) -> bool:
    """"left the hospital", "left for home": a departure, not a side."""
    following = tokens[index + 1].lower() if index + 1 < len(tokens) else ""
    return tokens[index].lower() == "left" and (following in LITTLE_WORDS or following in ("home", "hospital"))


def _check_definition(sentence: str, support: _Support, spans: list[dict]) -> str:
    """"ESWL stands for emergency surgical endoscopy": the abbreviation must be the note's, and its expansion written
    in the note, spell the abbreviation, or be its one meaning as shorthand. Returns what is left to check word by
    word: the sentence before the abbreviation."""
    match = _DEFINITION.search(sentence)
    abbreviation = match["abbreviation"] if match else ""
    if not match or not (sum(ch.isupper() for ch in abbreviation) >= 2 or "/" in abbreviation):
        return sentence
    if f" {' '.join(_TOKEN.findall(abbreviation.lower()))} " not in support.token_text:
        spans.append({"text": abbreviation, "kind": "abbreviation"})
    expansion = match["expansion"].strip(" .'\"")
    letters = [ch.lower() for ch in abbreviation if ch.isalpha()]
    tokens = _TOKEN.findall(expansion)
    # Written out in the note ("monitored anesthesia care"); the abbreviation itself ("MAC stands for Mac") is not.
    in_note = len(tokens) >= 2 and f" {' '.join(expansion.lower().split())} " in f" {support.text} "
    shorthand = SHORTHAND.get(abbreviation.lower()) == expansion.lower()
    if not (in_note or shorthand) and _spell(tokens, 0, letters, alone_ok=True) is None:
        spans.append({"text": expansion, "kind": "abbreviation"})
    return sentence[: match.start("abbreviation")]


def _close(run: list[tuple[str, str]], spans: list[dict]) -> None:
    if run:
        kinds = [kind for _, kind in run if kind != "unit"]
        spans.append({"text": " ".join(text for text, _ in run), "kind": min(kinds, key=_KIND_ORDER.index)})
        run.clear()

def _is_unit(token: str) -> bool:
    return token in UNITS or token.lower() in UNITS


def _unit(tokens: list[str], position: int) -> str:
    """The unit written right after a number, normalised ("mL" = "cc", "days" = "day"), or ""."""
    if position + 1 >= len(tokens) or not (_is_unit(tokens[position + 1]) or tokens[position + 1] in _SAME_UNIT):
        return ""
    unit = tokens[position + 1].lower()
    unit = _SAME_UNIT.get(unit, unit)
    return unit[:-1] if unit.endswith("s") and len(unit) > 3 else unit


_SAME_UNIT = {"cc": "ml", "wk": "week", "wks": "week", "mo": "month", "yr": "year", "yrs": "year", "y/o": "year",
              "yo": "year", "year-old": "year", "years-old": "year", "hours": "h", "hour": "h", "hr": "h", "hrs": "h",
              "minutes": "min", "minute": "min"}


def _context(tokens: list[str]) -> set[str]:
    """Stems of a sentence's words that may say what its numbers measure, with spelled-out common abbreviations."""
    words = [part for t in tokens for part in t.lower().split("-") if part.isalpha() and len(part) > 1]
    words += [w for t in tokens for w in CONTEXT_ABBREVIATIONS.get(t.lower(), ())]
    return {_stem(w) for w in words if w not in _NOT_CONTEXT and len(w) > 2}


def _content_kind(token: str) -> str | None:
    """What kind of asserted content a token is, or None for wording that states no fact."""
    lower = token.lower()
    if token[0].isdigit() or lower in NUMBER_WORDS:
        return "number"
    if lower in MONTHS and token[0].isupper():
        return "date"
    if sum(ch.isupper() for ch in token) >= 2 and len(token) <= 8 and token.isalpha():
        return "abbreviation"
    if len(token) < 4 or lower in GENERIC or not token.replace("-", "").replace("'", "").isalpha():
        return None
    if lower in CLINICAL_COMMON or _rare(lower):
        return "medication" if _looks_like_drug(lower) else "term"
    return None


def _looks_like_drug(word: str) -> bool:
    return _rare(word) and word.endswith(DRUG_ENDINGS) and len(word) >= 6


@lru_cache(maxsize=65536)
def _rare(word: str) -> bool:
    from wordfreq import zipf_frequency

    parts = [p for p in word.split("-") if p]  # "papillary-appearing": rare if any part is
    return any(zipf_frequency(part, "en") < RARE_BELOW for part in parts)


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _porter().stem(word.lower())


@lru_cache(maxsize=1)
def _porter():
    from nltk.stem.porter import PorterStemmer

    return PorterStemmer()


def _expansion_tokens(tokens: list[str], abbreviations: set[str]) -> set[int]:
    """Indices of answer tokens that spell out one of the abbreviations ("transurethral resection of bladder tumor"
    for TURBT; "gastroesophageal reflux disease" for GERD, a word may give more than its first letter)."""
    covered: set[int] = set()
    for abbreviation in abbreviations:
        letters = [ch.lower() for ch in abbreviation if ch.isalpha()]
        for start in range(len(tokens)):
            end = _spell(tokens, start, letters)
            if end is not None:
                covered.update(range(start, end))
    return covered


def _spell(tokens: list[str], start: int, letters: list[str], alone_ok: bool = False) -> int | None:
    """The end index when tokens[start:end] spell `letters`, else None: each word gives its first letter and maybe
    more of its letters in order ("gastroesophageal" gives G and E); little words between may be skipped. One word
    alone (`alone_ok`, for a stated expansion) must be long for its letters ("intravenous" for IV, never "Mac" for
    MAC)."""

    def match(index: int, position: int) -> int | None:
        if position == len(letters):
            alone = alone_ok and index - start == 1 and len(tokens[start]) >= 2 * len(letters) + 2
            return index if index - start >= 2 or alone else None
        if index >= len(tokens):
            return None
        word = tokens[index].lower()
        if word in LITTLE_WORDS and index > start and (found := match(index + 1, position)) is not None:
            return found
        for after in _letters_given(word, letters, position):
            if (found := match(index + 1, after)) is not None:
                return found
        return None

    return match(start, 0)


def _letters_given(word: str, letters: list[str], position: int) -> list[int]:
    """Positions in `letters` a word can bring the spelling to: its first part starts with the next letter and may
    give more of its letters in order; later hyphen parts may give theirs too ("Roux-en-Y" gives R and Y)."""
    reachable = [position]
    for number, part in enumerate(p for p in word.split("-") if p):
        following = [] if number == 0 else list(reachable)
        for at in reachable:
            if at < len(letters) and part[0] == letters[at]:
                following.append(at + 1)
                rest, more = part[1:], at + 1
                while more < len(letters) and letters[more] in rest:
                    rest = rest[rest.index(letters[more]) + 1 :]
                    more += 1
                    following.append(more)
        reachable = following
    return sorted(set(reachable))  # fewest first: a spelling that uses more words covers all of them


def _number(token: str) -> str:
    """A number's value as text: '4.0' -> '4', '1,200' -> '1200', 'four' -> '4'; ratios and times kept whole."""
    lower = token.lower().rstrip("%")
    if lower in NUMBER_WORDS:
        return NUMBER_WORDS[lower]
    lower = re.sub(r"(?<=\d),(?=\d{3}\b)", "", lower)
    try:
        return f"{float(lower):g}"
    except ValueError:
        return lower


class _Support:
    """What a note (and its question) holds, indexed for the lookups above."""

    def __init__(self, text: str):
        tokens = _TOKEN.findall(text)
        self.text = " ".join(text.lower().split())
        self.token_text = f" {' '.join(t.lower() for t in tokens)} "
        self.words = {t.lower() for t in tokens}
        self.stems = {_stem(t) for t in tokens if t.isalpha()}
        self.stems |= {_stem(part) for t in tokens for part in t.split("-") if part.isalpha()}
        self.abbreviations = {t for t in tokens if sum(ch.isupper() for ch in t) >= 2 and len(t) <= 6}
        self.initials = self._initials([t for t in tokens if t.isalpha()])
        # Where each number stands, and the stems around it: a number is supported where the note says it about the
        # same thing ("LVEF 35%" is not supported by "35 mmHg").
        self.number_in: dict[str, list[tuple[set[str], str]]] = {}  # value -> [(its sentence's stems, its unit)]
        for sentence in _NOTE_SENTENCE.split(text):
            words = _TOKEN.findall(sentence)
            stems = _context(words)
            for position, token in enumerate(words):
                if token[0].isdigit() or token.lower() in NUMBER_WORDS:
                    unit = _unit(words, position)
                    for value in {_number(token)} | {_number(p) for p in re.split(r"[/:\-]", token) if p}:
                        self.number_in.setdefault(value, []).append((stems, unit))

    @staticmethod
    def _initials(words: list[str]) -> set[str]:
        """Initials of every run of 2-5 words, skipping little words ("coronary artery disease" -> CAD)."""
        content = [w for w in words if w.lower() not in LITTLE_WORDS]
        return {"".join(w[0] for w in content[i:i + n]).upper() for n in range(2, 6)
                for i in range(len(content) - n + 1)}

    def holds(self, token: str, kind: str, context: set[str] = frozenset(), unit: str = "") -> bool:
        """Whether the note supports the token; a number must stand in a sentence of the note that shares a word
        with the answer's sentence (what it measures) and, when the answer gives a unit, carry the same unit."""
        lower = token.lower()
        if kind == "number":
            places = self.number_in.get(_number(token), [])
            if unit:  # "4 years" is not supported by "x4 days"
                places = [(stems, written) for stems, written in places if written == unit]
            return any(not context or context & stems for stems, _ in places)
        if kind == "abbreviation":
            return token in self.abbreviations or lower in self.words or token.upper() in self.initials
        if lower in self.words:
            return True
        parts = [p for p in lower.split("-") if p]
        return all(_stem(p) in self.stems or any(self.stems & {_stem(t) for t in twins}
                                                 for twins in TWINS if p in twins) for p in parts)
