"""Clinic notes as consultants dictate them: consultations, histories and physicals, follow-up visits and referral
letters ("Thank you for referring..."), across urology, general and bariatric surgery, cardiology, allergy, neurology
and orthopedics, with gold question-answer pairs for the 8 Asclepius tasks.

    note, question, answer = write_row(random.Random(0), "Question Answering", unanswerable=False)

Each row starts from a sampled record (`Visit`): a presenting problem (clinic_facts.PROBLEMS) with its history,
exam finding, labs, imaging, impression and plan, and a patient with a past history, medications, allergies and a
social and family history. The note is written from the record with varied headings, layout and optional sections
(a `detail` level), the writer records the shorthand and the sentences it wrote, and every gold answer is built from
the record and those records, never by searching the note.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from clintune.data import clinic_facts as facts
from clintune.data.note_text import NOTE_LACKS, Note, and_list, first_upper, plural

KIND = "clinic note"
ABBREVIATIONS = facts.ABBREVIATIONS
__all__ = ["ABBREVIATIONS", "KIND", "write_row"]
LAYOUTS = ("consult", "consult", "history and physical", "follow-up", "letter", "letter")
_SHORTHAND = tuple((abbr, re.compile(rf"(?<![\w.-]){re.escape(abbr)}(?![\w-])")) for abbr in ABBREVIATIONS)
QA = tuple[tuple[str, ...], str]  # (phrasings of a question, its gold answer)


@dataclass(frozen=True)
class Visit:
    """The record behind one clinic note."""

    problem: facts.Problem
    age: int
    female: bool
    duration: int  # in problem.unit
    features: tuple[str, ...]
    denies: bool  # whether the HPI lists the pertinent negatives
    labs: tuple[tuple[str, str], ...]  # (name, result); the first is the problem's key lab
    imaging: tuple[str, str, str] | None  # (name, result, the result in plain words); None: not written
    imaging_ago: int  # in problem.imaging_unit
    conditions: tuple[tuple[str, str, str, str], ...]  # (name, shorthand, home medication, dose)
    surgeries: tuple[tuple[str, int], ...] | None  # (operation, years ago); None: no surgical history written
    allergies: tuple[tuple[str, str], ...] | None  # (): NKDA; None: not written
    tobacco: tuple[int, int] | None  # (pack-years, years since quitting; -1 current); (0, 0) never; None: not written
    alcohol: str
    work: str
    family: tuple[str, ...] | None  # (): noncontributory; None: not written
    ros: bool
    vitals: tuple[int, int, int, int, float, int]  # systolic, diastolic, heart rate, respirations, temp (F), SpO2
    bmi: float | None
    plan_items: tuple[str, ...]  # the problem's plan items this note lists
    follow_weeks: int
    layout: str
    brief: bool  # a terse note: no past history, medications or studies written
    detail: float

    @property
    def dx(self) -> str:
        return self.problem.dx.replace("{bmi}", f"{self.bmi}")

    @property
    def noun(self) -> str:
        return "woman" if self.female else "man"

    @property
    def plan(self) -> list[str]:
        """The plan as noun phrases, in the order the note lists it."""
        drug = self.problem.drug
        return ([f"{drug.name} {drug.dose}"] if drug else []) + list(self.plan_items) + [
            f"follow-up in {plural(self.follow_weeks, 'week')}"]


def write_row(rng: random.Random, task: str, unanswerable: bool) -> tuple[str, str, str]:
    """(note, question, answer) for one of the 8 tasks; the same for the same rng state."""
    visit = sample_visit(rng)
    note = render(visit, rng)
    if unanswerable:
        question, what = absent(visit, task, rng)
        return note.text, question, f"{NOTE_LACKS} {what}."
    phrasings, answer = rng.choice(list(QUESTIONS[task](visit, note, rng)))
    return note.text, rng.choice(phrasings), answer


def _fill(study: facts.Study, rng: random.Random) -> tuple[str, str]:
    """The study's result and its plain words with values drawn; "a 8 mm stone" becomes "an 8 mm stone"."""
    values = [f"{rng.uniform(low, high):.{places}f}" for low, high, places in study.ranges]
    return tuple(re.sub(r"\ba (?=(?:8|11|18)(?:\.\d)? )", "an ", text.format(*values))
                 for text in (study.result, study.plain))


