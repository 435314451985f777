"""A procedural generator of synthetic discharge summaries with gold question-answer pairs.

Every note is built from a small set of sampled facts (a patient, a diagnosis, comorbidities, a treatment, a
procedure, a course, a discharge plan), and every gold answer is derived from those same facts, so each answer is
true of its note and nothing else. No real patient stands behind any row, and the notes carry no identifiers: ages
only, and hospital days instead of calendar dates.

Each note gets one task, cycling through the 8 Asclepius tasks so that they are equally represented, as in the
paper's pipeline. A quarter of the question-answering items ask for something the note does not contain; their gold
answer says so, as the Asclepius teacher was told to.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from clintune.data.schema import TASKS

# name, abbreviation, plain words
COMORBIDITIES = (
    ("hypertension", "HTN", "high blood pressure"),
    ("type 2 diabetes mellitus", "DM2", "type 2 diabetes"),
    ("chronic kidney disease", "CKD", "long-term kidney disease"),
    ("chronic obstructive pulmonary disease", "COPD", "chronic lung disease"),
    ("coronary artery disease", "CAD", "heart artery disease"),
    ("atrial fibrillation", "AF", "an irregular heartbeat"),
    ("hyperlipidemia", "HLD", "high cholesterol"),
    ("obstructive sleep apnea", "OSA", "sleep apnea"),
    ("gastroesophageal reflux disease", "GERD", "acid reflux"),
    ("congestive heart failure", "CHF", "heart failure"),
    ("hypothyroidism", "HypoT", "an underactive thyroid"),
    ("peripheral artery disease", "PAD", "poor leg circulation"),
)


@dataclass(frozen=True)
class Diagnosis:
    name: str
    abbr: str
    complaint: str
    test: str
    finding: str
    drug: str
    dose: str
    step_down: str
    procedure: str
    service: str


DIAGNOSES = (
    Diagnosis("community-acquired pneumonia", "CAP", "fever and productive cough", "chest X-ray",
              "right lower lobe consolidation", "ceftriaxone", "1 g IV daily", "oral cefuroxime",
              "sputum culture", "pulmonology"),
    Diagnosis("non-ST-elevation myocardial infarction", "NSTEMI", "substernal chest pain", "troponin",
              "troponin elevated to 2.1 ng/mL", "heparin", "infusion per protocol", "oral apixaban",
              "cardiac catheterization", "cardiology"),
    Diagnosis("diabetic ketoacidosis", "DKA", "nausea, vomiting and polyuria", "basic metabolic panel",
              "anion gap of 24", "insulin", "infusion at 0.1 units/kg/h", "subcutaneous insulin glargine",
              "endocrinology consult", "endocrinology"),
    Diagnosis("acute pancreatitis", "AP", "epigastric pain radiating to the back", "lipase",
              "lipase of 1,850 U/L", "lactated Ringer's", "150 mL/h", "oral hydration",
              "abdominal ultrasound", "gastroenterology"),
    Diagnosis("urinary tract infection", "UTI", "dysuria and flank pain", "urinalysis",
              "positive leukocyte esterase and nitrites", "ceftriaxone", "1 g IV daily", "oral cephalexin",
              "renal ultrasound", "urology"),
    Diagnosis("deep vein thrombosis", "DVT", "left calf swelling", "venous duplex",
              "occlusive thrombus in the left popliteal vein", "enoxaparin", "1 mg/kg SC twice daily",
              "oral rivaroxaban", "venous duplex ultrasound", "vascular medicine"),
    Diagnosis("acute exacerbation of heart failure", "ADHF", "worsening dyspnea and leg edema", "BNP",
              "BNP of 1,420 pg/mL", "furosemide", "40 mg IV twice daily", "oral furosemide",
              "transthoracic echocardiogram", "cardiology"),
    Diagnosis("cellulitis", "cellulitis", "a red, warm, painful right leg", "CBC",
              "WBC of 14.2", "cefazolin", "2 g IV every 8 hours", "oral cephalexin",
              "lower extremity ultrasound", "infectious disease"),
    Diagnosis("gastrointestinal bleeding", "GIB", "melena and lightheadedness", "hemoglobin",
              "hemoglobin of 6.9 g/dL", "pantoprazole", "40 mg IV twice daily", "oral pantoprazole",
              "upper endoscopy", "gastroenterology"),
    Diagnosis("ischemic stroke", "CVA", "sudden right-sided weakness", "CT head",
              "no hemorrhage on CT head", "aspirin", "325 mg daily", "aspirin 81 mg daily",
              "MRI brain", "neurology"),
)

EVENTS = (
    ("hypokalemia", "oral potassium chloride"),
    ("acute kidney injury", "IV fluids"),
    ("hypomagnesemia", "IV magnesium sulfate"),
    ("delirium", "reorientation and melatonin"),
    ("constipation", "senna and docusate"),
    ("hyperglycemia", "sliding-scale insulin"),
)

DISPOSITIONS = ("home", "home with home health services", "a skilled nursing facility", "an acute rehab facility")
CONDITIONS = ("stable", "improved", "fair")
NOT_IN_NOTE = (
    ("What is the patient's blood type?", "blood type"),
    ("What is the name of the patient's primary care physician?", "primary care physician's name"),
    ("What was the patient's occupation before admission?", "occupation"),
    ("Did the patient receive a COVID-19 vaccine?", "COVID-19 vaccination status"),
    ("What is the patient's smoking history in pack-years?", "smoking history"),
    ("Which pharmacy will fill the discharge prescriptions?", "pharmacy"),
)


@dataclass(frozen=True)
class Case:
    age: int
    female: bool
    dx: Diagnosis
    comorbidities: tuple[tuple[str, str, str], ...]
    symptom_days: int
    proc_day: int
    switch_day: int
    event: tuple[str, str]
    event_day: int
    stay: int
    disposition: str
    condition: str
    follow_weeks: int

    @property
    def noun(self) -> str:
        return "woman" if self.female else "man"

    @property
    def subj(self) -> str:
        return "She" if self.female else "He"


def sample_case(rng: random.Random) -> Case:
    stay = rng.randint(3, 9)
    return Case(
        age=rng.randint(24, 88),
        female=rng.random() < 0.5,
        dx=rng.choice(DIAGNOSES),
        comorbidities=tuple(rng.sample(COMORBIDITIES, rng.randint(2, 4))),
        symptom_days=rng.randint(1, 7),
        proc_day=rng.randint(1, min(3, stay - 1)),
        switch_day=rng.randint(2, stay - 1),
        event=rng.choice(EVENTS),
        event_day=rng.randint(2, stay - 1),
        stay=stay,
        disposition=rng.choice(DISPOSITIONS),
        condition=rng.choice(CONDITIONS),
        follow_weeks=rng.choice((1, 2, 4)),
    )


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def coreference_sentence(case: Case) -> str:
    return f"It was changed to {case.dx.step_down} on hospital day {case.switch_day}."


def render_note(case: Case, rng: random.Random) -> str:
    dx = case.dx
    sex = "F" if case.female else "M"
    pmh = _and_list([abbr for _, abbr, _ in case.comorbidities])
    arrival = rng.choice(("presented to the ED with", "came to the ED complaining of", "was brought in for"))
    heading = rng.choice(("Discharge Summary:", "Discharge Summary", "DISCHARGE SUMMARY:"))
    return "\n".join(
        [
            heading,
            f"Admitting Dx: {dx.name}" + (f" ({dx.abbr})" if dx.abbr != dx.name else ""),
            "",
            "HPI:",
            f"{case.age} y/o {sex} w/ PMH of {pmh} {arrival} {dx.complaint} x{case.symptom_days} days. "
            f"Initial {dx.test}: {dx.finding}.",
            "",
            "Hospital Course:",
            f"Started on {dx.drug} {dx.dose} for {dx.abbr}. {coreference_sentence(case)} "
            f"{dx.procedure[0].upper() + dx.procedure[1:]} on hospital day {case.proc_day}. "
            f"Developed {case.event[0]} on day {case.event_day}, treated with {case.event[1]}. "
            f"D/c'd on hospital day {case.stay}.",
            "",
            f"Discharge: {case.disposition}, {case.condition} condition. "
            f"F/u {dx.service} clinic in {case.follow_weeks} wk{'s' if case.follow_weeks > 1 else ''}.",
        ]
    )


def question_and_answer(case: Case, task: str, rng: random.Random) -> tuple[str, str]:
    """One question of the given task about this case, with its gold answer."""
    dx = case.dx
    if task == "Named Entity Recognition":
        q = rng.choice((
            "List the medical conditions in the patient's past medical history.",
            "Identify all chronic conditions mentioned in the HPI.",
            "Which comorbidities does the patient have, according to the discharge summary?",
        ))
        return q, _and_list([name for name, _, _ in case.comorbidities]).capitalize() + "."
    if task == "Abbreviation Expansion":
        name, abbr, _ = rng.choice(case.comorbidities)
        q = rng.choice((
            f"What does the abbreviation '{abbr}' stand for in the discharge summary?",
            f"Expand the abbreviation {abbr} used in the patient's history.",
            f"In this note, what is meant by '{abbr}'?",
        ))
        return q, f"{abbr} stands for {name}."
    if task == "Relation Extraction":
        q = rng.choice((
            f"Which medication was started to treat the patient's {dx.name}?",
            f"What treatment was given for {dx.abbr} on admission?",
            f"How was the {case.event[0]} during the hospital stay treated?",
        ))
        if "treated" in q:
            return q, f"The {case.event[0]} was treated with {case.event[1]}."
        return q, f"The patient was started on {dx.drug} {dx.dose} for {dx.name}."
    if task == "Temporal Information Extraction":
        kind = rng.randrange(3)
        if kind == 0:
            q = f"On which hospital day was the {dx.procedure} performed?"
            return q, f"The {dx.procedure} was performed on hospital day {case.proc_day}."
        if kind == 1:
            q = "How many days was the patient in the hospital?"
            return q, f"The patient was in the hospital for {case.stay} days."
        q = f"When did the patient develop {case.event[0]}?"
        return q, f"The patient developed {case.event[0]} on hospital day {case.event_day}."
    if task == "Coreference Resolution":
        q = rng.choice((
            f"In the sentence '{coreference_sentence(case)}', what does 'It' refer to?",
            f"What does the pronoun 'It' refer to in '{coreference_sentence(case)}'?",
        ))
        return q, f"'It' refers to {dx.drug} {dx.dose}, which was changed to {dx.step_down}."
    if task == "Paraphrasing":
        q = rng.choice((
            "Paraphrase the HPI in plain language for the patient.",
            "Rewrite the HPI so that a layperson can understand it.",
        ))
        plain = _and_list([words for _, _, words in case.comorbidities])
        return q, (
            f"A {case.age}-year-old {case.noun} with {plain} came to the emergency department "
            f"with {dx.complaint} for {case.symptom_days} days."
        )
    if task == "Summarization":
        q = rng.choice((
            "Summarize the hospital course in one sentence.",
            "Give a brief summary of this hospitalization.",
        ))
        return q, (
            f"{case.age}-year-old {case.noun} admitted with {dx.name}, treated with {dx.drug}, "
            f"discharged to {case.disposition} in {case.condition} condition after {case.stay} days."
        )
    if task == "Question Answering":
        if rng.random() < 0.25:
            q, what = rng.choice(NOT_IN_NOTE)
            return q, f"The discharge summary does not mention the patient's {what}."
        kind = rng.randrange(2)
        if kind == 0:
            q = "What follow-up was arranged at discharge?"
            weeks = f"{case.follow_weeks} week{'s' if case.follow_weeks > 1 else ''}"
            return q, f"Follow-up in the {dx.service} clinic in {weeks}."
        q = "Where was the patient discharged to?"
        return q, f"The patient was discharged to {case.disposition} in {case.condition} condition."
    raise ValueError(f"unknown task: {task}")


def generate_rows(n: int, seed: int = 0, first_patient_id: int = 1) -> list[dict]:
    """`n` rows in the Asclepius schema, the same for the same seed; tasks cycle so all 8 are balanced."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        case = sample_case(rng)
        task = TASKS[i % len(TASKS)]
        question, answer = question_and_answer(case, task, rng)
        rows.append(
            {
                "patient_id": first_patient_id + i,
                "note": render_note(case, rng),
                "question": question,
                "answer": answer,
                "task": task,
            }
        )
    return rows
