"""Data from Python: load, validate, describe, scan, preview, prepare, generate and synthesise.

Each function is what the `clintune data ...` (and `clintune synth`) command of the same name does, minus the printing:
it returns the result, and raises ClintuneError (one line: what, where, how to fix) on bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clintune.config import data_section
from clintune.errors import ClintuneError, listed


def load(path: str | Path, columns: str | dict | None = None, notes_only: bool | None = None, strict: bool = False,
         clean_export: bool = False):
    """Any supported file or folder, mapped to the canonical schema: a `LoadedData` (dataset, warnings, ...).

    Malformed CSV rows are skipped and named, and notes-only data keeps one copy of each non-empty note (`strict`
    refuses instead); `clean_export` undoes an export's `,HEADING:,` commas and HTML entities."""
    from clintune.data.load import load_data

    return load_data(path, columns, notes_only, strict, clean_export)


def validate(path: str | Path, columns: str | dict | None = None, notes_only: bool | None = None,
             max_note_chars: int = 16_000, strict: bool = False, clean_export: bool = False):
    """Is the data usable for training? A `ValidationReport` (`.ok`, `.problems`, `.warnings`)."""
    from clintune.data.validate import validate as validate_loaded

    return validate_loaded(load(path, columns, notes_only, strict, clean_export), max_note_chars)


def validate_preference(path: str | Path, stage: str = "dpo", tokenizer: str | None = None,
                        template: str = "asclepius", chat: bool = True, allow_phi: str | None = None):
    """Is a preference file usable for stage `stage` ('dpo' or 'kto')? Every row checked and the identifier scan
    run as training does; returns a `PreferenceData` (`.rows` with the prompts rendered, `.shape`, `.card()`), or
    raises a one-line ClintuneError. With `tokenizer`, prompts are rendered as that model will see them; without,
    note and question (or the messages) are joined as plain text, which is enough to check and scan them."""
    from clintune.data.preference import Renderers, load_preference_file

    if stage not in ("dpo", "kto"):
        raise ClintuneError(f"unknown stage '{stage}'", fix="use dpo or kto")
    tok = _tokenizer(tokenizer)
    if tok is None:
        render = Renderers(lambda note, question: f"{note}\n\n{question}",
                           lambda messages: "\n\n".join(m["content"] for m in messages))
    else:
        from clintune.prompts.templates import render_prompt as render_text

        def messages_text(messages: list[dict]) -> str:
            return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

        render = Renderers(lambda note, question: render_text(tok, note, question, template, chat), messages_text)
    return load_preference_file(path, stage, render, allow_phi)


def stats(path: str | Path, columns: str | dict | None = None, tokenizer: str | None = None,
          template: str = "asclepius", chat: bool = True, plot: Path | None = None, strict: bool = False,
          clean_export: bool = False) -> tuple[dict, list[str]]:
    """(summary, loading warnings): rows, patients, task mix, lengths in characters (and tokens, with a tokenizer)."""
    from clintune.data.stats import data_stats, plot_lengths
    from clintune.prompts.preview import example_token_length

    loaded = load(path, columns, strict=strict, clean_export=clean_export)
    tok = _tokenizer(tokenizer)
    example = example_token_length(tok, template, chat) if tok is not None and not loaded.notes_only else None
    summary, lengths = data_stats(loaded, tok, example)
    if plot:
        plot_lengths(lengths, plot)
    return summary, loaded.warnings


@dataclass
class PhiScan:
    findings: list  # data.phi.Finding, positions only: never print a finding's text, mask it (masked_snippet)
    summary: dict
    dataset: object  # the loaded rows the positions point into (finding.row indexes it)
    loaded: object  # the LoadedData: `loaded.file_row(finding.row)` is the row's number in the file

    def file_row(self, finding) -> int:
        return self.loaded.file_row(finding.row)


