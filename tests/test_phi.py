import json
import re

import pytest

from clintune.config import data_section
from clintune.data.generate import generate_rows
from clintune.data.load import load_data
from clintune.data.phi import CLASSES, find_identifiers, masked_snippet, scan_rows
from clintune.data.plant import TEMPLATES, plant_identifiers
from clintune.data.prepare import prepare
from clintune.data.save import save_rows
from clintune.errors import ClintuneError

EXAMPLES = [
    ("Patient: Maria Lopez", "name", "Maria Lopez"),
    ("Name: O'Brien, Kevin", "name", "O'Brien, Kevin"),
    ("Discussed with his daughter, Aisha.", "name", "Aisha"),
    ("DOB: 3/7/51", "date", "3/7/51"),
    ("Admitted on March 3, 2021.", "date", "March 3, 2021"),
    ("Pt is a 94 y/o woman.", "age", "94 y/o"),
    ("Fax (617) 555-0199", "fax", "(617) 555-0199"),
    ("Call 617-555-0123 for results.", "phone", "617-555-0123"),
    ("SSN: 123-45-6789", "ssn", "123-45-6789"),
    ("MRN# 00482910", "mrn", "00482910"),
    ("Member ID: XHP123456789", "health_plan", "XHP123456789"),
    ("Lives at 45 Oak Ave, Apt 3.", "address", "45 Oak Ave, Apt 3"),
    ("Springfield, MA 01103", "zip", "01103"),
    ("see https://portal.example.org/p/88", "url", "https://portal.example.org/p/88"),
    ("login from 192.168.14.22.", "ip", "192.168.14.22"),
    ("license plate 7ABC123", "vehicle", "7ABC123"),
    ("Pacemaker serial no. PM88213X", "device", "PM88213X"),
    ("e-mail ana.lee@example.com", "email", "ana.lee@example.com"),
    ("PSA rose from 7/2008 (4.2) to 4/2009.", "date", "7/2008"),
    ("s/p renal transplant in 12/07, now here.", "date", "12/07"),
    ("Cystoscopy in November showed Ta tumors.", "date", "November"),
    ("Biopsy June of this year was negative.", "date", "June"),
    ("She saw her dentist before Thanksgiving.", "date", "Thanksgiving"),
    ("Feel free to call the office at 327-8850.", "phone", "327-8850"),
    # Places with no label: a facility by its last words, a town before a state written out, a town in the gazetteer.
    ("Followed at Massachusetts General Hospital for years.", "place", "Massachusetts General Hospital"),
    ("Treated at St. Mary's Medical Center.", "place", "St. Mary's Medical Center"),
    ("He was seen by the VA last year.", "place", "VA"),
    ("A graduate of the University of Nebraska.", "place", "University of Nebraska"),
    ("He is from Tarrytown, New York.", "address", "Tarrytown"),
    ("She lives in Tarrytown with her son.", "place", "Tarrytown"),
    ("Moved from Winston-Salem last spring.", "place", "Winston-Salem"),
    # A full name with no cue: a given name before a rare capitalised word.
    ("Attends support groups with Megan Halvorsen weekly.", "name", "Megan Halvorsen"),
    # An organisation named after its town; a facility by its initials where a place is expected.
    ("He had a poor experience with the Tarrytown program.", "place", "Tarrytown program"),
    ("Treated in the Northern Tarrytown, and later at home.", "place", "Northern Tarrytown"),
    ("She works at the New York department of transportation.", "place", "New York department of transportation"),
    ("I reviewed the Tarrytown Bariatric Associates consent form with her.", "place",
     "Tarrytown Bariatric Associates"),
    ("He will follow up with the urology clinic at UCSF in 6 weeks.", "place", "UCSF"),
    # A patient called by a first name: told what to do, or the subject of what was done.
    ("Instructed Omar to avoid caffeinated beverages.", "name", "Omar"),
    ("PROCEDURE: Emma was placed under general anesthetic.", "name", "Emma"),
    ("MRN: 00482910\nRobert was brought to the operating room.", "name", "Robert"),  # a number on the line before
]
# Capitalised words that are the note's own vocabulary: headings, positions, wards, instruments named after people.
NOT_PLACES = ("Brief Hospital Course: uneventful. Placed in Trendelenburg position. Flushed in Normal saline. Seen in "
              "Emergency Department. Returned from Radiology. In Summary, stable. Sent to Recovery. General Hospital "
              "policy applies. Grasped with a Kelly Hemostat and Allis Clamps; a Jackson Pratt drain was left. "
              "Seen in the Pediatric Urology Clinic. Removed from Berry's ligament. Suspended from Mayo stand. Placed "
              "in Mayfield 3-point head fixation. Power of attorney in Florida. A #15 Bard-Parker was used. A Parker "
              "was placed. Held with the Foley. Grasped with the Babcock and lifted. Then the Kelly Clamp. Admitted at "
              "ICU, followed at OSH. Advised Tylenol and ice. Encouraged Motrin as needed. Told Mom to "
              "call if febrile. GCS on the Glasgow Coma Scale was 15; the New York Heart Association class II.")
