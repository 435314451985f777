"""Operative notes, as surgeons dictate them: diagnoses, procedure, anesthesia, blood loss, indications, findings and
the description of the operation, with gold question-answer pairs for the 8 Asclepius tasks.

    note, question, answer = write_row(random.Random(0), "Question Answering", unanswerable=False)

Like the discharge-summary writer (data/generate.py), each row starts from a sampled record (`Surgery`), the note is
written from it with varied headings and optional sections, and every gold answer is built from the record and from
what the writer recorded that it wrote, never by searching the note.
"""

from __future__ import annotations

import random
import re
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
__all__ = ["ABBREVIATIONS", "KIND", "OMISSIBLE", "write_pair", "write_row"]


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


# What an operative note may leave out, by the task whose questions ask for it: (slot, phrasings, what the note then
# lacks). An unanswerable question asks, in the words of the answerable one, for a slot its note left out.
OMISSIBLE = {
    "Question Answering": (
        ("blood_loss", ("What was the estimated blood loss?", "EBL?", "How much blood was lost?"),
         "the estimated blood loss"),
        ("findings", ("What were the operative findings?", "What was found at surgery?"), "the operative findings"),
        ("pathology", ("What did the pathology show?", "What were the pathology results?"), "the pathology results")),
    "Relation Extraction": (
        ("local", ("What local anesthetic was injected?", "Which local anesthetic was used?"), "a local anesthetic"),
        ("antibiotic", ("Which antibiotic was given, and by what route?", "What antibiotic did the patient receive in "
                        "the OR?"), "an antibiotic")),
    "Temporal Information Extraction": (
        ("duration", ("How long has the patient had {symptom}?", "How long had the symptoms been present before "
                      "surgery?"), "how long the patient has had {symptom}"),
        ("test_ago", ("When was the {test} done?", "How long ago was the {test} performed?"),
         "when the {test} was done"),
        ("follow_up", ("When is the patient to follow up?", "When should the patient be seen again?"),
         "a follow-up appointment")),
    "Named Entity Recognition": (
        ("comorbidities", ("List the conditions in the patient's past medical history.", "What comorbidities does "
                           "the patient have?"), "the patient's past medical history"),),
}


def write_pair(rng: random.Random, task: str) -> list[tuple[str, str, str]]:
    """An unanswerable row and, where the slot has an answer, its twin: the same operation written with the slot, the
    same question, the answer. The two differ only where the note does, so only reading the note tells them apart."""
    surgery = sample_surgery(rng)
    slots = [slot for slot in OMISSIBLE[task] if slot[0] != "pathology" or surgery.operation.specimen]
    slot, phrasings, what = rng.choice(slots)
    fill = {"symptom": surgery.fill(surgery.operation.symptom), "test": test_name(surgery)}
    question = rng.choice(phrasings).format(**fill)
    state = rng.getstate()
    note = render(surgery, rng, omit=frozenset((slot,)))
    rows = [(note.text, question, f"{NOTE_LACKS} {what.format(**fill)}.")]
    answer = slot_answer(surgery, slot)
    if answer:
        twin_rng = random.Random()
        twin_rng.setstate(state)
        rows.append((render(surgery, twin_rng, keep=frozenset((slot,))).text, question, answer))
    return rows


def slot_answer(s: Surgery, slot: str) -> str:
    """The answer to an OMISSIBLE slot's question from a note that holds it ("" where no note does)."""
    n, unit = s.symptom_for
    ago, ago_unit = s.test_ago
    return {"blood_loss": f"The estimated blood loss was {s.blood_loss} mL.",
            "findings": f"The findings were {s.finding}.",
            "local": f"The area was infiltrated with {s.local}.",
            "antibiotic": f"{first_upper(s.antibiotic)} was given after adequate anesthesia.",
            "duration": f"The patient has had {s.fill(s.operation.symptom)} for {plural(n, unit)}.",
            "test_ago": f"The {test_name(s)} was done {plural(ago, ago_unit)} ago.",
            "follow_up": f"The patient will follow up in the clinic in {plural(s.follow_weeks, 'week')}.",
            "comorbidities": first_upper(and_list([name for name, _, _ in s.comorbidities])) + "."
            if s.comorbidities else ""}.get(slot, "")


