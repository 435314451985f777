"""`clintune chat` driven from a script: a note, questions on stdin, streamed answers on stdout, /base and /tuned."""


from clintune.prompts.templates import encode_prompt, render_prompt
from clintune.serve.engine import Sampling, generate, open_served

NOTE = ("Discharge Summary:\nA 67-year-old man was admitted with community-acquired pneumonia. He received IV "
        "ceftriaxone and azithromycin, improved by hospital day 3, and was discharged on oral amoxicillin.")
QUESTION = "Which antibiotics did the patient receive?"


def expected_answer(run, tuned: bool) -> str:
    served = open_served(run, None, None, keep_adapter=True)
    ids = encode_prompt(served.tokenizer, render_prompt(served.tokenizer, NOTE, QUESTION, served.template,
                                                        served.chat), served.chat)
    if tuned:
        return generate(served, ids, Sampling(max_tokens=24, temperature=0.0)).text
    with served.model.disable_adapter():
        return generate(served, ids, Sampling(max_tokens=24, temperature=0.0)).text


def test_a_script_feeds_questions_and_reads_tuned_and_base_answers(cli, tuned_run, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text(NOTE)
    script = f"{QUESTION}\n/base\n{QUESTION}\n/tuned\n/quit\n"
    result = cli("chat", "--run", str(tuned_run), "--note", str(note), "--max-tokens", "24", input=script)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    base_at = lines.index("[base: adapter off]")
    tuned_text, base_text = "\n".join(lines[:base_at]), "\n".join(lines[base_at + 1:lines.index("[tuned: adapter on]")])
    assert tuned_text == expected_answer(tuned_run, tuned=True)
    assert base_text == expected_answer(tuned_run, tuned=False)
    assert tuned_text != base_text  # the switch really takes the adapter off


def test_mistakes_in_chat_are_one_line_and_the_chat_goes_on(cli, tuned_run, tmp_path):
    script = f"{QUESTION}\n/note {tmp_path / 'missing.txt'}\n/frobnicate\n/quit\n"
    result = cli("chat", "--run", str(tuned_run), input=script)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    for message in ("no note loaded", "cannot read the note", "unknown command /frobnicate"):
        assert message in result.stderr