CLINICAL_LOOKALIKES = (
    "BP 132/84, HR 92, SpO2 94% on RA. Strength 5/5. 2/6 systolic murmur. EF 35-40%. Lipase of 1,850 U/L. "
    "Insulin infusion at 0.1 units/kg/h. D/c'd on HD 12. s/p appendectomy in 2009. 74 y/o F. Dr visit next week. "
    "Follow-up in 2 wks. WBC 14.2 K/uL. Na 134. Dose 1 g IV q24h. pH 7.31. Discharge Diagnoses: 1. CAP. Pain rated "
    "in 7/10 on arrival, 3/10 after. May call if worse; she may return in 2 weeks. Call with a PSA over 4.0-10.0."
)


@pytest.mark.parametrize(("text", "cls", "value"), EXAMPLES)
def test_each_identifier_class_is_found_where_it_is(text, cls, value):
    found = [(c, text[s:e]) for c, s, e in find_identifiers(text)]
    assert (cls, value) in found


def test_clinical_numbers_are_not_identifiers():
    assert find_identifiers(CLINICAL_LOOKALIKES) == []


def test_headings_positions_wards_and_instruments_are_not_identifiers():
    assert find_identifiers(NOT_PLACES) == []


def test_a_masked_facility_shows_no_part_of_its_name_and_leaves_the_word_hospital_alone():
    text = "Seen at Massachusetts General Hospital in May. Hospital course was brief; Massachusetts law applies."
    finding = next(f for f in scan_rows([{"note": text}], ["note"]) if f.cls == "place")
    assert text[finding.start:finding.end] == "Massachusetts General Hospital"
    snippet = masked_snippet(text, finding, 80)
    assert "massachusetts" not in snippet.lower() and snippet.count("[PLACE]") == 2
    assert "Hospital course" in snippet  # the facility's generic words said elsewhere name no one


def test_planted_identifiers_are_found_with_high_recall_and_precision():
    rows, truth = plant_identifiers(generate_rows(400, seed=8), rate=0.5, seed=8)
    findings = list(scan_rows(rows, ["note", "question", "answer"]))
    assert {t["class"] for t in truth} == set(CLASSES)  # every class is planted
    assert len({t for t in TEMPLATES}) > 40

    def overlaps(f, t):
        return f.row == t["row"] and f.column == t["column"] and f.cls == t["class"] and f.start < t["end"] \
            and t["start"] < f.end

    recall = sum(any(overlaps(f, t) for f in findings) for t in truth) / len(truth)
    precision = sum(any(overlaps(f, t) for t in truth) for f in findings) / len(findings)
    assert recall >= 0.95 and precision >= 0.90


def test_the_masked_snippet_never_shows_an_identifier():
    text = "Patient: Maria Lopez, MRN: 4829103, seen 03/14/2021 at 45 Oak Ave."
    for cls, start, _end in find_identifiers(text):
        snippet = masked_snippet(text, next(f for f in scan_rows([{"note": text}], ["note"]) if f.start == start))
        for _, s, e in find_identifiers(text):
            assert text[s:e] not in snippet
        assert f"[{cls.upper()}]" in snippet


# Names that end a match early or hide in their context: (text, the name as the finding must cover it). A name said
# again later without its title must not show either.
ADVERSARIAL = [
    ("Dr. McDevitt saw her at noon; McDevitt agreed.", "McDevitt"),
    ("Mr. O'Neil was seen, and O\u2019Neil's wife too.", "O'Neil"),
    ("Mrs. Smith-Jones called back.", "Smith-Jones"),
    ("Operated on by Dr. van der Berg today.", "van der Berg"),
    ("Dr. Garcia Marquez consulted.", "Garcia Marquez"),
    ("Signed, Dr. J. R. Hallowell.", "J. R. Hallowell"),
    ("Seen (Dr. Okafor), then again by Dr.Okafor.", "Okafor"),
    ("Dr. McDevittwas present.", "McDevittwas"),
    ("Per Dr. Nguyen's note, stable.", "Nguyen's"),
    ("Patient: Maria Lopez. Maria called at 5.", "Maria Lopez"),
    ("Seen in consultation from Jackson Miller at the clinic.", "Jackson Miller"),  # "Jackson" is a town too
]