def write_row(rng: random.Random, task: str, unanswerable: bool) -> tuple[str, str, str]:
    """(note, question, answer) for one of the 8 tasks; the same for the same rng state."""
    if unanswerable and task in OMISSIBLE:
        return write_pair(rng, task)[0]
    surgery = sample_surgery(rng)
    note = render(surgery, rng)
    unwritten = [a for a in sorted(ABBREVIATIONS) if not re.search(rf"(?<!\w){re.escape(a)}(?!\w)", note.text)]
    if unanswerable and task == "Abbreviation Expansion" and unwritten:
        abbr = rng.choice(unwritten)
        question = rng.choice((f"What does {abbr} stand for in this operative note?", f"Expand the abbreviation "
                               f"'{abbr}'.", f"What is meant by {abbr} here?"))
        return note.text, question, f"{NOTE_LACKS} the abbreviation {abbr}."
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


def render(s: Surgery, rng: random.Random, omit: frozenset[str] = frozenset(), keep: frozenset[str] = frozenset()
           ) -> Note:
    """The note; `omit` names slots (OMISSIBLE) it must leave out, `keep` slots it must write, and others are left
    out at random."""
    op, note = s.operation, Note("")

    def written(slot: str, chance: float) -> bool:
        return (rng.random() < chance or slot in keep) and slot not in omit

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
    shorthand = rng.random() < 0.5  # drawn whether or not the line is written, so that twin notes stay in step
    if written("blood_loss", 0.85):
        lines.append(f"EBL: {s.blood_loss} mL." if shorthand else f"ESTIMATED BLOOD LOSS: {s.blood_loss} mL.")
        used.update(("EBL",) if shorthand else ())
        note.sentences["blood_loss"] = "an EBL" if shorthand else "an estimated blood loss"
    if rng.random() < s.detail:
        lines.append(f"FLUIDS: {s.fluids} mL of crystalloid.")
    lines.append("COMPLICATIONS: None.")
    if op.specimen:
        lines.append(f"SPECIMEN: {first_upper(op.specimen)} to pathology.")
    lines.append(rng.choice(("INDICATIONS:", "INDICATIONS FOR PROCEDURE:", "BRIEF HISTORY:")) + " "
                 + indication(s, note, rng, written))
    if written("findings", 0.4 + s.detail):
        lines.append(f"FINDINGS: {first_upper(s.finding)}.")
        note.sentences["findings"] = s.finding
    lines.append(rng.choice(("DESCRIPTION OF PROCEDURE:", "PROCEDURE IN DETAIL:", "DETAILS OF PROCEDURE:")) + " "
                 + description(s, note, rng, written))
    if written("follow_up", 0.3 + s.detail):
        lines.append(f"The patient will follow up in the clinic in {plural(s.follow_weeks, 'week')}.")
        note.sentences["follow_up"] = "yes"
    note.text = "\n".join(lines)
    assert used <= set(ABBREVIATIONS), used - set(ABBREVIATIONS)
    return note


def indication(s: Surgery, note: Note, rng: random.Random, written) -> str:
    op, used = s.operation, note.abbreviations
    n, unit = s.symptom_for
    years = rng.choice((f"{s.age}-year-old", f"{s.age} y/o"))
    used.update(("y/o",) if "y/o" in years else ())
    article = "an" if str(s.age).startswith("8") or s.age in (11, 18) else "a"
    if written("duration", 0.8):
        first = f"This is {article} {years} {s.person} with a {n}-{unit} history of {s.fill(op.symptom)}."
        note.sentences["duration"] = "yes"
    else:
        first = f"This is {article} {years} {s.person} with {s.fill(op.symptom)}."
    note.sentences["indication"] = first
    sentences = [first]
    shorthand, pmh = rng.random() < 0.5, "PMH" if rng.random() < 0.5 else "past medical history"
    if s.comorbidities and written("comorbidities", 0.7):
        names = [abbr if shorthand and abbr else name for name, abbr, _ in s.comorbidities]
        used.update(abbr for name, abbr, _ in s.comorbidities if shorthand and abbr)
        used.update(("PMH",) if pmh == "PMH" else ())
        sentences.append(f"{'His' if not s.female else 'Her'} {pmh} is significant for {and_list(names)}.")
        note.sentences["comorbidities"] = "shorthand" if shorthand else "written"
    test, showed = op.prior_test
    ago, ago_unit = s.test_ago
    if written("test_ago", 0.8):
        sentences.append(f"{test} {plural(ago, ago_unit)} ago showed {showed}.")
        note.sentences["test_ago"] = "yes"
    else:
        sentences.append(f"{test} showed {showed}.")
    if rng.random() < 0.3 + s.detail:
        sentences.append(rng.choice(("The risks, benefits and alternatives were discussed and consent was obtained.",
                                     "After a discussion of the risks and benefits, the patient wished to proceed.")))
    return " ".join(sentences)


