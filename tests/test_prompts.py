import pytest

from clintune.errors import ClintuneError
from clintune.prompts.templates import (
    ASCLEPIUS,
    check_round_trip,
    encode_example,
    encode_prompt,
    fill_template,
    render_prompt,
)


def test_asclepius_template_is_byte_for_byte_the_published_one():
    assert ASCLEPIUS.startswith("You are an intelligent clinical languge model.\n")  # the original's misspelling
    assert ASCLEPIUS.endswith("[Instruction Begin]\n{question}\n[Instruction End]\n")
    assert "[Discharge Summary Begin]\n{note}\n[Discharge Summary End]\n\n" in ASCLEPIUS
    published = (
        "You are an intelligent clinical languge model.\n"
        "Below is a snippet of patient's discharge summary and a following instruction from healthcare professional.\n"
        "Write a response that appropriately completes the instruction.\n"
        "The response should provide the accurate answer to the instruction, while being concise.\n\n"
        "[Discharge Summary Begin]\n{note}\n[Discharge Summary End]\n\n"
        "[Instruction Begin]\n{question}\n[Instruction End]\n"
    )
    assert published == ASCLEPIUS


def test_notes_with_braces_are_inserted_verbatim():
    text = fill_template("asclepius", note="BP {140/90}", question="What is {x}?")
    assert "BP {140/90}\n[Discharge Summary End]" in text
    assert text.endswith("What is {x}?\n[Instruction End]\n")


def test_unknown_template_is_a_user_error():
    with pytest.raises(ClintuneError, match="unknown prompt template"):
        fill_template("nope", "n", "q")


def test_chat_rendering_puts_the_template_in_the_user_turn(tiny_tokenizer):
    prompt = render_prompt(tiny_tokenizer, "Pt stable.", "Summarize.", chat=True)
    assert prompt.startswith("<|im_start|>user\nYou are an intelligent clinical languge model.")
    assert prompt.endswith("[Instruction End]\n<|im_end|>\n<|im_start|>assistant\n")
    raw = render_prompt(tiny_tokenizer, "Pt stable.", "Summarize.", chat=False)
    assert raw == fill_template("asclepius", "Pt stable.", "Summarize.")


def test_training_sequence_masks_the_prompt_and_trains_the_eos(tiny_tokenizer):
    prompt = render_prompt(tiny_tokenizer, "Pt on heparin.", "Which drug?")
    example = encode_example(tiny_tokenizer, prompt, "Heparin.")
    prompt_ids = encode_prompt(tiny_tokenizer, prompt)
    n = len(prompt_ids)
    assert example["input_ids"][:n] == prompt_ids
    assert example["labels"][:n] == [-100] * n
    assert example["labels"][n:] == example["input_ids"][n:]
    assert example["input_ids"][-1] == tiny_tokenizer.eos_token_id == tiny_tokenizer.pad_token_id
    assert tiny_tokenizer.decode(example["input_ids"][n:-1]) == "Heparin."
    check_round_trip(tiny_tokenizer, prompt, example)


def test_round_trip_check_refuses_a_prompt_that_differs_from_training(tiny_tokenizer):
    trained = encode_example(tiny_tokenizer, render_prompt(tiny_tokenizer, "n", "q", chat=False), "a", chat=False)
    with pytest.raises(ClintuneError, match="does not match the inference prompt"):
        check_round_trip(tiny_tokenizer, render_prompt(tiny_tokenizer, "n", "q", chat=True), trained, chat=True)


def test_the_template_registry_renders_each_format(tiny_tokenizer):
    phi2 = render_prompt(tiny_tokenizer, "Pt stable.", "Summarize.", template="phi2", chat=False)
    assert phi2.startswith("Instruct: Answer to the question for the given clinical note.\n[note start]\nPt stable.")
    assert phi2.endswith("Question: Summarize.\n\nOutput: ")
    alpaca = render_prompt(tiny_tokenizer, "Pt stable.", "Summarize.", template="alpaca", chat=False)
    assert "### Instruction:\nSummarize.\n\n### Input:\nPt stable.\n\n### Response:\n" in alpaca
    chat = render_prompt(tiny_tokenizer, "Pt stable.", "Summarize.", template="chat", chat=False)
    assert chat.startswith("<|im_start|>system\nYou are a careful clinical assistant.")
    assert "<|im_start|>user\nDischarge summary:\nPt stable.\n\nQuestion: Summarize.<|im_end|>" in chat


def test_a_user_template_file_needs_both_placeholders_and_a_short_text(tiny_tokenizer, tmp_path):
    from clintune.prompts.templates import check_template_length

    good = tmp_path / "mine.txt"
    good.write_text("Note: {note}\nQ: {question}\nA:")
    assert render_prompt(tiny_tokenizer, "Pt {stable}.", "Why?", template=str(good), chat=False) == \
        "Note: Pt {stable}.\nQ: Why?\nA:"  # braces inside a note stay as they are
    assert 0 < check_template_length(tiny_tokenizer, str(good)) < 20
    missing = tmp_path / "missing.txt"
    missing.write_text("Note: {note}\nA:")
    with pytest.raises(ClintuneError, match=r"\{question\} exactly once"):
        render_prompt(tiny_tokenizer, "n", "q", template=str(missing))
    long = tmp_path / "long.txt"
    long.write_text("{note} {question} " + "Be careful. " * 400)
    with pytest.raises(ClintuneError, match="over the limit"):
        check_template_length(tiny_tokenizer, str(long))


def test_prompt_render_prints_the_exact_text(cli, tiny_model_dir, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("Pt on heparin.")
    result = cli("prompt", "render", "--model", str(tiny_model_dir), "--template", "alpaca", "--no-chat",
                 "--note", str(note), "--question", "Which drug?")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("### Input:\nPt on heparin.\n\n### Response:\n")
    assert "tokens; the template's own text" in result.stderr
    bad = cli("prompt", "render", "--model", str(tiny_model_dir), "--template", "alpacca", "--note", str(note),
              "--question", "q")
    assert bad.returncode == 2 and "unknown prompt template 'alpacca'" in bad.stderr