def _some(rng: random.Random, items: tuple, detail: float, least: int = 1) -> tuple:
    """Between `least` and all of `items` in their order, more of them in a more detailed note."""
    chosen = set(rng.sample(range(len(items)), min(len(items), least + round(detail * (len(items) - least)))))
    return tuple(item for i, item in enumerate(items) if i in chosen)


def sample_visit(rng: random.Random) -> Visit:
    problem = rng.choice(facts.PROBLEMS)
    detail = rng.random() ** 1.5
    female = problem.sex == "F" or (problem.sex == "" and rng.random() < 0.5)
    age, duration = rng.randint(*problem.ages), rng.randint(*problem.durations)
    most_ago = duration if problem.imaging_unit == problem.unit else 4  # no study before the symptoms began
    plan_items = _some(rng, problem.plan, detail)
    smoker = any("smoking" in item for item in plan_items)  # a plan that counsels on smoking needs a smoker
    tobacco = None
    if smoker or rng.random() < detail - 0.2:
        status = rng.choice(("current", "former") if smoker else ("never", "never", "current", "former"))
        tobacco = (0, 0) if status == "never" else (rng.randint(5, 50), -1 if status == "current" else
                                                     rng.randint(1, max(1, age - 30)))
    allergies = (() if rng.random() < 0.6 else (rng.choice(facts.ALLERGIES),)) if rng.random() < detail - 0.1 else None
    family = None
    if rng.random() < detail - 0.3:
        family = () if rng.random() < 0.3 else tuple(rng.sample(facts.FAMILY, rng.randint(1, 2)))
    surgeries = None
    if rng.random() < detail - 0.3:
        surgeries = tuple((name, rng.randint(2, max(2, age - 15))) for name in _some(rng, facts.SURGERIES, 0.1))
    imaging, imaging_plain = _fill(problem.imaging, rng)
    brief = detail < 0.15 and rng.random() < 0.5
    how_many = 0 if brief else rng.randint(detail > 0.4, 1 + round(3 * detail**2))  # conditions in the history
    bmi = round(rng.uniform(40, 58), 1) if "{bmi}" in problem.dx else (
        round(rng.uniform(21, 38), 1) if rng.random() < detail else None)
    return Visit(
        problem=problem, age=age, female=female, duration=duration, features=_some(rng, problem.features, detail),
        denies=rng.random() < 0.1 + detail, labs=() if brief else tuple(
            (s.name, _fill(s, rng)[0]) for s in (problem.labs[0],) + _some(rng, problem.labs[1:], detail ** 2, 0)),
        imaging=(problem.imaging.name, imaging, imaging_plain) if rng.random() < 0.4 + detail - brief else None,
        imaging_ago=rng.randint(1, min(4, most_ago)),
        conditions=tuple(rng.sample(facts.CONDITIONS, how_many)),
        surgeries=surgeries, allergies=allergies, tobacco=tobacco, alcohol=rng.choice(facts.ALCOHOL),
        work=rng.choice(facts.WORK) if rng.random() < detail else "", family=family, ros=rng.random() < detail - 0.4,
        vitals=(rng.randint(108, 168), rng.randint(62, 96), rng.randint(58, 104), rng.randint(12, 20),
                round(rng.uniform(97.5, 99.1), 1), rng.randint(94, 100)),
        bmi=bmi, plan_items=plan_items, follow_weeks=rng.choice((2, 3, 4, 6, 8)), layout=rng.choice(LAYOUTS),
        brief=brief, detail=detail)