def description(s: Surgery, note: Note, rng: random.Random, written) -> str:
    op = s.operation
    sentences = [f"The patient was brought to the OR and placed in the {op.position} position."]
    note.abbreviations.add("OR")
    if written("antibiotic", 1.0):
        sentences.append(f"After adequate anesthesia, {s.antibiotic} was given.")
        note.abbreviations.add("IV")
        note.sentences["antibiotic"] = "yes"
    if rng.random() < 0.3 + s.detail:
        sentences.append(f"The {s.fill(op.site)} was prepped and draped in the usual sterile fashion.")
    if written("local", 0.6):
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
    given = [s.antibiotic.split(" ")[0]] if "antibiotic" in note.sentences else []
    if "local" in note.sentences:
        given.append(s.local.split("% ")[1].split(" with")[0])
    return given


def named_entities(s: Surgery, note: Note, rng: random.Random) -> tuple[str, str]:
    kind = rng.randrange(4)
    if kind == 3:
        q = rng.choice(("List the preoperative diagnoses.", "What was the preoperative diagnosis?"))
        return q, f"{first_upper(s.diagnosis)}."
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


def test_name(s: Surgery) -> str:
    """The preoperative test as a sentence names it mid-way: "Ultrasound" -> "ultrasound", "CT urogram" unchanged."""
    test = s.operation.prior_test[0]
    return test if test[:2].isupper() else test[0].lower() + test[1:]


def temporal(s: Surgery, note: Note, rng: random.Random) -> tuple[str, str]:
    symptom = s.fill(s.operation.symptom)
    test = test_name(s)
    n, unit = s.symptom_for
    ago, ago_unit = s.test_ago
    asked = {
        "duration": ((f"How long has the patient had {symptom}?", "How long had the symptoms been present before "
                      "surgery?"), f"The patient has had {symptom} for {plural(n, unit)}."),
        "test_ago": ((f"When was the {test} done?", f"How long ago was the {test} performed?"),
                     f"The {test} was done {plural(ago, ago_unit)} ago."),
        "follow_up": (("When is the patient to follow up?", "When should the patient be seen again?"),
                      f"The patient will follow up in the clinic in {plural(s.follow_weeks, 'week')}."),
    }
    held = [slot for slot in asked if slot in note.sentences]
    if not held:  # a terse note that dates nothing: the question is asked, and the answer says so
        return f"When was the {test} done?", f"{NOTE_LACKS} when the {test} was done."
    phrasings, answer = asked[rng.choice(held)]
    return rng.choice(phrasings), answer


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
    how_long = f" for {plural(n, unit)}" if "duration" in note.sentences else ""
    return q, f"{article} {s.age}-year-old {who} has had {s.fill(s.operation.symptom)}{how_long}."


def summary(s: Surgery, note: Note, rng: random.Random) -> tuple[str, str]:
    q = rng.choice(("Summarize the operation in one sentence.", "Give a one-line summary of this operative note.",
                    "Briefly summarize the procedure for the handoff.",
                    "Summarize this operative note in one or two sentences.",
                    f"Give a short summary of the {s.procedure}."))
    who = {"male": "man", "female": "woman"}.get(s.person, s.person)
    loss = f" with {note.sentences['blood_loss']} of {s.blood_loss} mL" if "blood_loss" in note.sentences else ""
    # Two sentences, as clinicians summarize an operation: who had what done and how, then what was found and how
    # it ended (the note's own disposition sentence).
    findings = f" The findings were {s.finding}." if "findings" in note.sentences else ""
    return q, (f"{s.age}-year-old {who} with {s.diagnosis} underwent {s.procedure} under "
               f"{ANESTHESIA[s.anesthesia][1]}{loss} and no complications.{findings} {s.disposition[0]}")


def question_answering(s: Surgery, note: Note, rng: random.Random) -> tuple[str, str]:
    kind = rng.randrange(4)
    if kind == 0 and "blood_loss" in note.sentences:
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
