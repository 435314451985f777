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
