"""Questions for the 8 Asclepius tasks, several phrasings each, with gold answers taken from the structured record.

`question_and_answer` sees the record (`Case`) and what the note writer recorded (`Note.abbreviations`,
`Note.sentences`); it never searches the note text. Unanswerable questions ask for something the record does not
hold, and their gold answer says the note does not contain it, as the Asclepius teacher was told to.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from clintune.data.clinical_facts import (
    ABBREVIATIONS,
    ABSENT_ABBREVIATIONS,
    ABSENT_FACTS,
    ABSENT_PROCEDURES,
    COMORBIDITIES,
    LABS,
)
from clintune.data.note_text import NOTE_LACKS, and_list, first_upper, weeks

if TYPE_CHECKING:
    from clintune.data.generate import Case
    from clintune.data.note_text import Note

NOT_IN_NOTE = NOTE_LACKS
LAB_NAMES = {abbr: name for abbr, name, _, _ in LABS}


def named_entities(case: Case, note: Note, rng: random.Random) -> tuple[str, str]:
    kind = rng.randrange(3)
    if kind == 0:
        q = rng.choice(("List the chronic conditions in the patient's past medical history.",
                        "Identify every comorbidity named in the discharge summary.",
                        "Which chronic medical problems does the patient have?"))
        return q, first_upper(and_list([c.name for c in case.comorbidities])) + "."
    if kind == 1:
        q = rng.choice(("List all discharge medications.",
                        "Extract the names of the medications the patient was discharged on.",
                        "What drugs appear in the discharge medication list?"))
        return q, first_upper(and_list([drug for drug, _ in case.discharge_medications])) + "."
    q = rng.choice(("Which procedures were performed during the admission?",
                    "Identify the procedures documented in this note."))
    return q, first_upper(and_list([name for name, _ in case.procedures])) + "."


def abbreviation(case: Case, note: Note, rng: random.Random) -> tuple[str, str]:
    candidates = [(c.abbr, c.name) for c in case.comorbidities]
    candidates += [(a, ABBREVIATIONS[a]) for a in sorted(note.abbreviations)]
    if case.dx.abbr != case.dx.name:
        candidates.append((case.dx.abbr, case.dx.name))
    abbr, expansion = rng.choice(candidates)
    q = rng.choice((f"What does the abbreviation '{abbr}' stand for in the discharge summary?",
                    f"Expand the abbreviation {abbr} as used in this note.",
                    f"In this note, what is meant by '{abbr}'?"))
    return q, f"{abbr} stands for {expansion}."


def relation(case: Case, note: Note, rng: random.Random) -> tuple[str, str]:
    kind = rng.randrange(3)
    dx = case.dx
    if kind == 0 or (kind == 2 and not case.events):
        q = rng.choice((f"Which medication was started to treat the patient's {dx.name}?",
                        f"What treatment was given for {dx.abbr} on admission?"))
        return q, f"The patient was started on {dx.drug} {dx.dose} for {dx.name}."
    if kind == 1:
        condition = rng.choice(case.comorbidities)
        q = rng.choice((f"What is {condition.drug} prescribed for in this patient?",
                        f"Which condition does the discharge medication {condition.drug} treat?"))
        return q, f"{first_upper(condition.drug)} treats the patient's {condition.name} ({condition.abbr})."
    event, treatment, _ = rng.choice(case.events)
    q = rng.choice((f"How was the {event} during the hospital stay treated?",
                    f"What treatment did the patient receive for {event}?"))
    return q, f"The {event} was treated with {treatment}."


def temporal(case: Case, note: Note, rng: random.Random) -> tuple[str, str]:
    kind = rng.randrange(4)
    if kind == 0:
        q = rng.choice(("How many days was the patient in the hospital?", "What was the patient's LOS?",
                        "On which hospital day was the patient discharged?"))
        return q, f"The patient was discharged on hospital day {case.stay}."
    if kind == 1:
        name, day = rng.choice(case.procedures)
        q = rng.choice((f"On which hospital day was the {name} performed?", f"When was the {name} done?"))
        return q, f"The {name} was performed on hospital day {day}."
    if kind == 2 and case.events:
        event, _, day = rng.choice(case.events)
        q = f"When did the patient develop {event}?"
        return q, f"The patient developed {event} on hospital day {day}."
    q = rng.choice((f"How long did the {case.dx.complaint} last before admission?",
                    "For how many days did the symptoms last before the patient came to the ED?"))
    return q, f"The symptoms lasted {case.symptom_days} day{'s' if case.symptom_days > 1 else ''} before admission."


def coreference(case: Case, note: Note, rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.5:
        sentence = note.sentences["coreference_drug"]
        q = rng.choice((f"In the sentence '{sentence}', what does 'It' refer to?",
                        f"What does the pronoun 'It' refer to in '{sentence}'?"))
        return q, f"'It' refers to {case.dx.drug} {case.dx.dose}, which was changed to {case.dx.step_down}."
    sentence = note.sentences["coreference_procedure"]
    q = rng.choice((f"In '{sentence}', what does 'it' refer to?",
                    f"Resolve the pronoun 'it' in the sentence '{sentence}'"))
    return q, f"'it' refers to the {case.procedures[0][0]}."


def paraphrase(case: Case, note: Note, rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.6:
        q = rng.choice((f"Paraphrase this sentence in plain language for the patient: '{note.sentences['hpi']}'",
                        f"Rewrite '{note.sentences['hpi']}' so that a layperson can understand it."))
        plain = and_list([c.plain for c in case.comorbidities])
        return q, (f"A {case.age}-year-old {case.noun} with {plain} came to the emergency department with "
                   f"{case.dx.complaint} for {case.symptom_days} day{'s' if case.symptom_days > 1 else ''}.")
    q = rng.choice((f"Explain '{note.sentences['disposition']}' in simple words.",
                    f"Paraphrase the sentence '{note.sentences['disposition']}' for the family."))
    return q, f"The patient left the hospital for {case.disposition[1]} and was doing {case.condition}."


def summary(case: Case, note: Note, rng: random.Random) -> tuple[str, str]:
    q = rng.choice(("Summarize the hospital course in one sentence.",
                    "Give a brief summary of this hospitalization.",
                    "Write a one-sentence summary of the admission for a handoff.",
                    "Summarize this discharge summary in one or two sentences."))
    events = f", complicated by {and_list([e for e, _, _ in case.events])}," if case.events else ""
    procedures = " ".join(f"{'She' if case.female else 'He'} had {name} on hospital day {day}."
                          for name, day in case.procedures)
    return q, (f"{case.age}-year-old {case.noun} admitted with {case.dx.name}{events} treated with {case.dx.drug}, "
               f"discharged to {case.disposition[1]} in {case.condition} condition on hospital day {case.stay}. "
               f"{procedures}")


def question_answering(case: Case, note: Note, rng: random.Random) -> tuple[str, str]:
    kind = rng.randrange(4)
    dx = case.dx
    if kind == 0:
        q = rng.choice(("What follow-up was arranged at discharge?", "When should the patient be seen again?"))
        return q, f"Follow-up in the {dx.service} clinic in {weeks(case.follow_weeks)}."
    if kind == 1:
        q = rng.choice(("Where was the patient discharged to?", "What was the discharge disposition?"))
        return q, f"The patient was discharged to {case.disposition[1]} in {case.condition} condition."
    if kind == 2:
        q = rng.choice((f"What did the initial {dx.test} show?", f"What was found on the admission {dx.test}?"))
        return q, f"The initial {dx.test} showed {dx.finding}."
    q = rng.choice((f"What dose of {dx.step_down} was the patient discharged on?",
                    f"How should the patient take {dx.step_down} after discharge?"))
    return q, f"{first_upper(dx.step_down)} {dx.step_down_dose}."


def unanswerable_question(case: Case, note: Note, task: str, rng: random.Random) -> tuple[str, str]:
    """A question of `task` about something the record does not contain, with the gold answer that says so."""
    if task == "Named Entity Recognition":
        return ("List the patient's documented drug allergies.",
                f"{NOT_IN_NOTE} any drug allergies.")
    if task == "Abbreviation Expansion":
        abbr = rng.choice(ABSENT_ABBREVIATIONS)
        return (f"What does the abbreviation '{abbr}' stand for in the discharge summary?",
                f"{NOT_IN_NOTE} the abbreviation {abbr}.")
    if task == "Relation Extraction":
        absent = [c for c in COMORBIDITIES if c not in case.comorbidities]
        condition = rng.choice(absent)
        return (f"Which medication does the patient take for {condition.name}?",
                f"{NOT_IN_NOTE} {condition.name} or a medication for it.")
    if task == "Temporal Information Extraction":
        procedure = rng.choice(ABSENT_PROCEDURES)
        return (f"On which hospital day was the {procedure} performed?", f"{NOT_IN_NOTE} a {procedure}.")
    if task == "Coreference Resolution":
        return ("What does 'it' refer to in the sentence about the patient's dialysis?",
                f"{NOT_IN_NOTE} dialysis, so there is no such sentence.")
    if task == "Paraphrasing":
        return ("Paraphrase the note's description of the patient's prior surgeries in plain language.",
                f"{NOT_IN_NOTE} any prior surgeries.")
    if task == "Summarization":
        return ("Summarize the results of the patient's genetic testing.", f"{NOT_IN_NOTE} genetic testing.")
    question, what = rng.choice(ABSENT_FACTS)
    absent_lab = [name for abbr, name in LAB_NAMES.items() if abbr not in dict(case.labs)]
    if what == "a colonoscopy" and absent_lab and rng.random() < 0.5:
        lab = rng.choice(absent_lab)
        return f"What was the patient's {lab} on admission?", f"{NOT_IN_NOTE} the patient's {lab}."
    return question, f"{NOT_IN_NOTE} {what}."


ANSWERABLE = {
    "Named Entity Recognition": named_entities,
    "Abbreviation Expansion": abbreviation,
    "Relation Extraction": relation,
    "Temporal Information Extraction": temporal,
    "Coreference Resolution": coreference,
    "Paraphrasing": paraphrase,
    "Summarization": summary,
    "Question Answering": question_answering,
}


def question_and_answer(case: Case, note: Note, task: str, rng: random.Random, unanswerable: bool = False
                        ) -> tuple[str, str]:
    """One question of the given task about this case, with its gold answer."""
    if task not in ANSWERABLE:
        raise ValueError(f"unknown task: {task}")
    if unanswerable:
        return unanswerable_question(case, note, task, rng)
    return ANSWERABLE[task](case, note, rng)
