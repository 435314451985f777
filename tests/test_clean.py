"""Cleaning an export's flattened note: headings and numbered items back on their own lines, no word changed."""

from clintune.data.clean import clean_export_text


def test_headings_and_numbered_items_return_to_their_lines():
    flat = ("PAST MEDICAL HISTORY:, Hypertension.,MEDICATIONS: , ,1.  Lisinopril 10 mg.,2.  Aspirin.  If ,he "
            "stops, call.,2-D M-MODE: ,1.  Normal LV.")
    assert clean_export_text(flat) == ("PAST MEDICAL HISTORY: Hypertension.\nMEDICATIONS:\n1. Lisinopril 10 mg.\n"
                                       "2. Aspirin. If he stops, call.\n2-D M-MODE:\n1. Normal LV.")


def test_entities_are_unescaped_and_words_are_kept():
    flat = "FINDINGS:, A &quot;stone&quot; of 4 mm, seen at the UVJ, left side &amp; no hydronephrosis."
    cleaned = clean_export_text(flat)
    assert cleaned == 'FINDINGS: A "stone" of 4 mm, seen at the UVJ, left side & no hydronephrosis.'
    assert cleaned.split()[1:] == clean_export_text(cleaned).split()[1:]  # cleaning twice changes nothing
