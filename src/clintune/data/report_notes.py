"""Writes synthetic diagnostic reports (echocardiograms, ultrasounds, CT, radiographs, a bone scan, carotid Doppler)
with a gold question and answer for each of the 8 Asclepius tasks. A sampled record (`Report`: age, sex, study,
indication and its duration, history, each structure's normal or abnormal finding with laterality and measurement,
comparison) is written as a transcribed report (EXAM, INDICATION, TECHNIQUE, COMPARISON, FINDINGS, numbered
IMPRESSION); gold answers come from the record, never from searching the note. Relative times only, no names.
"""

from __future__ import annotations

import random
import re
from collections import namedtuple
from dataclasses import dataclass, replace

from clintune.data import report_facts as facts
from clintune.data.note_text import NOTE_LACKS, Note, and_list, first_upper, plural

KIND = "diagnostic report"
ABBREVIATIONS = {
    "y/o": "years old", "h/o": "history of", "c/o": "complains of", "M": "male", "F": "female",
    "PMH": "past medical history", **dict(facts.PMH), "TTE": "transthoracic echocardiogram", "LV": "left ventricle",
    "EF": "ejection fraction", "PA": "pulmonary artery", "US": "ultrasound", "CT": "computed tomography",
    "IV": "intravenous", "CXR": "chest X-ray", "AP": "anteroposterior", "KUB": "kidneys, ureters and bladder",
    "NM": "nuclear medicine", "MDP": "methylene diphosphonate", "PSA": "prostate-specific antigen",
    "ICA": "internal carotid artery", "RUQ": "right upper quadrant", "CBD": "common bile duct",
    "MRCP": "magnetic resonance cholangiopancreatography", "PVR": "post-void residual", "HU": "Hounsfield units",
    "AKI": "acute kidney injury", "RLQ": "right lower quadrant", "LLQ": "left lower quadrant",
    "SBO": "small bowel obstruction", "LFTs": "liver function tests"}
_ABBREVIATION = re.compile(r"(?<![\w/-])(" + "|".join(
    re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True)) + r")(?![\w/-])")
PRONOUNS = ("It", "Its", "They", "This")


# The vocabulary's types, parsed from report_facts' strings. An option is one look of a structure: `label` names an
# abnormal finding in answers ("" = normal), `text` is its findings sentence ({side}/{Side} laterality, {m} the
# measurement), `impression` its numbered line (default: the label), `plain` the text in plain words, `measure` a range
# "low high unit" ("-" = none), `what` the measured quantity when it is not the finding's size, `then` a second
# sentence, opening with a pronoun that refers to `ref` (default "the " + label), `advice` a recommendation ({f} =
# months). A slot is a structure ("{side} kidney"; normal option first), paired: once per side, core: always described.
Option = namedtuple("Option", "label text impression plain measure what then ref advice", defaults=("",) * 7)
Slot = namedtuple("Slot", "name options paired core")
Study = namedtuple("Study", "key name titles reasons technique extras groups normal male")


def _split(text: str, separator: str = "|") -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(separator)) if text else ()


def _study(raw: tuple) -> Study:
    key, name, titles, reasons, technique, extras, groups, normal, male = raw
    groups = tuple((_split(headings), tuple(
        Slot(slot, tuple(Option(*_split(option)) for option in _split(options, "//")), "paired" in flags,
             "optional" not in flags) for slot, flags, options in slots)) for headings, slots in groups)
    return Study(key, name, _split(titles), tuple(_split(r, ";") for r in _split(reasons)), technique,
                 _split(extras), groups, normal, male)


STUDIES = tuple(_study(raw) for raw in facts.STUDIES)


