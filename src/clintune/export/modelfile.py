"""An Ollama Modelfile whose TEMPLATE is the exact prompt the run was trained on.

The prompt is rendered by clintune's own `render_prompt` with two marker strings in place of the note and the
question, and the markers become `{{ .System }}` (the note) and `{{ .Prompt }}` (the question). Everything else,
the chat format's special tokens and the Asclepius instructions included, stays literal text, so Ollama produces the
training prompt byte for byte; `{{ .Response }}` and the EOS follow, as the training sequence ended. The note rides
in the system slot because Ollama's templates have one free-text slot per message: `ollama run` takes it with
`/set system`, the API with `"system"`.
"""

from __future__ import annotations

from clintune.errors import ClintuneError
from clintune.prompts.templates import render_prompt

NOTE_MARK = "CLINTUNE-NOTE-SLOT-5b1d"
QUESTION_MARK = "CLINTUNE-QUESTION-SLOT-93c7"


def ollama_template(tokenizer, template: str, chat: bool) -> str:
    """The Go template: the training prompt with the note as .System and the question as .Prompt, then the
    response and the EOS the training sequence ended with."""
    rendered = render_prompt(tokenizer, NOTE_MARK, QUESTION_MARK, template, chat)
    if rendered.count(NOTE_MARK) != 1 or rendered.count(QUESTION_MARK) != 1:
        raise ClintuneError("the chat template repeats or drops the user's message, so no Ollama TEMPLATE can "
                            "reproduce the training prompt", fix="export with prompt.chat=false, or use the GGUF's "
                            "own chat template")
    before_note, rest = rendered.split(NOTE_MARK)
    if QUESTION_MARK in before_note:  # a template may put the question first
        first, between = before_note.split(QUESTION_MARK)
        parts = [_literal(first), "{{ .Prompt }}", _literal(between), "{{ .System }}", _literal(rest)]
    else:
        between, after = rest.split(QUESTION_MARK)
        parts = [_literal(before_note), "{{ .System }}", _literal(between), "{{ .Prompt }}", _literal(after)]
    return "".join(parts) + "{{ .Response }}" + _literal(tokenizer.eos_token)


def stop_words(tokenizer, go_template: str) -> list[str]:
    """The EOS, and every special token the template writes (a new turn's start must end the answer too)."""
    special = [token for token in tokenizer.all_special_tokens + list(tokenizer.get_added_vocab())
               if token and token in go_template]
    return list(dict.fromkeys([tokenizer.eos_token, *special]))


def modelfile_text(gguf_name: str, go_template: str, stops: list[str]) -> str:
    if '"""' in go_template:
        raise ClintuneError('the prompt holds """, which a Modelfile cannot quote', fix="use a template without it")
    lines = ["# Made by clintune export. The note goes in the system slot, the question is the prompt:",
             "#   ollama run NAME, then /set system <the note>, then ask the question", "",
             f"FROM ./{gguf_name}", f'TEMPLATE """{go_template}"""']
    lines += [f"PARAMETER stop {_quoted(stop)}" for stop in stops]
    lines.append("PARAMETER temperature 0")  # greedy, as clintune evaluates the model
    return "\n".join(lines) + "\n"


def _literal(text: str) -> str:
    # Go's text/template reads only "{{" as the start of an action; anything else is printed as it is.
    return text.replace("{{", '{{ "{{" }}')


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
