"""Prompt techniques: few-shot turns, BM25 retrieval, chain-of-thought extraction, self-consistency's vote, and
`clintune prompt compare` running all five on a real tiny run."""

import json

from clintune.evaluate.run_eval import consensus
from clintune.prompts.techniques import ExamplePicker, Technique, extract_answer, technique_prompt

TRAIN = [
    {"note": "Pt with CAP on ceftriaxone.", "question": "Which antibiotic?", "answer": "Ceftriaxone."},
    {"note": "Pt with DVT started on heparin drip.", "question": "Which anticoagulant?", "answer": "Heparin."},
    {"note": "Pt with DKA on insulin infusion.", "question": "Which infusion?", "answer": "Insulin."},
]
ROW = {"note": "Pt with PE, heparin drip begun.", "question": "Which anticoagulant was used?", "answer": "Heparin."}


def test_few_shot_examples_are_earlier_turns_or_blocks(tiny_tokenizer):
    chat = technique_prompt(tiny_tokenizer, ROW, "asclepius", True, Technique("few-shot", 2), TRAIN[:2])
    assert chat.count("<|im_start|>user") == 3 and chat.count("<|im_start|>assistant") == 3
    assert "<|im_start|>assistant\nCeftriaxone.<|im_end|>" in chat and chat.endswith("<|im_start|>assistant\n")
    raw = technique_prompt(tiny_tokenizer, ROW, "phi2", False, Technique("few-shot", 2), TRAIN[:2])
    assert raw.count("Instruct:") == 3 and "Output: Ceftriaxone.\n\n" in raw and raw.endswith("Output: ")


def test_retrieval_picks_the_nearest_examples_and_random_is_seeded():
    nearest = ExamplePicker(TRAIN, retrieve=True, k=1).pick(ROW)
    assert nearest == [TRAIN[1]]  # the heparin example
    picker = ExamplePicker(TRAIN, retrieve=False, k=2, seed=1)
    assert picker.pick(ROW) == picker.pick(ROW) and len(picker.pick(ROW)) == 2


def test_chain_of_thought_and_self_consistency():
    cot = technique_prompt(None, ROW, "asclepius", False, Technique("cot"))
    assert "step by step" in cot and "'Answer:'" in cot
    assert extract_answer("The note says heparin.\nAnswer: Heparin drip") == "Heparin drip"
    assert extract_answer("no marker here") == "no marker here"
    assert consensus(["Heparin.", "warfarin", "heparin"]) == "Heparin."  # majority after normalisation
    assert consensus(["heparin drip", "a heparin infusion", "warfarin"]) == "heparin drip"  # medoid by token F1


def test_prompt_compare_runs_every_technique(cli, tuned_run, tmp_path):
    result = cli("prompt", "compare", "--run", str(tuned_run), "--limit", "2", "--max-new-tokens", "6", "--k", "2",
                 "--out", str(tmp_path / "compare"), "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads(result.stdout)
    assert list(results) == ["zero-shot", "few-shot", "retrieved-few-shot", "cot", "self-consistency"]
    assert all(block["overall"]["n"] == 2 and "rouge_l" in block["overall"] for block in results.values())
    assert (tmp_path / "compare" / "comparison.json").is_file()