@dataclass(frozen=True)
class Finding:
    """One structure as the report describes it."""

    group: int  # which findings section of the study
    structure: str
    side: str
    option: Option
    m: str = ""  # the sampled measurement with its unit
    prior: str = ""  # the same measurement on the comparison study
    follow: int = 0  # months until the recommended follow-up

    def fill(self, template: str) -> str:
        return template.format(side=self.side, Side=self.side.capitalize(), m=self.m, f=self.follow)

    def __getattr__(self, name: str) -> str:  # label, text, then, what, plain, advice: the option's, filled in
        if name not in Option._fields:
            raise AttributeError(name)
        return self.fill(getattr(self.option, name))

    abnormal = property(lambda self: bool(self.option.label))
    impression = property(lambda self: self.fill(self.option.impression) if self.option.impression or not
                          self.abnormal else first_upper(self.described.split(" (")[0]) + ".")
    ref = property(lambda self: self.fill(self.option.ref) if self.option.ref else f"the {self.label}")
    sized = property(lambda self: bool(self.m and not self.option.what))  # the measurement is the finding's size
    noun = property(lambda self: self.option.label.replace("{side} ", ""))
    described = property(lambda self: self.label + (f" measuring {self.m}" if self.sized else
                                                    f" ({self.what} {self.m})" if self.m else ""))


@dataclass(frozen=True)
class Report:
    """The structured record behind one report."""

    age: int
    female: bool
    study: Study
    reason: tuple[str, str, str]  # (reason, plain words, unit)
    duration: str  # "3 days"
    history: tuple[tuple[str, str], ...]  # (abbreviation, expansion)
    findings: tuple[Finding, ...]
    extras: tuple[str, ...]
    prior_ago: str  # "6 months", or "" for no comparison study
    prior_says: str  # "was normal", "showed a left renal stone measuring 0.8 cm", or "" when not stated
    change: tuple[int, str]  # (index of the finding the comparison speaks of, the sentence), or (-1, "")
    detail: float

    abnormal = property(lambda self: [f for f in self.findings if f.abnormal])
    measured = property(lambda self: [f for f in self.findings if f.m])
    noun = property(lambda self: "woman" if self.female else "man")
    name = property(lambda self: self.study.name)
    why = property(lambda self: f"{self.reason[0]} for {self.duration}")


def _measure(rng: random.Random, spec: str, scale: float = 1.0) -> str:
    if not spec:
        return ""
    low, high, unit = spec.split()
    places = len(low.partition(".")[2])
    value = max(round(rng.uniform(float(low), float(high)) * scale, places), 10 ** -places)
    return f"{value:.{places}f}" + ("" if unit == "-" else unit if unit == "%" else f" {unit}")


def _article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeio8" or phrase.startswith(("11-", "18-")) else "a ") + phrase


def sample_report(rng: random.Random) -> Report:
    detail = rng.random() ** 1.5  # skewed toward short reports
    study = rng.choice(STUDIES)
    female = not study.male and rng.random() < 0.5
    reason = rng.choice(study.reasons)
    count = {"day": rng.randint(1, 10), "week": rng.randint(1, 6), "month": rng.randint(2, 12)}[reason[2]]
    pmh = [p for p in facts.PMH if not (female and p[0] == "BPH")]
    history = tuple(rng.sample(pmh, rng.choice((1, 1, 2, 3)))) if rng.random() < detail + 0.2 else ()
    all_normal, findings = rng.random() < 0.15, []
    for group, (_, slots) in enumerate(study.groups):
        for slot in (s for s in slots if s.core or rng.random() < detail):
            for side in ("right", "left") if slot.paired else (rng.choice(("right", "left")),):
                abnormal = not all_normal and len(slot.options) > 1 and rng.random() < 0.45
                option = rng.choice(slot.options[1:]) if abnormal else slot.options[0]
                findings.append(Finding(group, slot.name.format(side=side), side, option, _measure(rng, option.measure),
                                        follow=rng.choice((3, 6, 12)) if "{f}" in option.advice else 0))
    extras = tuple(e for e in study.extras if rng.random() < 0.15 + detail + 0.4 * (len(findings) < 4))
    prior_ago, prior_says, change = "", "", (-1, "")
    if rng.random() < 0.55:
        prior_ago = rng.choice(("4 weeks", "3 months", "6 months", "8 months", "1 year", "2 years"))
        grown = [i for i, f in enumerate(findings) if f.abnormal and f.sized and f.m.endswith(("cm", "mm"))]
        if grown and rng.random() < 0.5:
            f = findings[grown[0]]
            low, _, unit = f.option.measure.split()
            prior = _measure(rng, f"{low} {f.m.split()[0]} {unit}", 0.8)
            if prior != f.m:
                findings[grown[0]] = replace(f, prior=prior)
                prior_says = f"showed {_article(f.label)} measuring {prior}"
                change = (grown[0], f"It previously measured {prior}.")
        if not prior_says and rng.random() < 0.7:
            prior_says = rng.choice(("was normal", "showed no acute abnormality"))
            first = next((i for i, f in enumerate(findings) if f.abnormal), -1)
            if first >= 0:
                change = (first, rng.choice(("This is new since the prior study.",
                                             "This was not seen on the prior study.")))
    return Report(rng.randint(18, 89), female, study, reason, plural(count, reason[2]), history, tuple(findings),
                  extras, prior_ago, prior_says, change, detail)