def scan_phi(path: str | Path, columns: str | dict | None = None, progress: bool = False, strict: bool = False,
             clean_export: bool = False) -> PhiScan:
    """Patient identifiers (HIPAA Safe Harbor classes) in the note, question and answer columns; notes-only data is
    de-duplicated as it loads, so each distinct note is scanned once."""
    from rich.progress import track

    from clintune.data.phi import scan_rows, summarize_findings

    loaded = load(path, columns, strict=strict, clean_export=clean_export)
    dataset = loaded.dataset
    text_columns = [c for c in ("note", "question", "answer") if c in dataset.column_names]
    rows = track(dataset.select_columns(text_columns), total=len(dataset), description="scanning",
                 console=_stderr(), disable=not progress or len(dataset) < 2000)
    findings = list(scan_rows(rows, text_columns))
    return PhiScan(findings, summarize_findings(findings), dataset, loaded)


def preview(path: str | Path, tokenizer: str, template: str = "asclepius", chat: bool = True,
            columns: str | dict | None = None, n: int = 3, max_length: int = 512) -> list:
    """Exactly what training sees for the first `n` rows: masked prompt tokens, trained answer tokens, the EOS."""
    from clintune.prompts.preview import preview_examples

    return preview_examples(load(path, columns).dataset, _tokenizer(tokenizer), template, chat, max_length, n)


@dataclass
class RenderedPrompt:
    text: str  # exactly what the model is sent, special tokens and all
    tokens: int
    template_tokens: int  # the template's own text, without note and question


def render_prompt(model: str, template: str = "asclepius", chat: bool = True, note: str | None = None,
                  question: str | None = None, data: str | Path | None = None, index: int = 0) -> RenderedPrompt:
    """The prompt for a note and question (or row `index` of `data`) with `model`'s tokenizer and chat template."""
    from clintune.models.load import load_tokenizer
    from clintune.prompts.templates import check_template_length, encode_prompt
    from clintune.prompts.templates import render_prompt as render

    if data is not None:
        rows = load(data).dataset
        if index >= len(rows):
            raise ClintuneError(f"--index {index} but the data has {len(rows)} rows", fix="choose a smaller index")
        note, question = rows[index]["note"], rows[index]["question"]
    elif note is None or question is None:
        raise ClintuneError("nothing to render", fix="give --data PATH [--index N], or --note FILE --question TEXT")
    tokenizer = load_tokenizer(model)
    own = check_template_length(tokenizer, template)
    chat = chat or template == "chat"
    text = render(tokenizer, note, question, template, chat)
    return RenderedPrompt(text, len(encode_prompt(tokenizer, text, chat)), own)


@dataclass
class PreparedData:
    folder: Path
    written: list[Path]
    card: dict  # the data card: counts per step, splits, identifier scan
    warnings: list[str]


def prepare(path: str | Path, out: Path, columns: str | dict | None = None, tokenizer: str | None = None,
            template: str = "asclepius", chat: bool = True, **options) -> PreparedData:
    """Filter, sample and split by patient; write train/validation/test JSONL and data_card.json into `out`.

    `options` are the config's data fields (max_note_chars, max_tokens, sample, test_size, val_size, seed,
    allow_phi); an unknown one is an error naming the closest field."""
    from clintune.data.prepare import prepare as prepare_loaded
    from clintune.data.prepare import write_prepared
    from clintune.prompts.preview import example_token_length
    from clintune.runs import staged_folder

    settings = data_section(path=str(path), columns=columns, **options)
    loaded = load(path, columns, strict=settings.strict, clean_export=settings.clean_export)
    tok = _tokenizer(tokenizer)
    length = example_token_length(tok, template, chat) if tok is not None else None
    label = f" ({tokenizer}, {template} template)" if tok is not None else ""
    prepared = prepare_loaded(loaded, settings, length, label)
    out = Path(out)
    with staged_folder(out) as work:  # an interrupted prepare leaves the whole result or nothing
        written = [out / path.name for path in write_prepared(prepared, work)]
    return PreparedData(out, written, prepared.card, loaded.warnings)


def note_kinds() -> tuple[str, ...]:
    """The kinds of note the generator writes (`clintune data generate --kind`)."""
    from clintune.data.generate import NOTE_KINDS

    return NOTE_KINDS


