"""Operative notes, as surgeons dictate them: diagnoses, procedure, anesthesia, blood loss, indications, findings and
the description of the operation, with gold question-answer pairs for the 8 Asclepius tasks.

    note, question, answer = write_row(random.Random(0), "Question Answering", unanswerable=False)

Like the discharge-summary writer (data/generate.py), each row starts from a sampled record (`Surgery`), the note is
written from it with varied headings and optional sections, and every gold answer is built from the record and from
what the writer recorded that it wrote, never by searching the note.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from clintune.data.note_text import NOTE_LACKS, Note, and_list, first_upper, plural
from clintune.data.operative_facts import (
    ABBREVIATIONS,
    ABSENT,
    ANESTHESIA,
    ANTIBIOTICS,
    COMORBIDITIES,
    DISPOSITIONS,
    DURATION_UNITS,
    LOCALS,
    OPERATIONS,
    Operation,
)

KIND = "operative note"
__all__ = ["ABBREVIATIONS", "KIND", "write_row"]


@dataclass(frozen=True)
class Surgery:
    """The record behind one operative note."""

    operation: Operation
    side: str
    age: int
    female: bool
    symptom_for: tuple[int, str]  # (3, "month")
    test_ago: tuple[int, str]
    comorbidities: tuple[tuple[str, str, str], ...]
    anesthesia: str
    antibiotic: str
    local: str
    finding: str
    blood_loss: int
    fluids: int
    disposition: tuple[str, str]
    follow_weeks: int
    detail: float

    def fill(self, text: str) -> str:
        return text.replace("{side}", self.side)

    @property
    def procedure(self) -> str:
        return self.fill(self.operation.name)

    @property
    def diagnosis(self) -> str:
        return self.fill(self.operation.diagnosis)

    @property
    def person(self) -> str:
        if self.operation.child:
            return "girl" if self.female else "boy"
        return "female" if self.female else "male"


def write_row(rng: random.Random, task: str, unanswerable: bool) -> tuple[str, str, str]:
    """(note, question, answer) for one of the 8 tasks; the same for the same rng state."""
    surgery = sample_surgery(rng)
    note = render(surgery, rng)
    if unanswerable:
        question, what = ABSENT[task]
        return note.text, question, f"{NOTE_LACKS} {what}."
    question, answer = QUESTIONS[task](surgery, note, rng)
    return note.text, question, answer


def sample_surgery(rng: random.Random) -> Surgery:
    operation = rng.choice(OPERATIONS)
    detail = rng.random() ** 1.5
    unit, low, high = rng.choice(DURATION_UNITS)
    low_loss, high_loss = operation.blood_loss
    return Surgery(
        operation=operation,
        side=rng.choice(("left", "right")) if operation.sided else "",
        age=rng.randint(3, 12) if operation.child else rng.randint(19, 84),
        female=rng.random() < 0.5 and operation.service not in ("urology",),
        symptom_for=(rng.randint(low, high), unit),
        test_ago=(rng.randint(1, 6), "week"),
        comorbidities=() if operation.child else tuple(rng.sample(COMORBIDITIES, rng.randint(0, 3))),
        anesthesia=rng.choice(operation.anesthesia),
        antibiotic=rng.choice(ANTIBIOTICS),
        local=rng.choice(LOCALS),
        finding=rng.choice(operation.findings),
        blood_loss=5 * round(rng.randint(low_loss, high_loss) / 5) or low_loss,
        fluids=100 * rng.randint(3, 15),
        disposition=rng.choice(DISPOSITIONS),
        follow_weeks=rng.choice((1, 2, 3, 6)),
        detail=detail,
    )


def render(s: Surgery, rng: random.Random) -> Note:
    op, note = s.operation, Note("")
    used = note.abbreviations
    lines = [f"PREOPERATIVE DIAGNOSIS: {first_upper(s.diagnosis)}."]
    postoperative = rng.choice(("Same.", f"{first_upper(s.diagnosis)}."))
    lines.append(f"POSTOPERATIVE DIAGNOSIS: {postoperative}")
    procedure_heading = rng.choice(("PROCEDURE PERFORMED:", "PROCEDURE:", "OPERATION:", "NAME OF PROCEDURE:"))
    written_procedure = first_upper(s.procedure)
    if op.abbr and rng.random() < 0.5:
        written_procedure += f" ({op.abbr})"
        used.add(op.abbr)
    lines.append(f"{procedure_heading} {written_procedure}.")
    lines.append(f"ANESTHESIA: {ANESTHESIA[s.anesthesia][0]}")
    used.update(a for a in ("LMA", "MAC") if a == s.anesthesia)
    if rng.random() < 0.5:
        lines.append(f"EBL: {s.blood_loss} mL.")
        used.add("EBL")
        note.sentences["blood_loss"] = "an EBL"
    else:
        lines.append(f"ESTIMATED BLOOD LOSS: {s.blood_loss} mL.")
        note.sentences["blood_loss"] = "an estimated blood loss"
    if rng.random() < s.detail:
        lines.append(f"FLUIDS: {s.fluids} mL of crystalloid.")
    lines.append("COMPLICATIONS: None.")
    if op.specimen:
        lines.append(f"SPECIMEN: {first_upper(op.specimen)} to pathology.")
    lines.append(rng.choice(("INDICATIONS:", "INDICATIONS FOR PROCEDURE:", "BRIEF HISTORY:")) + " "
                 + indication(s, note, rng))
    if rng.random() < 0.4 + s.detail:
        lines.append(f"FINDINGS: {first_upper(s.finding)}.")
        note.sentences["findings"] = s.finding
    lines.append(rng.choice(("DESCRIPTION OF PROCEDURE:", "PROCEDURE IN DETAIL:", "DETAILS OF PROCEDURE:")) + " "
                 + description(s, note, rng))
    if rng.random() < 0.3 + s.detail:
        lines.append(f"The patient will follow up in the clinic in {plural(s.follow_weeks, 'week')}.")
        note.sentences["follow_up"] = "yes"
    note.text = "\n".join(lines)
    assert used <= set(ABBREVIATIONS), used - set(ABBREVIATIONS)
    return note


def indication(s: Surgery, note: Note, rng: random.Random) -> str:
    op, used = s.operation, note.abbreviations
    n, unit = s.symptom_for
    years = rng.choice((f"{s.age}-year-old", f"{s.age} y/o"))
    used.update(("y/o",) if "y/o" in years else ())
    article = "an" if str(s.age).startswith("8") or s.age in (11, 18) else "a"
    first = f"This is {article} {years} {s.person} with a {n}-{unit} history of {s.fill(op.symptom)}."
    note.sentences["indication"] = first
    sentences = [first]
    if s.comorbidities and rng.random() < 0.7:
        shorthand = rng.random() < 0.5
        names = [abbr if shorthand and abbr else name for name, abbr, _ in s.comorbidities]
        used.update(abbr for name, abbr, _ in s.comorbidities if shorthand and abbr)
        pmh = "PMH" if rng.random() < 0.5 else "past medical history"
        used.update(("PMH",) if pmh == "PMH" else ())
        sentences.append(f"{'His' if not s.female else 'Her'} {pmh} is significant for {and_list(names)}.")
        note.sentences["comorbidities"] = "shorthand" if shorthand else "written"
    test, showed = op.prior_test
    ago, ago_unit = s.test_ago
    sentences.append(f"{test} {plural(ago, ago_unit)} ago showed {showed}.")
    if rng.random() < 0.3 + s.detail:
        sentences.append(rng.choice(("The risks, benefits and alternatives were discussed and consent was obtained.",
                                     "After a discussion of the risks and benefits, the patient wished to proceed.")))
    return " ".join(sentences)


def description(s: Surgery, note: Note, rng: random.Random) -> str:
    op = s.operation
    sentences = [f"The patient was brought to the OR and placed in the {op.position} position.",
                 f"After adequate anesthesia, {s.antibiotic} was given."]
    note.abbreviations.update(("OR", "IV"))
    if rng.random() < 0.3 + s.detail:
        sentences.append(f"The {s.fill(op.site)} was prepped and draped in the usual sterile fashion.")
    if rng.random() < 0.6:
        sentences.append(f"The area was infiltrated with {s.local}.")
        note.sentences["local"] = s.local
    sentences += [s.fill(step) for step in op.steps]
    pronoun = s.fill(op.pronoun_step)
    sentences.append(pronoun)
    note.sentences["pronoun"] = pronoun
    if op.closure:
        closure = (f"The wound was closed with {op.closure[0]}" +
                   (f" and the skin with {op.closure[1]}." if len(op.closure) > 1 else "."))
        sentences.append(closure)
    if rng.random() < s.detail:
        sentences.append("Sterile dressings were applied.")
    disposition, _ = s.disposition
    sentences.append(disposition)
    return " ".join(sentences)


def _medications(s: Surgery, note: Note) -> list[str]:
    given = [s.antibiotic.split(" ")[0]]
    if "local" in note.sentences:
        given.append(s.local.split("% ")[1].split(" with")[0])
    return given


def named_entities(s: Surgery, note: Note, rng: random.Random) -> tuple[str, str]:
    kind = rng.randrange(3)
    if kind == 0 and "comorbidities" in note.sentences:
        q = rng.choice(("List the conditions in the patient's past medical history.", "What comorbidities does the "
                        "patient have?"))
        return q, first_upper(and_list([name for name, _, _ in s.comorbidities])) + "."
    if kind == 1 and s.operation.closure:
        q = rng.choice(("Which sutures were used to close the wound?", "List the suture materials named in the note."))
        return q, and_list(list(s.operation.closure)) + "."
    q = rng.choice(("List the medications given during the procedure.", "Which drugs were used in the OR?"))
    return q, first_upper(and_list(_medications(s, note))) + "."


def abbreviation(s: Surgery, note: Note, rng: random.Random) -> tuple[str, str]:
    abbr = rng.choice(sorted(note.abbreviations))
    q = rng.choice((f"What does {abbr} stand for in this operative note?", f"Expand the abbreviation '{abbr}'.",
                    f"What is meant by {abbr} here?"))
    return q, f"{abbr} stands for {ABBREVIATIONS[abbr]}."


def relation(s: Surgery, note: Note, rng: random.Random) -> tuple[str, str]:
    kind = rng.randrange(3)
    if kind == 0:
        q = rng.choice((f"What was the {s.procedure} performed for?", "What condition was this operation done for?"))
        return q, f"The {s.procedure} was performed for {s.diagnosis}."
    if kind == 1 and "local" in note.sentences:
        q = rng.choice(("What local anesthetic was injected?", "Which local anesthetic was used?"))
        return q, f"The area was infiltrated with {s.local}."
    q = rng.choice(("Which antibiotic was given, and by what route?", "What antibiotic did the patient receive in "
                    "the OR?"))
    return q, f"{first_upper(s.antibiotic)} was given after adequate anesthesia."


def temporal(s: Surgery, note: Note, rng: random.Random) -> tuple[str, str]:
    kind = rng.randrange(3)
    symptom = s.fill(s.operation.symptom)
    if kind == 0:
        n, unit = s.symptom_for
        q = rng.choice((f"How long has the patient had {symptom}?", "How long had the symptoms been present before "
                        "surgery?"))
        return q, f"The patient has had {symptom} for {plural(n, unit)}."
    if kind == 1 or "follow_up" not in note.sentences:
        test = s.operation.prior_test[0]
        ago, unit = s.test_ago
        q = rng.choice((f"When was the {test[0].lower() + test[1:]} done?", f"How long ago was the {test} "
                        "performed?"))
        return q, f"The {test[0].lower() + test[1:]} was done {plural(ago, unit)} ago."
    q = rng.choice(("When is the patient to follow up?", "When should the patient be seen again?"))
    return q, f"The patient will follow up in the clinic in {plural(s.follow_weeks, 'week')}."


def coreference(s: Surgery, note: Note, rng: random.Random) -> tuple[str, str]:
    sentence = note.sentences["pronoun"]
    q = rng.choice((f"In the sentence '{sentence}', what does 'It' refer to?",
                    f"What does 'It' refer to in '{sentence}'?"))
    return q, f"'It' refers to {s.operation.referent}."


def paraphrase(s: Surgery, note: Note, rng: random.Random) -> tuple[str, str]:
    written, plain = s.disposition
    if rng.random() < 0.5:
        q = rng.choice((f"Paraphrase this sentence in plain language for the patient: '{written}'",
                        f"Explain '{written}' in simple words."))
        return q, plain
    sentence = note.sentences["indication"]
    n, unit = s.symptom_for
    q = rng.choice((f"Rewrite '{sentence}' so that a patient can understand it.",
                    f"Paraphrase the sentence '{sentence}' for the family."))
    who = {"male": "man", "female": "woman"}.get(s.person, s.person)
    article = "An" if str(s.age).startswith("8") or s.age in (11, 18) else "A"
    return q, f"{article} {s.age}-year-old {who} has had {s.fill(s.operation.symptom)} for {plural(n, unit)}."


def summary(s: Surgery, note: Note, rng: random.Random) -> tuple[str, str]:
    q = rng.choice(("Summarize the operation in one sentence.", "Give a one-line summary of this operative note.",
                    "Briefly summarize the procedure for the handoff."))
    who = {"male": "man", "female": "woman"}.get(s.person, s.person)
    return q, (f"{s.age}-year-old {who} with {s.diagnosis} underwent {s.procedure} under "
               f"{ANESTHESIA[s.anesthesia][1]} with {note.sentences['blood_loss']} of {s.blood_loss} mL and no "
               "complications.")


def question_answering(s: Surgery, note: Note, rng: random.Random) -> tuple[str, str]:
    kind = rng.randrange(4)
    if kind == 0:
        q = rng.choice(("What was the estimated blood loss?", "EBL?", "How much blood was lost?"))
        return q, f"The estimated blood loss was {s.blood_loss} mL."
    if kind == 1:
        q = rng.choice(("What type of anesthesia was used?", "What anesthesia did the patient have?"))
        return q, f"The patient had {ANESTHESIA[s.anesthesia][1]}."
    if kind == 2 and "findings" in note.sentences:
        q = rng.choice(("What were the operative findings?", "What was found at surgery?"))
        return q, f"The findings were {s.finding}."
    q = rng.choice(("Were there any complications?", "Any complications?"))
    return q, "There were no complications."


QUESTIONS = {
    "Named Entity Recognition": named_entities,
    "Abbreviation Expansion": abbreviation,
    "Relation Extraction": relation,
    "Temporal Information Extraction": temporal,
    "Coreference Resolution": coreference,
    "Paraphrasing": paraphrase,
    "Summarization": summary,
    "Question Answering": question_answering,
}