def impression_items(rep: Report) -> list[str]:
    """The numbered impression: abnormal findings first, then normal findings that carry an impression."""
    items = [f.impression for f in rep.abnormal if f.impression] or [rep.study.normal]
    return items + [f.impression for f in rep.findings if not f.abnormal and f.impression]


def render_note(rep: Report, rng: random.Random) -> Note:
    note = Note("")

    def add(text: str) -> str:  # the writer records the abbreviations of what it writes
        note.abbreviations.update(_ABBREVIATION.findall(text))
        return text

    def section(heading: str, body: str) -> list[str]:
        return ["", heading, body] if rng.random() < 0.5 else ["", f"{heading} {body}"]

    study = rep.study
    tail = section(rng.choice(("COMPARISON:", "COMPARISON STUDIES:")), add(
        f"Prior {rep.name} from {rep.prior_ago} ago" + (f", which {rep.prior_says}." if rep.prior_says else ".")
        if rep.prior_ago else rng.choice(("None.", "None available.", "No prior studies for comparison."))))
    layout = rng.choice(("prose", "numbered", "labeled"))
    for group, (headings, _) in enumerate(study.groups):
        pieces = []
        for i, f in enumerate(rep.findings):
            if f.group == group:
                note.sentences[f"text:{i}"], note.sentences[f"then:{i}"] = f.text, f.then
                piece = add(" ".join(s for s in (f.text, f.then, rep.change[1] if rep.change[0] == i else "") if s))
                pieces.append(f"{f.structure.upper()}: {piece}" if layout == "labeled" and not headings else piece)
        if group == 0 and rep.extras:
            pieces += [add(e) for e in rep.extras] if headings or layout != "labeled" else \
                [add("OTHER: " + " ".join(rep.extras))]
        tail += ["", rng.choice(headings or ("FINDINGS:", "REPORT:"))]
        if layout == "prose" and not headings:
            tail.append(" ".join(pieces))
        else:
            tail += [f"{i}. {p}" if headings or layout == "numbered" else p for i, p in enumerate(pieces, 1)]
    if rep.detail > 0.6 and rep.measured:  # thorough reports list the measurements again
        tail += ["", "MEASUREMENTS:"] + [add(f"- {first_upper(f.what or f.label)}: {f.m}") for f in rep.measured]
    advice = [add(f.advice) for f in rep.abnormal if f.advice]
    items = [add(item) for item in impression_items(rep)]
    joint = advice and rng.random() < 0.5
    tail += ["", "IMPRESSION AND RECOMMENDATIONS:" if joint else rng.choice(("IMPRESSION:", "CONCLUSION:"))]
    tail += [f"{i}. {item}" for i, item in enumerate(items + advice if joint else items, 1)]
    if advice and not joint:
        tail += ["", rng.choice(("RECOMMENDATION:", "RECOMMENDATIONS:")), " ".join(advice)]
    if rng.random() < rep.detail * 0.6:
        tail += ["", add(rng.choice(("Findings were discussed with the referring physician.",
                                     "Results were communicated to the referring physician.")))]
    exam = section(rng.choice(("EXAM:", "EXAMINATION:", "PROCEDURE:", "STUDY:")), add(rng.choice(study.titles)))
    thorough = rng.random() < 0.3 + rep.detail or len(rep.findings) < 4  # short reports give the technique
    technique = section("TECHNIQUE:", add(study.technique)) if thorough else []
    man, male, m = ("woman", "female", "F") if rep.female else ("man", "male", "M")
    forms = [f"{rep.age} y/o {m} with {rep.why}.", f"{rep.age} y/o {m} c/o {rep.why}."]
    if note.abbreviations - {"M", "F"}:  # otherwise a y/o form makes sure the report uses an abbreviation
        forms += [f"{rep.age}-year-old {man} with {rep.why}.", f"{rep.age}-year-old {male} presenting with {rep.why}.",
                  first_upper(rep.why) + " in " + _article(f"{rep.age}-year-old {male}") + "."]
    indication = note.sentences["indication"] = add(rng.choice(forms))
    history = [abbr for abbr, _ in rep.history]
    if history:
        indication += " " + add(rng.choice((f"History of {and_list(history)}.", f"PMH: {', '.join(history)}.",
                                            f"h/o {and_list(history)}.")))
    heading = rng.choice(("INDICATION:", "CLINICAL HISTORY:", "REASON FOR EXAM:", "HISTORY:"))
    note.text = "\n".join((exam + section(heading, indication) + technique + tail)[1:])
    assert note.abbreviations <= set(ABBREVIATIONS), note.abbreviations - set(ABBREVIATIONS)
    return note


