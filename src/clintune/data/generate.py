"""A procedural generator of synthetic clinical notes with gold question-answer pairs for the 8 Asclepius tasks.

Notes come in the kinds a clinic writes (NOTE_KINDS): discharge summaries (written here), operative notes
(data/operative_notes.py), clinic notes (consults, H&Ps, follow-ups and letters; data/clinic_notes.py) and diagnostic
reports (data/report_notes.py), each with its own headings, shorthand and questions. For a discharge summary, each
row starts from a sampled structured record (`Case`): a patient, an admission diagnosis, comorbidities with home
medications, labs, procedures on given hospital days, complications, a discharge plan. The note is written from the
record with varied headings, wording and optional sections, and the writer records what it wrote (the abbreviations
it used, the sentences a question may quote). Every gold answer is derived from the record and those records, never
by searching the note, so a test can check the answer against the note independently.

No real person stands behind any row: ages only, hospital days instead of dates, no names. `plant_identifiers`
(data/plant.py) adds invented identifiers on purpose, so that the identifier scan can be measured.

Tasks cycle through the 8 labels, so they are equally represented, as in the paper's pipeline (one task per note,
drawn uniformly). About 10% of questions ask for something the note does not contain; their gold answer says so.
They are the questions clinicians ask of a note that may lack the answer (a value, a date, a result, a list), asked
in the same words of notes that hold it and of notes that do not, so that the answer depends on the note and not on
the question; an operative note's comes with its twin (operative_notes.write_pair): the same operation written with
the answer, the same question, one patient. A summary, a paraphrase of a quoted sentence or a pronoun in a quoted
sentence always has an answer.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from clintune.data import clinic_notes, operative_notes, report_notes
from clintune.data.clinical_facts import (
    ABBREVIATIONS,
    ACTIVITY,
    COMORBIDITIES,
    CONDITIONS,
    DIAGNOSES,
    DIETS,
    DISPOSITIONS,
    EVENTS,
    EXAM_LINES,
    LABS,
    PENDING,
    PROGRESS,
    RETURN_PRECAUTIONS,
    SOCIAL,
    Comorbidity,
    Diagnosis,
)
from clintune.data.note_text import Note, and_list
from clintune.data.questions import question_and_answer
from clintune.data.schema import TASKS

# The share of each task's questions that the note cannot answer: about 10% overall, most where real questions
# most often go unanswered (a value, a date, a cause), none where a note always holds the answer.
UNANSWERABLE_RATES = {"Question Answering": 0.2, "Relation Extraction": 0.2, "Temporal Information Extraction": 0.2,
                      "Named Entity Recognition": 0.1, "Abbreviation Expansion": 0.1, "Coreference Resolution": 0.0,
                      "Paraphrasing": 0.0, "Summarization": 0.0}
EXTRA_PROCEDURES = ("PICC line placement", "PT evaluation", "bedside swallow evaluation", "transfusion of 1 unit PRBC")


@dataclass(frozen=True)
class Case:
    """The structured record behind one note."""

    age: int
    female: bool
    dx: Diagnosis
    comorbidities: tuple[Comorbidity, ...]
    symptom_days: int
    vitals: tuple[float, int, int, int, int]  # temperature, heart rate, systolic, diastolic, SpO2
    labs: tuple[tuple[str, str], ...]  # (abbreviation, value with unit)
    procedures: tuple[tuple[str, int], ...]  # (procedure, hospital day); the first is the diagnosis' own
    switch_day: int
    events: tuple[tuple[str, str, int], ...]  # (complication, treatment, hospital day)
    stay: int
    disposition: tuple[str, str]  # (as written, in plain words)
    condition: str
    follow_weeks: int
    detail: float  # 0 = a terse note, 1 = a thorough one: how likely each optional section is

    @property
    def noun(self) -> str:
        return "woman" if self.female else "man"

    @property
    def discharge_medications(self) -> list[tuple[str, str]]:
        """(drug, dose) as listed under Discharge Medications: the step-down treatment, then the home medications."""
        meds = [(self.dx.step_down, self.dx.step_down_dose)]
        meds += [(c.drug, c.dose) for c in self.comorbidities]
        return meds


def sample_case(rng: random.Random) -> Case:
    detail = rng.random() ** 1.5  # skewed toward terse notes, with a long tail of thorough ones
    stay = rng.randint(3, 12)
    dx = rng.choice(DIAGNOSES)
    procedures = [(dx.procedure, rng.randint(1, min(3, stay - 1)))]
    if rng.random() < detail:
        procedures.append((rng.choice(EXTRA_PROCEDURES), rng.randint(2, stay - 1)))
    events = []
    for event, treatment in rng.sample(EVENTS, rng.choice((0, 1, 1, 2, 3) if detail > 0.5 else (0, 0, 1))):
        events.append((event, treatment, rng.randint(2, stay - 1)))
    labs = []
    for abbr, _, unit, (low, high) in rng.sample(LABS, round(detail * rng.randint(0, len(LABS)))):
        value = rng.uniform(low, high)
        labs.append((abbr, f"{value:.1f} {unit}" if high < 20 else f"{round(value)} {unit}"))
    return Case(
        age=rng.randint(19, 89),
        female=rng.random() < 0.5,
        dx=dx,
        comorbidities=tuple(rng.sample(COMORBIDITIES, rng.randint(1, 2 + round(3 * detail)))),
        symptom_days=rng.randint(1, 7),
        vitals=(round(rng.uniform(36.4, 39.4), 1), rng.randint(62, 124), rng.randint(96, 172), rng.randint(54, 98),
                rng.randint(88, 99)),
        labs=tuple(labs),
        procedures=tuple(procedures),
        switch_day=rng.randint(2, stay - 1),
        events=tuple(sorted(events, key=lambda e: e[2])),
        stay=stay,
        disposition=rng.choice(DISPOSITIONS),
        condition=rng.choice(CONDITIONS),
        follow_weeks=rng.choice((1, 2, 4)),
        detail=detail,
    )


def render_note(case: Case, rng: random.Random) -> Note:
    dx = case.dx
    note = Note("")
    used = note.abbreviations
    sex = "F" if case.female else "M"
    pmh = and_list([c.abbr for c in case.comorbidities])
    used.update(("y/o", "PMH"))
    arrival = rng.choice(("presented to the ED c/o", "came to the ED c/o", "was brought to the ED with"))
    used.update(("ED", "c/o") if "c/o" in arrival else ("ED",))
    days = f"{case.symptom_days} day{'s' if case.symptom_days > 1 else ''}"
    hpi = f"{case.age} y/o {sex} w/ PMH of {pmh} who {arrival} {dx.complaint} x{days}."
    note.sentences["hpi"] = hpi
    temp, hr, sbp, dbp, spo2 = case.vitals
    vitals = f"On arrival T {temp}, HR {hr}, BP {sbp}/{dbp}, SpO2 {spo2}% on RA."
    used.add("RA")
    test = f"Initial {dx.test} showed {dx.finding}."

    heading = rng.choice(("Discharge Summary:", "DISCHARGE SUMMARY", "Discharge Summary"))
    lines = [heading]
    lines.append(rng.choice(("Admission Diagnosis: ", "Admitting Dx: ", "Reason for Admission: ")) + dx.name)
    if rng.random() < case.detail:
        lines.append(f"Service: {dx.service.capitalize()}")
    hpi_heading = rng.choice(("History of Present Illness:", "HPI:"))
    if hpi_heading == "HPI:":
        used.add("HPI")
    lines += ["", hpi_heading, " ".join((hpi, vitals, test))]
    if rng.random() < case.detail:
        lines += ["", "Social History:", rng.choice(SOCIAL) + " No EtOH or illicit drug use."]
        used.add("EtOH")
    if rng.random() < case.detail:
        exam = rng.sample(EXAM_LINES, rng.randint(2, len(EXAM_LINES)))
        lines += ["", rng.choice(("Physical Exam:", "Exam on Admission:"))] + [line for line, _ in exam]
        used.update(a for _, abbrs in exam for a in abbrs)
    if case.labs:
        lines += ["", rng.choice(("Pertinent Labs:", "Labs on Admission:"))]
        if rng.random() < 0.5:
            lines.append(", ".join(f"{abbr} {value}" for abbr, value in case.labs))
        else:
            lines += [f"- {abbr}: {value}" for abbr, value in case.labs]

    start = f"Started on {dx.drug} {dx.dose} for {dx.abbr}."
    switch = f"It was changed to {dx.step_down} on HD {case.switch_day}."
    used.add("HD")
    note.sentences["coreference_drug"] = switch
    first_procedure, first_day = case.procedures[0]
    procedure = (f"{first_procedure[0].upper() + first_procedure[1:]} on HD {first_day}; "
                 f"it showed {dx.procedure_finding}.")
    note.sentences["coreference_procedure"] = procedure
    course = [start, switch, procedure]
    for event, treatment, day in case.events:
        course.append(rng.choice((f"Course c/b {event} on HD {day}, tx'd w/ {treatment}.",
                                  f"Developed {event} on HD {day}, tx'd w/ {treatment}.")))
        used.add("tx'd")
    if rng.random() < case.detail:
        course.append(rng.choice(("Pt remained in NAD thereafter.", "Remained afebrile and in NAD.")))
        used.add("NAD")
    if rng.random() < case.detail - 0.3:  # thorough notes narrate the stay day by day
        for day in range(1, case.stay):
            course.append(f"HD {day}: {rng.choice(PROGRESS)}")
    course.append(f"D/c'd on HD {case.stay}.")
    used.add("D/c'd")
    lines += ["", rng.choice(("Hospital Course:", "Brief Hospital Course:")), " ".join(course)]

    lines += ["", "Procedures:"] + [f"- {name} (HD {day})" for name, day in case.procedures]
    diagnoses = [dx.name] + [event for event, _, _ in case.events] + [c.name for c in case.comorbidities]
    lines += ["", "Discharge Diagnoses:"] + [f"{i}. {name}" for i, name in enumerate(diagnoses, 1)]
    meds = case.discharge_medications
    lines += ["", "Discharge Medications:"] + [f"{i}. {drug} {dose}" for i, (drug, dose) in enumerate(meds, 1)]
    used.update(a for a in ("PO", "BID") if any(f" {a}" in dose for _, dose in meds))

    written, _ = case.disposition
    disposition = f"Discharged to {written} in {case.condition} condition."
    used.update(a for a in ("VNA", "SNF") if a in written)
    note.sentences["disposition"] = disposition
    follow = f"F/u {dx.service} clinic in {case.follow_weeks} wk{'s' if case.follow_weeks > 1 else ''}."
    used.add("F/u")
    lines += ["", rng.choice(("Disposition and Follow-up:", "Disposition:")), f"{disposition} {follow}"]
    if rng.random() < case.detail / 2:
        lines.append(f"Pending at discharge: {rng.choice(PENDING)}.")
    if rng.random() < case.detail + 0.1:
        precaution, abbrs = rng.choice(RETURN_PRECAUTIONS)
        lines += ["", "Discharge Instructions:", rng.choice(DIETS), rng.choice(ACTIVITY), precaution]
        used.update(abbrs)
    note.text = "\n".join(lines)
    assert used <= set(ABBREVIATIONS), used - set(ABBREVIATIONS)
    return note


def discharge_row(rng: random.Random, task: str, unanswerable: bool) -> tuple[str, str, str]:
    """(note, question, answer): a discharge summary written from a sampled `Case`."""
    case = sample_case(rng)
    note = render_note(case, rng)
    question, answer = question_and_answer(case, note, task, rng, unanswerable=unanswerable)
    return note.text, question, answer


# The kinds of note a clinic writes, and how often each is drawn: operative notes and clinic letters are what real
# collections hold most of (MTSamples: mostly surgery and urology), discharge summaries what Asclepius was built on.
WRITERS = {"discharge summary": discharge_row, "operative note": operative_notes.write_row,
           "clinic note": clinic_notes.write_row, "diagnostic report": report_notes.write_row}
KIND_WEIGHTS = {"discharge summary": 0.2, "operative note": 0.35, "clinic note": 0.3, "diagnostic report": 0.15}
NOTE_KINDS = tuple(WRITERS)
# Kinds whose unanswerable rows of these tasks come with a twin note that holds the answer: (tasks, pair writer).
TWINNED = {"operative note": (tuple(operative_notes.OMISSIBLE), operative_notes.write_pair)}


def iter_rows(n: int, seed: int = 0, first_patient_id: int = 1, notes_only: bool = False,
              kinds: tuple[str, ...] | None = None) -> Iterator[dict]:
    """Rows in the Asclepius schema, the same for the same seed; tasks cycle so all 8 are balanced, and each row's kind
    of note is drawn from `kinds` (default: all of NOTE_KINDS, by KIND_WEIGHTS).

    With `notes_only`, rows are `patient_id, note` for stage-1 pretraining.
    """
    chosen = tuple(kinds or NOTE_KINDS)
    unknown = [k for k in chosen if k not in WRITERS]
    if unknown:
        raise ValueError(f"unknown kind of note: {unknown[0]} (known: {', '.join(NOTE_KINDS)})")
    weights = [KIND_WEIGHTS[k] for k in chosen]
    rng = random.Random(seed)
    made = 0
    for i in range(n):
        if made == n:
            return
        kind = rng.choices(chosen, weights)[0]
        task = TASKS[i % len(TASKS)]
        unanswerable = rng.random() < UNANSWERABLE_RATES[task]
        twinned_tasks, write_pair = TWINNED.get(kind, ((), None))
        if unanswerable and task in twinned_tasks:
            rows = write_pair(rng, task)[: n - made]  # and the same question of its twin note
        else:
            rows = [WRITERS[kind](rng, task, unanswerable)]
        patient_id = first_patient_id + made  # twins are one patient's operation, written twice
        for note, question, answer in rows:
            made += 1
            if notes_only:
                yield {"patient_id": patient_id, "note": note}
                continue
            yield {"patient_id": patient_id, "note": note, "question": question, "answer": answer, "task": task}


def generate_rows(n: int, seed: int = 0, first_patient_id: int = 1, notes_only: bool = False,
                  kinds: tuple[str, ...] | None = None) -> list[dict]:
    return list(iter_rows(n, seed, first_patient_id, notes_only, kinds))