def generate(n: int, out: Path, seed: int = 0, notes_only: bool = False, plant_phi: float = 0.0,
             progress: bool = False, kinds: tuple[str, ...] | None = None) -> Path:
    """Synthetic clinical notes with gold answers for the 8 Asclepius tasks (deterministic per seed): `kinds` of note
    among discharge summary, operative note, clinic note and diagnostic report (default all four). With
    `plant_phi`, that fraction of notes gets invented identifiers; where they are goes to OUT.identifiers.json."""
    from rich.progress import track

    from clintune.data.generate import NOTE_KINDS, iter_rows

    unknown = [k for k in kinds or () if k not in NOTE_KINDS]
    if unknown:
        raise ClintuneError(f"unknown kind of note '{unknown[0]}'", where="--kind",
                            fix=f"choose from {listed(NOTE_KINDS)}")
    from clintune.data.plant import plant_identifiers
    from clintune.data.save import save_rows
    from clintune.runs import write_json

    out = Path(out)
    rows = list(track(iter_rows(n, seed, notes_only=notes_only, kinds=kinds), total=n, description="generating",
                      console=_stderr(), disable=not progress or n < 5000))
    truth = None
    if plant_phi:
        rows, truth = plant_identifiers(rows, plant_phi, seed)
    save_rows(rows, out)
    if truth is not None:
        try:
            write_json(out.with_name(out.name + ".identifiers.json"), {"identifiers": truth})
        except BaseException:
            out.unlink(missing_ok=True)  # rows without their truth file would be half a result
            raise
    return out


def synthesize(teacher: str, teacher_model: str, source: str, out: Path, text_column: str | None = None,
               n: int | None = None, rpm: int | None = None, tpm: int | None = None, concurrency: int = 4,
               api_key: str | None = None, temperature: float = 1.0, max_tokens: int = 1024, seed: int = 0,
               on_progress: Callable[[int, int, int], None] | None = None) -> dict:
    """Asclepius-style rows from case reports with a teacher model (any OpenAI-compatible server); safe to interrupt
    and rerun. `on_progress(accepted, wanted, tokens)` is called after each row. Returns the summary it writes to
    OUT.synth.json; raises when the source ran out before `n` rows."""
    from clintune.openai_client import ChatClient
    from clintune.runs import write_json
    from clintune.synth.synthesize import Synthesizer, SynthSettings, load_case_reports

    out = Path(out)
    sources = load_case_reports(source, text_column)
    if not sources:
        raise ClintuneError("the source holds no case report text", where=source,
                            fix="point --text-column at the column with the case reports")
    wanted = n or len(sources)
    client = ChatClient(teacher, teacher_model, api_key, rpm, tpm)
    synthesizer = Synthesizer(client, out, SynthSettings(wanted, concurrency, seed, temperature, max_tokens))
    report = on_progress or (lambda accepted, wanted, tokens: None)
    report(synthesizer.accepted, wanted, 0)
    try:
        result = synthesizer.run(sources, on_row=lambda: report(synthesizer.accepted, wanted, client.tokens_used))
    finally:
        client.close()
    summary = {"out": str(out), "rows": result.rows, "wanted": wanted, "added": result.written,
               "filtered": result.filtered, "failed": result.failed, "tokens": result.tokens, "teacher": teacher,
               "teacher_model": teacher_model, "source": source, "seed": seed, "temperature": temperature,
               "errors": str(synthesizer.errors_path)}
    write_json(out.with_name(out.stem + ".synth.json"), summary)
    if result.rows < wanted:
        raise ClintuneError(f"only {result.rows} of {wanted} rows (+{result.written} now; {result.filtered} filtered, "
                            f"{result.failed} failed): the source ran out of usable case reports",
                            where=str(synthesizer.errors_path), fix="add case reports, or rerun to retry failures")
    return summary


def masked_snippet(text: str, finding, width: int = 24) -> str:
    """A finding's context with the identifier itself masked: the only way a finding is ever shown."""
    from clintune.data.phi import masked_snippet as mask

    return mask(text, finding, width)


def _stderr():
    from rich.console import Console

    return Console(stderr=True)


def _tokenizer(name: str | None):
    from clintune.models.load import load_tokenizer

    return load_tokenizer(name) if name else None