def _lower(text: str) -> str:  # an impression line inside a sentence: "Mild MR." -> "mild MR"
    text = text.rstrip(".")
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _ask(rng: random.Random, sentence: str, pronoun: str = "") -> str:
    if pronoun:
        return rng.choice((f'In the sentence "{sentence}", what does "{pronoun}" refer to?',
                           f'What does "{pronoun}" refer to in "{sentence}"?',
                           f'Resolve the pronoun "{pronoun}" in this sentence from the report: "{sentence}"'))
    return rng.choice((f'Paraphrase this sentence for the patient: "{sentence}"',
                       f'Rewrite "{sentence}" in plain language.', f'Explain "{sentence}" in simple words.'))


def _pick(rng: random.Random, families: list[tuple[str, str]]) -> tuple[str, str]:
    """One question family among those the record can answer (answer not empty): a phrasing and the gold answer."""
    phrasings, answer = rng.choice([(p, a) for p, a in families if a])
    return rng.choice(_split(phrasings)), answer


def named_entities(rep: Report, note: Note, rng: random.Random) -> tuple[str, str]:
    measures = [f"{f.what} {f.m}" if f.what else f"{f.label} measuring {f.m}" for f in rep.measured]
    return _pick(rng, [
        (("List the abnormal findings. | Which abnormal findings does the report describe? | Extract every abnormal "
         "finding from this report."), rep.abnormal and first_upper(and_list([f.label for f in rep.abnormal])) + "."),
        (("List the measurements reported in the findings. | What measurements does the report give? | Extract all "
         "measurements with their values."), measures and first_upper(and_list(measures)) + "."),
        (("What symptom prompted this study? | Identify the presenting complaint in the indication. | Which symptom is "
         "given as the reason for the exam?"), first_upper(rep.reason[0]) + "."),
        (("What past medical history is listed? | List the patient's known medical conditions. | Which chronic "
         "conditions does the indication mention?"), rep.history and first_upper(and_list([n for _, n in rep.history]))
         + ".")])


def abbreviation(rep: Report, note: Note, rng: random.Random) -> tuple[str, str]:
    used = sorted(note.abbreviations - {"M", "F"})
    a, b = rng.sample(used, 2) if len(used) > 1 else (used[0], "")
    return _pick(rng, [
        ((f"What does {a} stand for? | Expand the abbreviation \"{a}\" as used in this report. | What is meant by {a} "
         "in the report?"), f"{a} stands for {ABBREVIATIONS[a]}."),
        (f"What do {a} and {b} stand for in this report? | Expand {a} and {b}.",
         b and f"{a} stands for {ABBREVIATIONS[a]}. {b} stands for {ABBREVIATIONS[b]}.")])