def _lower(text: str) -> str:
    """'Painless gross hematuria' -> 'painless gross hematuria'; 'BPH with LUTS' stays."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def render(v: Visit, rng: random.Random) -> Note:
    p, note, he = v.problem, Note(""), "She" if v.female else "He"
    said, gap = note.sentences, [""] if rng.random() < 0.6 else []  # a blank line between sections, or none
    person = rng.choice(("woman", "female", "lady") if v.female else ("man", "male", "gentleman"))
    age, lasting = rng.choice((f"{v.age}-year-old", f"{v.age} y/o")), plural(v.duration, p.unit)
    plain = f"a {v.age}-year-old {v.noun} who has had {p.plain} for {lasting}"
    lines = []
    if v.layout == "letter":
        opening = f"Thank you for referring this {age} {person}, who has had {p.complaint} for {lasting}."
        said["opening:plain"] = f"Thank you for sending {plain}."
        lines += [opening] + gap + [f"CHIEF COMPLAINT: {first_upper(p.plain)}."] + gap
    else:
        title = rng.choice(facts.TITLES[v.layout]).format(SPECIALTY=p.specialty.upper())
        lines += [title] + gap if rng.random() < 0.5 else []
        lines += [f"REASON FOR CONSULTATION: {p.consult}"] if v.layout == "consult" else []
        follow = "Follow-up of " if v.layout == "follow-up" else ""
        lines += [f"CHIEF COMPLAINT: {first_upper(follow + p.plain)}."] + gap
        opening = rng.choice((f"The patient is a {age} {person} who presents with {p.complaint} for {lasting}.",
                              f"This is a {age} {person} with a {v.duration}-{p.unit} h/o {p.complaint}.",
                              f"{age} {person} c/o {p.complaint} x{lasting}."))
        said["opening:plain"] = f"The patient is {plain}."
        if v.layout == "follow-up":
            opening = f"The {age} {person} returns for follow-up of {p.complaint}, present for {lasting}."
            said["opening:plain"] = f"The {v.age}-year-old {v.noun} came in again about {p.plain}, for {lasting} now."
    said["opening"] = opening
    hpi = [] if v.layout == "letter" else [opening]
    hpi.append(f"{he} {rng.choice(('reports', 'notes', 'describes'))} {and_list(list(v.features))}.")
    if v.denies:
        hpi.append(rng.choice((f"{he} denies {and_list(list(p.denies))}.",
                               f"No {', '.join(p.denies[:-1])} or {p.denies[-1]}.")))
    tried, how, outcome = p.prior
    said["prior"] = rng.choice((f"{he} has tried {tried} {how}, but it {outcome}.",
                                f"The referring physician started {tried} {how}, but it {outcome}."))
    hpi.append(said["prior"])
    if v.conditions and rng.random() < 0.5:
        names = [short or name for name, short, _, _ in v.conditions]
        hpi.append(f"{'Her' if v.female else 'His'} PMH is significant for {and_list(names)}.")
    heading = {"follow-up": "SUBJECTIVE:", "letter": "HISTORY OF PRESENT ILLNESS:"}.get(v.layout)
    lines += [heading or rng.choice(("HISTORY OF PRESENT ILLNESS:", "HPI:")), " ".join(hpi)] + gap
    lines += _history(v, rng, gap) + _exam(v, rng, gap) + _studies(v, note, rng, gap) + _assessment(v, note, rng, gap)
    if v.layout == "letter" and rng.random() < 0.5:
        lines += gap + [rng.choice(facts.CLOSINGS)]
    for line in lines:  # the writer notes the shorthand of every line it wrote
        note.abbreviations.update(abbr for abbr, pattern in _SHORTHAND if pattern.search(line))
    note.text = "\n".join(lines).strip()
    return note


def _section(heading: str, items: list[str], rng: random.Random, gap: list[str]) -> list[str]:
    """The heading with its items: on the same line, on the next one, or numbered one a line."""
    style = rng.random()
    if len(items) > 1 and style < 0.5:
        return [heading] + [f"{i}. {item}" for i, item in enumerate(items, 1)] + gap
    return ([f"{heading} {items[0]}"] if len(items) == 1 and style < 0.5 else [heading, " ".join(items)]) + gap


def _history(v: Visit, rng: random.Random, gap: list[str]) -> list[str]:
    conditions = [f"{first_upper(name)}." for name, _, _, _ in v.conditions] or ["None."]
    lines = [] if v.brief else _section(rng.choice(("PAST MEDICAL HISTORY:", "PMH:")), conditions, rng, gap)
    if v.surgeries is not None:
        lines += _section(rng.choice(("PAST SURGICAL HISTORY:", "PSH:")),
                          [f"{first_upper(s)} {plural(n, 'year')} ago." for s, n in v.surgeries], rng, gap)
    medications = [f"{first_upper(drug)} {dose}".rstrip(".") + "." for _, _, drug, dose in v.conditions] or ["None."]
    lines += [] if v.brief else _section(rng.choice(("MEDICATIONS:", "MEDS:")), medications, rng, gap)
    if v.allergies is not None:
        written = (f"{first_upper(v.allergies[0][0])} ({v.allergies[0][1]})." if v.allergies else
                   rng.choice(("NKDA.", "No known drug allergies.")))
        lines += [f"ALLERGIES: {written}"] + gap
    if v.tobacco is not None:
        packs, quit_ago = v.tobacco
        smoking = (rng.choice(("Never smoker.", "Denies tobacco use.")) if packs == 0 else
                   f"Smokes 1 ppd, {packs} pack-years." if quit_ago < 0 else
                   f"Former smoker, {packs} pack-years, quit {plural(quit_ago, 'year')} ago.")
        lines += ["SOCIAL HISTORY: " + " ".join(s for s in (smoking, v.alcohol, v.work) if s)] + gap
    if v.family is not None:
        family = f"{first_upper(and_list(list(v.family)))}." if v.family else "Noncontributory."
        lines += [f"FAMILY HISTORY: {family}"] + gap
    if v.ros:
        lines += [f"{rng.choice(('REVIEW OF SYSTEMS:', 'ROS:'))} {rng.choice(facts.ROS)}"] + gap
    return lines


def _exam(v: Visit, rng: random.Random, gap: list[str]) -> list[str]:
    first, more = rng.choice(facts.VITALS)
    vitals = (first + (more if rng.random() < 0.2 + v.detail else "")).format(*v.vitals)
    vitals += f", BMI {v.bmi} kg/m2." if v.bmi is not None else "."
    label, finding = v.problem.exam
    system = rng.sample([line for line in facts.EXAM if line[0] != label], int(v.detail ** 2 * 6)) + [(label, finding)]
    system.sort(key=lambda line: facts.EXAM_ORDER.index(line[0]))
    heading = "OBJECTIVE:" if v.layout == "follow-up" else rng.choice(("PHYSICAL EXAMINATION:", "PHYSICAL EXAM:"))
    return [heading, f"VITAL SIGNS: {vitals}"] + [f"{name}: {text}" for name, text in system] + gap


def _studies(v: Visit, note: Note, rng: random.Random, gap: list[str]) -> list[str]:
    if not v.labs and not v.imaging:
        return []
    lines = [rng.choice(("LABS/STUDIES:", "LABORATORY DATA:", "DIAGNOSTIC STUDIES:", "DATA REVIEWED:"))]
    lines += [f"{first_upper(name)}: {result}." for name, result in v.labs]
    if v.imaging:
        name, result, _ = v.imaging
        ago = plural(v.imaging_ago, v.problem.imaging_unit)
        note.sentences["imaging"] = rng.choice(facts.IMAGING).format(name=first_upper(name), ago=ago, result=result)
        lines.append(note.sentences["imaging"])
    return lines + gap


def _assessment(v: Visit, note: Note, rng: random.Random, gap: list[str]) -> list[str]:
    p = v.problem
    note.sentences["assessment"] = impression = f"{v.dx}; this {p.why}."
    others = [f"{first_upper(name)}, stable on {drug}." for name, _, drug, _ in v.conditions][:int(v.detail * 2)]
    plan = [f"{first_upper(item)}." for item in v.plan_items]
    if p.drug:
        note.sentences["drug"] = f"Start {p.drug.name} {p.drug.dose} for {p.drug.why}."
        plan.insert(0, note.sentences["drug"])
    weeks = plural(v.follow_weeks, "week")
    plan.append(rng.choice((f"Follow up in {p.specialty} clinic in {weeks}.", f"RTC in {weeks}.",
                            f"Return to clinic in {weeks} to review results.")))
    if rng.random() < 0.25:
        lines = ["ASSESSMENT AND PLAN:", f"1. {impression}"] + [f"- {item}" for item in plan]
        return lines + [f"{i}. {item}" for i, item in enumerate(others, 2)]
    heading = "ASSESSMENT:" if v.layout == "follow-up" else rng.choice(("IMPRESSION:", "ASSESSMENT:"))
    lines = [heading] + [f"{i}. {item}" for i, item in enumerate([impression] + others, 1)] + gap
    plan_heading = rng.choice(("PLAN:", "RECOMMENDATIONS:") if v.layout == "consult" else ("PLAN:",))
    return lines + [plan_heading] + [f"{i}. {item}" for i, item in enumerate(plan, 1)]


# The question families of each task, as (phrasings, gold answer) built from the record, where the note holds it.
def _ask(family: str, **names: str) -> tuple[str, ...]:
    return tuple(phrasing.format(**names) for phrasing in facts.PHRASINGS[family])


def _entities(v: Visit, note: Note, rng: random.Random) -> Iterator[QA]:
    if v.conditions:
        yield _ask("medications"), first_upper(and_list([drug for _, _, drug, _ in v.conditions])) + "."
        yield _ask("conditions"), first_upper(and_list([name for name, _, _, _ in v.conditions])) + "."
    tests = [name for name, _ in v.labs] + ([v.imaging[0]] if v.imaging else [])
    if tests:
        yield _ask("tests"), first_upper(and_list(tests)) + "."
    yield _ask("reported"), first_upper(and_list(list(v.features))) + "."
    if v.denies:
        yield _ask("denies"), first_upper(and_list(list(v.problem.denies))) + "."


def _abbreviations(v: Visit, note: Note, rng: random.Random) -> Iterator[QA]:
    asked = note.abbreviations - facts.NOT_ASKED
    for candidates in (asked & facts.TEST_ABBREVIATIONS, asked - facts.TEST_ABBREVIATIONS):
        if candidates:
            abbr = rng.choice(sorted(candidates))
            yield _ask("abbreviation", abbr=abbr), f"{abbr} stands for {ABBREVIATIONS[abbr]}."


def _relations(v: Visit, note: Note, rng: random.Random) -> Iterator[QA]:
    p = v.problem
    if p.drug:
        yield (_ask("new drug", drug=p.drug.name),
               f"{first_upper(p.drug.name)} {p.drug.dose} was started for {p.drug.why}.")
    if v.conditions:
        name, _, drug, _ = rng.choice(v.conditions)
        yield _ask("home drug", drug=drug), f"{first_upper(drug)} is for the patient's {name}."
    if v.imaging:
        yield _ask("finding", study=v.imaging[0]), f"The {v.imaging[0]} showed {v.imaging[1]}."
    if v.allergies:
        drug, reaction = v.allergies[0]
        yield _ask("reaction", drug=drug), f"{first_upper(drug)} causes {reaction}."
    tried, how, outcome = p.prior
    yield _ask("prior", tried=tried.removeprefix("a ")), f"{first_upper(tried)} {how} was tried, but it {outcome}."


def _times(v: Visit, note: Note, rng: random.Random) -> Iterator[QA]:
    p = v.problem
    yield (_ask("duration", complaint=p.complaint),
           f"The patient has had {p.complaint} for {plural(v.duration, p.unit)}.")
    if v.imaging:
        yield (_ask("study when", study=v.imaging[0]),
               f"The {v.imaging[0]} was done {plural(v.imaging_ago, p.imaging_unit)} ago.")
    if v.surgeries:
        name, years = rng.choice(v.surgeries)
        yield _ask("surgery when", surgery=name), f"The {name} was {plural(years, 'year')} ago."
    yield _ask("follow-up"), f"Follow-up in {plural(v.follow_weeks, 'week')}."


def _references(v: Visit, note: Note, rng: random.Random) -> Iterator[QA]:
    tried, how, _ = v.problem.prior
    referents = [("prior", "it", f"{'the ' + tried[2:] if tried.startswith('a ') else tried} ({how})"),
                 ("imaging", "it", f"the {v.imaging[0]}" if v.imaging else ""),
                 ("assessment", "this", f"the {_lower(v.dx)}")]
    for key, pronoun, referent in referents:
        if key in note.sentences:
            yield (_ask("pronoun", sentence=note.sentences[key], pronoun=pronoun),
                   f"'{pronoun}' refers to {referent}.")


def _paraphrases(v: Visit, note: Note, rng: random.Random) -> Iterator[QA]:
    said, drug = note.sentences, v.problem.drug
    yield _ask("plainly", sentence=said["opening"]), said["opening:plain"]
    if v.imaging:
        ago = plural(v.imaging_ago, v.problem.imaging_unit)
        yield _ask("plainly", sentence=said["imaging"]), f"The {v.imaging[0]} done {ago} ago showed {v.imaging[2]}."
    if drug:
        yield _ask("plainly", sentence=said["drug"]), f"Begin taking {drug.name}, {drug.dose_plain}, {drug.why_plain}."


def _summaries(v: Visit, note: Note, rng: random.Random) -> Iterator[QA]:
    p, lasting = v.problem, plural(v.duration, v.problem.unit)
    tried, how, outcome = p.prior
    showed = f", whose {v.imaging[0]} showed {v.imaging[1]}," if v.imaging else ","
    yield _ask("summary"), (f"{v.age}-year-old {v.noun} with {p.complaint} for {lasting}{showed} assessed as "
                            f"{_lower(v.dx)}. The plan is {and_list(v.plan)}.")
    yield _ask("summary plan"), f"{v.dx}, managed with {and_list(v.plan)}."
    yield _ask("summary history"), (f"{v.age}-year-old {v.noun} with {lasting} of {p.complaint}, reporting "
                                    f"{and_list(list(v.features))}, who tried {tried} {how}, but it {outcome}.")


def _answers(v: Visit, note: Note, rng: random.Random) -> Iterator[QA]:
    yield _ask("plan"), first_upper(and_list(v.plan)) + "."
    for lab, result in v.labs[:1]:
        verb = "was" if re.match(r"[\d.]+ |[\d.]+%|[\d/]+$|less", result) else "showed"
        yield _ask("key lab", lab=lab), f"The {lab} {verb} {result}."
    if v.allergies is not None:
        yield _ask("allergies"), ("The patient is allergic to {} ({}).".format(*v.allergies[0]) if v.allergies else
                                  "No known drug allergies.")
    yield _ask("blood pressure"), f"The blood pressure was {v.vitals[0]}/{v.vitals[1]} mmHg."
    if v.tobacco is not None:
        packs, quit_ago = v.tobacco
        yield _ask("smoking"), ("The patient has never smoked." if packs == 0 else
                                f"The patient smokes 1 ppd, {packs} pack-years." if quit_ago < 0 else
                                f"Former smoker with {packs} pack-years who quit {plural(quit_ago, 'year')} ago.")


QUESTIONS = {
    "Named Entity Recognition": _entities,
    "Abbreviation Expansion": _abbreviations,
    "Relation Extraction": _relations,
    "Temporal Information Extraction": _times,
    "Coreference Resolution": _references,
    "Paraphrasing": _paraphrases,
    "Summarization": _summaries,
    "Question Answering": _answers,
}


def absent(v: Visit, task: str, rng: random.Random) -> tuple[str, str]:
    """A question of `task` about something this note does not hold, and what the note lacks."""
    allergens = [drug for drug, reaction in facts.ALLERGIES if (drug, reaction) not in (v.allergies or ())]
    fill = {"study": rng.choice(facts.ABSENT_STUDIES), "abbr": rng.choice(facts.ABSENT_ABBREVIATIONS),
            "condition": rng.choice(facts.ABSENT_CONDITIONS), "allergen": rng.choice(allergens)}
    asked = [(q, what) for field, q, what in facts.ABSENT[task] if not field or getattr(v, field) is None]
    question, what = rng.choice(asked)
    return question.format(**fill), what.format(**fill)
