"""A terminal chat about one clinical note: the note and each question go through the prompt template training used,
and the answer streams as it is generated. `/base` and `/tuned` switch the adapter off and on, to compare."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from clintune.errors import ClintuneError
from clintune.models.load import Trained
from clintune.prompts.templates import encode_prompt, render_prompt
from clintune.serve.engine import Sampling, generate, open_served

HELP = ("/note FILE loads a note, /base and /tuned switch the adapter off and on, /quit ends; any other line is a "
        "question")


@dataclass
class ChatSession:
    served: Trained
    max_tokens: int
    note: str | None = None
    tuned: bool = True

    @classmethod
    def open(cls, run: Path | None, model: str | None, adapter: str | None, max_tokens: int) -> ChatSession:
        return cls(open_served(run, model, adapter, keep_adapter=True), max_tokens)

    def greeting(self) -> str:
        adapter = "adapter on (/base to compare)" if self.served.has_adapter else "no adapter"
        note = f"note of {len(self.note):,} characters" if self.note else "no note yet"
        return f"{self.served.name}: {adapter}; {note}; {HELP}"

    def load_note(self, path: Path) -> None:
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ClintuneError(f"cannot read the note '{path}': {type(exc).__name__}",
                                fix="give a UTF-8 text file") from None
        if not text:
            raise ClintuneError(f"the note '{path}' is empty", fix="give a file with the note's text")
        self.note = text

    def handle(self, line: str, out: TextIO) -> bool:
        """Act on one input line; False when the session should end."""
        if not line:
            return True
        if line in ("/quit", "/exit"):
            return False
        if line.startswith("/note"):
            self.load_note(Path(line.removeprefix("/note").strip()))
            out.write(f"[note loaded: {len(self.note):,} characters]\n")
        elif line in ("/base", "/tuned"):
            if not self.served.has_adapter:
                raise ClintuneError(f"{line} needs an adapter", fix="chat with --run of a LoRA run or --adapter")
            self.tuned = line == "/tuned"
            out.write(f"[{'tuned: adapter on' if self.tuned else 'base: adapter off'}]\n")
        elif line.startswith("/"):
            raise ClintuneError(f"unknown command {line.split()[0]}", fix=HELP)
        else:
            self.answer(line, out)
        out.flush()
        return True

    def prompt(self, question: str) -> str:
        """Exactly what the model is sent for `question` about the note: the training template, special tokens and
        all."""
        if self.note is None:
            raise ClintuneError("no note loaded", fix="start with --note FILE or type /note FILE")
        return render_prompt(self.served.tokenizer, self.note, question, self.served.template, self.served.chat)

    def answer(self, question: str, out: TextIO) -> str:
        prompt = self.prompt(question)
        ids = encode_prompt(self.served.tokenizer, prompt, self.served.chat)

        def show(piece: str) -> None:
            out.write(piece)
            out.flush()

        switch = (self.served.model.disable_adapter() if self.served.has_adapter and not self.tuned
                  else contextlib.nullcontext())
        with switch:
            result = generate(self.served, ids, Sampling(max_tokens=self.max_tokens, temperature=0.0), show)
        out.write("\n")
        return result.text