def relation(rep: Report, note: Note, rng: random.Random) -> tuple[str, str]:
    nouns = [f.noun for f in rep.abnormal]
    sided = [f for f in rep.abnormal if f.sized and "{side}" in f.option.label and nouns.count(f.noun) == 1]
    s = rng.choice(sided or [None])  # "Which kidney had the stone and how big was it?" where the organ is paired
    a = rng.choice([f for f in rep.abnormal if f.advice] or [None])
    f = rng.choice(rep.abnormal) if rep.abnormal else None
    paired = s and s.structure.startswith(s.side)
    where = s and (f"Which {s.structure.split(' ', 1)[1]} had the {s.noun}, and how big was it?" if paired
                   else f"Where is the {s.noun} and what does it measure?")
    return _pick(rng, [
        (s and f"Which side is the {s.noun} on, and how big is it? | Laterality and size of the {s.noun}? | {where}",
         s and f"The {s.noun} is {f'in the {s.structure}' if paired else f'on the {s.side}'} and measures {s.m}."),
        (a and f"What is recommended for the {a.label}? | What follow-up does the {a.label} call for?", a and a.advice),
        (f and f"What does the report conclude about the {f.label}? | How is the {f.label} interpreted in the "
         "impression?", f and f.impression),
        (f"What symptom was the {rep.name} ordered for? | Why was the {rep.name} performed?",
         f"The {rep.name} was ordered for {rep.why}.")])


def temporal(rep: Report, note: Note, rng: random.Random) -> tuple[str, str]:
    c = rep.findings[rep.change[0]] if rep.change[0] >= 0 and rep.findings[rep.change[0]].prior else None
    t = rng.choice([f for f in rep.abnormal if f.follow] or [None])
    return _pick(rng, [
        ((f"How long has the patient had {rep.reason[0]}? | Duration of symptoms? | For how long have the symptoms "
         "been present?"), f"{first_upper(rep.why)}."),
        ("When was the comparison study done? | How old is the prior study? | When was the prior study performed?",
         rep.prior_ago and f"The prior {rep.name} was done {rep.prior_ago} ago."),
        (c and f"How has the {c.label} changed since the prior study? | Interval change in the {c.label}?",
         c and f"The {c.label} now measures {c.m}, compared with {c.prior} on the prior {rep.name} from "
         f"{rep.prior_ago} ago."),
        (t and f"When is follow-up imaging recommended? | When should the {t.label} be re-imaged?", t and t.advice)])


def coreference(rep: Report, note: Note, rng: random.Random) -> tuple[str, str]:
    thens = [f.then for f in rep.findings]
    options = [(note.sentences[f"then:{i}"], f.ref) for i, f in enumerate(rep.findings)
               if f.then.split(" ", 1)[0] in PRONOUNS and thens.count(f.then) == 1]
    if rep.change[0] >= 0 and (not options or rng.random() < 0.4):
        options = [(rep.change[1], rep.findings[rep.change[0]].ref)]
    options = options or [(f"{note.sentences[f'text:{i}']} {note.sentences[f'then:{i}']}", f.ref)
                          for i, f in enumerate(rep.findings) if f.then.split(" ", 1)[0] in PRONOUNS]
    sentence, ref = rng.choice(options)
    return _ask(rng, sentence, pronoun := sentence.split(" ", 1)[0]), f"'{pronoun}' refers to {ref}."


def paraphrase(rep: Report, note: Note, rng: random.Random) -> tuple[str, str]:
    texts = [f.text for f in rep.findings]
    options = [(note.sentences[f"text:{i}"], f.plain) for i, f in enumerate(rep.findings)
               if f.abnormal and texts.count(f.text) == 1]
    if options and rng.random() < 0.7:
        sentence, plain = rng.choice(options)
        return _ask(rng, sentence), plain
    return (_ask(rng, note.sentences["indication"]), first_upper(_article(f"{rep.age}-year-old {rep.noun}"))
            + f" who has had {rep.reason[1]} for {rep.duration}.")


