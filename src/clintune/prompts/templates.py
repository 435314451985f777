"""Prompt templates and the one function that renders them.

Training, generation, evaluation (and later serving and chat) all call `render_prompt` and `encode_prompt`, so the
prompt a model is trained on is byte-for-byte the prompt it is asked at inference. `encode_example` builds the
training sequence as prompt tokens + answer tokens + EOS, which makes the inference prompt an exact token prefix of
the training sequence by construction; `check_round_trip` verifies that before step 1.
"""

from __future__ import annotations

from clintune.errors import ClintuneError

# Kept byte-for-byte for compatibility with the released Asclepius checkpoints, misspelling ("languge") included.
# The answer starts right after the final newline (the training code's variant, with no trailing space).
ASCLEPIUS = (
    "You are an intelligent clinical languge model.\n"
    "Below is a snippet of patient's discharge summary and a following instruction from healthcare professional.\n"
    "Write a response that appropriately completes the instruction.\n"
    "The response should provide the accurate answer to the instruction, while being concise.\n"
    "\n"
    "[Discharge Summary Begin]\n"
    "{note}\n"
    "[Discharge Summary End]\n"
    "\n"
    "[Instruction Begin]\n"
    "{question}\n"
    "[Instruction End]\n"
)

TEMPLATES = {"asclepius": ASCLEPIUS}


def fill_template(template: str, note: str, question: str) -> str:
    try:
        text = TEMPLATES[template]
    except KeyError:
        raise ClintuneError(
            f"unknown prompt template '{template}'", fix=f"choose one of: {', '.join(sorted(TEMPLATES))}"
        ) from None
    # str.replace, not str.format: clinical notes contain braces.
    return text.replace("{note}", note).replace("{question}", question)


def render_prompt(tokenizer, note: str, question: str, template: str = "asclepius", chat: bool = True) -> str:
    """The full prompt text the model sees; with `chat`, the template is the user turn of the model's chat template."""
    text = fill_template(template, note, question)
    if not chat:
        return text
    if not getattr(tokenizer, "chat_template", None):
        raise ClintuneError(
            "prompt.chat is on but the tokenizer has no chat template",
            fix="set prompt.chat=false to use the raw template, or use an instruct model",
        )
    return tokenizer.apply_chat_template(
        [{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True
    )


def encode_prompt(tokenizer, prompt: str, chat: bool = True) -> list[int]:
    """Token ids of a rendered prompt. A chat template already writes its own special tokens; a raw prompt gets BOS."""
    return tokenizer(prompt, add_special_tokens=not chat)["input_ids"]


def encode_example(tokenizer, prompt: str, answer: str, chat: bool = True) -> dict[str, list[int]]:
    """Training sequence prompt + answer + EOS, with the prompt masked (-100) and the EOS trained."""
    if tokenizer.eos_token_id is None:
        raise ClintuneError("the tokenizer has no EOS token", fix="use a tokenizer that defines eos_token")
    prompt_ids = encode_prompt(tokenizer, prompt, chat)
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return {
        "input_ids": prompt_ids + answer_ids,
        "labels": [-100] * len(prompt_ids) + answer_ids,
    }


def check_round_trip(tokenizer, prompt: str, example: dict[str, list[int]], chat: bool = True) -> None:
    """Refuse to train if the inference prompt is not exactly the masked prefix of the training sequence."""
    inference_ids = encode_prompt(tokenizer, prompt, chat)
    n_prompt = sum(1 for label in example["labels"] if label == -100)
    if example["input_ids"][:n_prompt] != inference_ids or len(inference_ids) != n_prompt:
        raise ClintuneError(
            "the training prompt does not match the inference prompt token for token",
            fix="use the same template and chat setting for training and generation",
        )
    if example["labels"][-1] != tokenizer.eos_token_id:
        raise ClintuneError("the training sequence does not end with a trained EOS token", fix="report this as a bug")
