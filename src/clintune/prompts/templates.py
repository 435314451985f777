"""Prompt templates and the one function that renders them.

Training, generation, evaluation (and later serving and chat) all call `render_prompt` and `encode_prompt`, so the
prompt a model is trained on is byte-for-byte the prompt it is asked at inference. `encode_example` builds the
training sequence as prompt tokens + answer tokens + EOS, which makes the inference prompt an exact token prefix of
the training sequence by construction; `check_round_trip` verifies that before step 1.
"""

from __future__ import annotations

from pathlib import Path

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

# The hands-on course's phi-2 format; the answer follows "Output: ".
PHI2 = (
    "Instruct: Answer to the question for the given clinical note.\n"
    "[note start]\n"
    "{note}\n"
    "[note end]\n"
    "\n"
    "Question: {question}\n"
    "\n"
    "Output: "
)

ALPACA = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n"
    "\n"
    "### Instruction:\n"
    "{question}\n"
    "\n"
    "### Input:\n"
    "{note}\n"
    "\n"
    "### Response:\n"
)

# "chat": the tokenizer's own chat template, with this system prompt and a plain user turn.
CHAT_SYSTEM = ("You are a careful clinical assistant. Answer the clinician's question about the patient's discharge "
               "summary accurately and concisely, using only what the summary says; if it does not say, say so.")
CHAT_USER = "Discharge summary:\n{note}\n\nQuestion: {question}"

TEMPLATES = {"asclepius": ASCLEPIUS, "phi2": PHI2, "alpaca": ALPACA, "chat": CHAT_USER}
MAX_TEMPLATE_TOKENS = 512  # a user template's own text (without note and question) may not be longer


def template_text(template: str) -> str:
    """A registered template's text, or a user template read from a .txt file (both placeholders exactly once)."""
    if template in TEMPLATES:
        return TEMPLATES[template]
    if not template.endswith(".txt"):
        raise ClintuneError(f"unknown prompt template '{template}'",
                            fix=f"choose one of: {', '.join(TEMPLATES)}, or give a .txt file with {{note}} and "
                            "{question}")
    try:
        text = Path(template).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClintuneError(f"cannot read the prompt template '{template}': {type(exc).__name__}",
                            fix="give a UTF-8 text file") from None
    for placeholder in ("{note}", "{question}"):
        if text.count(placeholder) != 1:
            raise ClintuneError(f"the template must hold {placeholder} exactly once (it has {text.count(placeholder)})",
                                where=template, fix="write {note} and {question} once each, where they go")
    return text


def check_template_length(tokenizer, template: str, limit: int = MAX_TEMPLATE_TOKENS) -> int:
    """Tokens of the template's own text; over `limit` is an error (it would crowd the note out)."""
    own = template_text(template).replace("{note}", "").replace("{question}", "")
    count = len(tokenizer(own, add_special_tokens=False)["input_ids"])
    if count > limit:
        raise ClintuneError(f"the template's own text is {count} tokens, over the limit of {limit}",
                            where=template, fix="shorten the instructions; the note needs the room")
    return count


def fill_template(template: str, note: str, question: str) -> str:
    # str.replace, not str.format: clinical notes contain braces.
    return template_text(template).replace("{note}", note).replace("{question}", question)


def render_prompt(tokenizer, note: str, question: str, template: str = "asclepius", chat: bool = True) -> str:
    """The full prompt text the model sees; with `chat`, the template is the user turn of the model's chat template.
    The "chat" template is always a chat: the model's template with clintune's system prompt."""
    text = fill_template(template, note, question)
    if not chat and template != "chat":
        return text
    if not getattr(tokenizer, "chat_template", None):
        raise ClintuneError(
            "this prompt needs a chat template but the tokenizer has none",
            fix="set prompt.chat=false (or --no-chat) to use the raw template, or use an instruct model",
        )
    messages = [{"role": "user", "content": text}]
    if template == "chat":
        messages.insert(0, {"role": "system", "content": CHAT_SYSTEM})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


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