def _fragments(name: str) -> set[str]:
    """Every run of 3 characters of each word of the name, lower-cased: what a leak would show."""
    words = [w for w in re.split(r"[^\w]+", name.lower()) if len(w) >= 3]
    return {w[i:i + 3] for w in words for i in range(len(w) - 2)}


@pytest.mark.parametrize(("text", "name"), ADVERSARIAL)
def test_no_fragment_of_a_found_name_survives_masking(text, name):
    findings = list(scan_rows([{"note": text}], ["note"]))
    # The finding covers the whole name, not the part up to an inner capital, an apostrophe or a hyphen.
    assert text[findings[0].start:findings[0].end] == name
    for finding in findings:
        for width in (0, 3, 11, 24, 60):
            snippet = masked_snippet(text, finding, width).lower()
            leaked = {fragment for fragment in _fragments(name) if fragment in snippet}
            assert not leaked, (snippet, leaked)
            assert "[name]" in snippet


def test_scan_phi_command_exit_codes_and_json(tmp_path, cli):
    clean, dirty = tmp_path / "clean.jsonl", tmp_path / "dirty.jsonl"
    save_rows(generate_rows(20, seed=1), clean)
    rows = generate_rows(20, seed=1)
    rows[3]["note"] += "\nMRN: 4829103"
    rows[11]["answer"] = "Call Ms. Okafor at 617-555-0123."
    save_rows(rows, dirty)
    assert cli("data", "scan-phi", str(clean)).returncode == 0
    result = cli("data", "scan-phi", str(dirty), "--json")
    assert result.returncode == 2
    findings = json.loads(result.stdout)["findings"]
    assert {"row": 3, "column": "note", "class": "mrn"} in findings
    assert {"row": 11, "column": "answer", "class": "phone"} in findings
    assert {"row": 11, "column": "answer", "class": "name"} in findings
    shown = cli("data", "scan-phi", str(dirty))
    assert shown.returncode == 2 and "4829103" not in shown.stdout and "555-0123" not in shown.stdout
    assert "Okafor" not in shown.stdout and "[MRN]" in shown.stdout


def test_training_data_with_identifiers_is_refused_unless_allowed(tmp_path, cli):
    rows = generate_rows(80, seed=3)
    rows[5]["note"] = "Patient: Maria Lopez\n" + rows[5]["note"]
    path = tmp_path / "notes.jsonl"
    save_rows(rows, path)
    with pytest.raises(ClintuneError, match="1 rows contain patient identifiers \\(name 1\\)"):
        prepare(load_data(path), data_section(path=str(path), test_size=2))
    allowed = prepare(load_data(path), data_section(path=str(path), test_size=2, allow_phi="IRB 2026-17, local only"))
    assert allowed.card["identifier_scan"]["allowed_with_reason"] == "IRB 2026-17, local only"
    assert allowed.card["identifier_scan"]["by_class"] == {"name": 1}

    every_row = ["data.max_note_chars=null", "data.max_tokens=null", "data.sample=null"]
    refused = cli("demo", "--quick", "--out", str(tmp_path / "run"), f"data.path={path}", *every_row)
    assert refused.returncode == 2 and "patient identifiers" in refused.stderr and "--allow-phi" in refused.stderr
    assert "Maria" not in refused.stderr + refused.stdout
    assert not (tmp_path / "run").exists()  # refused before a run directory was made


def test_a_note_asked_several_questions_is_scanned_once(monkeypatch):
    from clintune.data import phi

    scanned = []
    real = phi.find_identifiers
    monkeypatch.setattr(phi, "find_identifiers", lambda text: scanned.append(text) or real(text))
    note = "Seen by Dr. McDevitt on 03/14/2021."
    rows = [{"note": note, "question": f"Question {i}?"} for i in range(3)]
    findings = list(phi.scan_rows(rows, ["note", "question"]))
    assert scanned.count(note) == 1
    assert [(f.row, f.cls) for f in findings] == [(0, "name"), (0, "date"), (1, "name"), (1, "date"), (2, "name"),
                                                   (2, "date")]