def summary(rep: Report, note: Note, rng: random.Random) -> tuple[str, str]:
    start = f"{first_upper(rep.name)} in {_article(f'{rep.age}-year-old {rep.noun}')} with {rep.why}"
    measures = [f"{f.what} {f.m}" for f in rep.measured]
    whole = (f"{start} showed {and_list([f.described for f in rep.abnormal])}." if rep.abnormal else
             f"{start} was normal" + (f", with {and_list(measures)}." if measures else "."))
    return _pick(rng, [
        (("Summarize the impression. | Give the bottom line of this report in one sentence. | Condense the impression "
         "into a single sentence."), first_upper("; ".join(_lower(item) for item in impression_items(rep))) + "."),
        (("Summarize this report in one sentence. | Write a one-sentence summary of the study. | Give a brief summary "
         "of the report for a handoff."), whole)])


def question_answering(rep: Report, note: Note, rng: random.Random) -> tuple[str, str]:
    f = rng.choice(rep.measured) if rep.measured else None
    asks = "What was the ejection fraction? | " + ("EF?" if "EF" in note.abbreviations else "LVEF?")
    asks = asks if f and "ejection fraction" in f.what else f and f"What was the {f.what}? | {first_upper(f.what)}?"
    abnormal = and_list([f.label for f in rep.abnormal]) if rep.abnormal else ""
    return _pick(rng, [
        (f and f"How big is the {f.label}? | What size is the {f.label}?" if f and f.sized else asks,
         f and (f"The {f.label} measures {f.m}." if f.sized else f"The {f.what} was {f.m}.")),
        ((f"What did the comparison study show? | What did the prior study show? | What was found on the prior "
         f"{rep.name}?"), rep.prior_says and f"The prior {rep.name} from {rep.prior_ago} ago {rep.prior_says}."),
        ("Is the study normal? | Any abnormal findings? | Was anything abnormal on this study?",
         f"The study was abnormal, showing {abnormal}." if abnormal else
         f"The study was normal: {_lower(rep.study.normal)}."),
        ("Why was the study ordered? | Indication? | What was the reason for the exam?", f"{first_upper(rep.why)}.")])


def unanswerable_question(rep: Report, note: Note, task: str, rng: random.Random) -> tuple[str, str]:
    """A question of `task` about something the record does not hold, with the answer that says so."""
    reason = re.sub(r"^an? ", "", rep.reason[0])
    absent = [a for a in (*facts.ABSENT_ABBREVIATIONS, *ABBREVIATIONS) if len(a) > 1 and a not in note.abbreviations]
    abbr, structure = rng.choice(absent), rng.choice(facts.ABSENT_STRUCTURES)
    asks = {"Abbreviation Expansion": f"What does {abbr} stand for in this report?; the abbreviation {abbr}",
            "Relation Extraction": f"Which medication was prescribed for the {reason}?; a medication for the {reason} "
                                   f"| Which lab result is linked to the {reason}?; any laboratory results",
            "Temporal Information Extraction": f"When was the prior {rep.name} done?; a prior {rep.name}"
            if not rep.prior_ago else "When is follow-up imaging due?; a follow-up imaging interval"
            if not any(f.follow for f in rep.abnormal) else "When did the patient last have a colonoscopy?; a "
                                                            "colonoscopy",
            "Coreference Resolution": f'What does "it" refer to in the sentence about the {structure}?; '
                                      f"{_article(structure)}",
            "Question Answering": " | ".join(v.rsplit(";", 1)[0] for v in _split(facts.ABSENT_VALUES)
                                             if not v.endswith("; " + rep.study.key)), **facts.ABSENT_ASKS}
    q, what = _split(rng.choice(_split(asks[task])), ";")
    return q, f"{NOTE_LACKS} {what}."


ANSWERABLE = {"Named Entity Recognition": named_entities, "Abbreviation Expansion": abbreviation,
              "Relation Extraction": relation, "Temporal Information Extraction": temporal,
              "Coreference Resolution": coreference, "Paraphrasing": paraphrase, "Summarization": summary,
              "Question Answering": question_answering}


def write_row(rng: random.Random, task: str, unanswerable: bool) -> tuple[str, str, str]:
    """(note, question, answer) for one of the 8 tasks; deterministic for the same rng state."""
    if task not in ANSWERABLE:
        raise ValueError(f"unknown task: {task}")
    rep = sample_report(rng)
    note = render_note(rep, rng)
    question, answer = unanswerable_question(rep, note, task, rng) if unanswerable else ANSWERABLE[task](rep, note, rng)
    return note.text, question, answer
