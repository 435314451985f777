"""`clintune score` and the metrics behind it: parity with rouge-score and sacrebleu, Korean ROUGE, list and
unanswerable answers, bootstrap intervals, and bad input."""

import importlib.util
import json

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from clintune.errors import ClintuneError
from clintune.evaluate.metrics import Scorer, set_f1
from clintune.evaluate.scores import score_predictions

PREDICTIONS = ["The patient was started on heparin.", "Ceftriaxone and azithromycin.", "No.",
               "She was discharged home on day 5.", "The note does not mention a biopsy."]
ANSWERS = ["Heparin infusion was started on admission.", "IV ceftriaxone, azithromycin", "Yes, on day 2.",
           "The patient went home on hospital day 5.", "The discharge summary does not mention a biopsy."]
TASKS = ["QA", "NER", "QA", "Temporal", "QA"]


def test_numbers_equal_the_reference_libraries_exactly():
    result = score_predictions(PREDICTIONS, ANSWERS, TASKS, bootstrap=50)
    reference = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    for name, key in (("rouge1", "rouge1"), ("rouge2", "rouge2"), ("rougeL", "rouge_l")):
        expected = [reference.score(a, p)[name].fmeasure for p, a in zip(PREDICTIONS, ANSWERS, strict=True)]
        assert [e[key] for e in result["per_example"]] == expected
        assert result["overall"][key] == pytest.approx(sum(expected) / len(expected), abs=1e-12)
    assert result["overall"]["bleu"] == pytest.approx(sacrebleu.corpus_bleu(PREDICTIONS, [ANSWERS]).score, abs=1e-9)
    assert result["overall"]["chrf"] == pytest.approx(sacrebleu.corpus_chrf(PREDICTIONS, [ANSWERS]).score, abs=1e-9)
    qa = [i for i, t in enumerate(TASKS) if t == "QA"]
    qa_bleu = sacrebleu.corpus_bleu([PREDICTIONS[i] for i in qa], [[ANSWERS[i] for i in qa]]).score
    assert result["per_task"]["QA"]["bleu"] == pytest.approx(qa_bleu, abs=1e-9)


def test_the_sacrebleu_adapter_holds_for_the_installed_version():
    # The adapter uses sacrebleu's per-example statistics; a sacrebleu release that changed them must fail here.
    from sacrebleu.metrics import BLEU, CHRF

    from clintune.evaluate.sacrebleu_stats import CorpusStatistics, version_is_tested

    assert version_is_tested(), f"sacrebleu {sacrebleu.__version__}: check the adapter, then add it to the list"
    for metric, corpus in ((BLEU(), sacrebleu.corpus_bleu), (CHRF(), sacrebleu.corpus_chrf)):
        statistics = CorpusStatistics(metric, PREDICTIONS, ANSWERS)
        assert statistics.per_example.shape[0] == len(PREDICTIONS)
        assert statistics.score(list(range(len(PREDICTIONS)))) == pytest.approx(
            corpus(PREDICTIONS, [ANSWERS]).score, abs=1e-9)
        assert statistics.score([1, 1, 3]) == pytest.approx(
            corpus([PREDICTIONS[i] for i in (1, 1, 3)], [[ANSWERS[i] for i in (1, 1, 3)]]).score, abs=1e-9)


def test_intervals_hold_the_estimate_and_tasks_are_kept_apart():
    result = score_predictions(PREDICTIONS, ANSWERS, TASKS, bootstrap=200)
    for key in ("rouge_l", "token_f1", "bleu", "chrf"):
        low, high = result["overall"]["ci95"][key]
        assert low <= result["overall"][key] <= high
    assert {t: b["n"] for t, b in result["per_task"].items()} == {"NER": 1, "QA": 3, "Temporal": 1}
    assert result["overall"]["n_unanswerable"] == 1 and result["overall"]["unanswerable_accuracy"] == 1.0
    assert result["overall"]["unanswerable_false_alarm"] == 0.0


def test_korean_rouge_is_not_zero_for_identical_strings():
    korean = "환자는 폐렴으로 입원하여 항생제 치료를 받았다"
    assert Scorer().score(korean, korean)["rouge_l"] == 0.0  # rouge-score's tokenizer drops Hangul: the trap
    assert Scorer("ko-char").score(korean, korean)["rouge_l"] == 1.0
    assert 0 < Scorer("ko-char").score("환자는 폐렴으로 입원", korean)["rouge_l"] < 1
    if importlib.util.find_spec("kiwipiepy"):
        assert Scorer("ko-morph").score(korean, korean)["rouge_l"] == 1.0
    else:
        with pytest.raises(ClintuneError, match="kiwipiepy"):
            Scorer("ko-morph")


def test_list_answers_get_a_set_f1():
    assert set_f1("heparin; aspirin", "aspirin, heparin and warfarin") == pytest.approx(0.8)
    assert set_f1("- aspirin\n- heparin\n- warfarin", "aspirin, heparin and warfarin") == 1.0
    assert set_f1("aspirin", "aspirin") is None  # a one-item gold answer is not a list


def test_score_cli_json_contract_and_bad_lines(cli, tmp_path):
    path = tmp_path / "predictions.jsonl"
    path.write_text("".join(json.dumps({"prediction": p, "answer": a, "task": t}) + "\n"
                            for p, a, t in zip(PREDICTIONS, ANSWERS, TASKS, strict=True)))
    result = cli("score", "--predictions", str(path), "--json")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    for block in (scores["overall"], *scores["per_task"].values()):
        assert {"rouge1", "rouge2", "rouge_l", "bleu", "chrf", "token_f1", "exact_match"} <= set(block)
    table = cli("score", "--predictions", str(path))
    assert "ROUGE-L" in table.stdout and "Temporal" in table.stdout
    path.write_text(path.read_text() + '{"prediction": "x"}\n')
    bad = cli("score", "--predictions", str(path))
    assert bad.returncode == 2 and "line 6" in bad.stderr and "Traceback" not in bad.stderr


def test_bertscore_without_its_package_is_one_line(cli, tmp_path, tiny_model_dir):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"prediction": "heparin", "answer": "heparin drip"}) + "\n")
    result = cli("score", "--predictions", str(path), "--bertscore", str(tiny_model_dir))
    if importlib.util.find_spec("bert_score"):
        assert result.returncode == 0 and "bertscore" not in result.stderr
    else:
        assert result.returncode == 2 and "bert-score package" in result.stderr and "Traceback" not in result.stderr
