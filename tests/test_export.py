"""`clintune export RUN --format gguf`: llama.cpp's real converter, the file read back with `gguf` and through
transformers, and the Ollama Modelfile's TEMPLATE rendered by Go's own text/template.

llama.cpp's converter only takes tokenizers it knows, so the round trip runs on a tiny random Llama that carries
SmolLM2's real tokenizer and chat template (a run of the usual tiny model shows the refusal instead).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from clintune.prompts.templates import render_prompt

TRAIN = ["data.synthetic_rows=1000", "data.max_note_chars=800", "data.sample=40", "data.test_size=4",
         "lora.top_layers=null", "train.max_steps=2"]


def _tiny_with_smollm2_tokenizer(smollm2_dir: Path, out: Path, init: float) -> Path:
    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=32, max_position_embeddings=2048,
                         tie_word_embeddings=True, initializer_range=init, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


def _trained(cli, model: Path, run: Path) -> Path:
    result = cli("train", "demo", f"model.name={model}", *TRAIN, "--out", str(run))
    assert result.returncode == 0, result.stderr[-2000:]
    return run


@pytest.fixture(scope="module")
def exportable_run(cli, smollm2_dir, tmp_path_factory):
    # Weights drawn 25x wider than usual: f16 still round-trips exactly (the check compares like with like), while
    # logits this sharp let 8-bit rounding move the next-token distribution far past q8_0's tolerance.
    folder = tmp_path_factory.mktemp("export")
    return _trained(cli, _tiny_with_smollm2_tokenizer(smollm2_dir, folder / "model", 0.5), folder / "run")


def test_f16_export_round_trips_and_carries_the_training_template(cli, exportable_run, tmp_path):
    from gguf import GGUFReader

    out = tmp_path / "gguf"
    result = cli("export", str(exportable_run), "--type", "f16", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    for line in ("ok  chat template: matches", "ok  EOS id: matches (<|im_end|>)", "ok  tensors: 20 in the file, 20",
                 "ok  prompt: 3 held-out training prompts give the same token ids", "ok  generation: identical"):
        assert line in result.stdout
    gguf_file = out / f"{exportable_run.name}-f16.gguf"
    reader = GGUFReader(str(gguf_file))
    tokenizer = AutoTokenizer.from_pretrained(exportable_run.parent / "model")
    assert reader.fields["tokenizer.chat_template"].contents() == tokenizer.chat_template
    assert reader.fields["tokenizer.ggml.eos_token_id"].contents() == tokenizer.eos_token_id
    assert {tensor.tensor_type.name for tensor in reader.tensors} == {"F16", "F32"}
    record = json.loads((out / "export.json").read_text())
    assert record["type"] == "f16" and all(check["ok"] for check in record["checks"])
    assert sorted(path.name for path in out.iterdir()) == sorted(["Modelfile", "export.json", gguf_file.name])
    modelfile = (out / "Modelfile").read_text()
    assert f"FROM ./{gguf_file.name}" in modelfile and 'PARAMETER stop "<|im_end|>"' in modelfile
    assert 'PARAMETER stop "<|im_start|>"' in modelfile


def test_a_failed_check_is_exit_2_naming_it_and_leaves_nothing(cli, exportable_run, tmp_path):
    # A real q8_0 loss the check must catch (see the fixture). A q8_0 export that passes: the demo's run, in
    # docs/performance.md, mean KL 0.0007.
    out = tmp_path / "q8"
    result = cli("export", str(exportable_run), "--type", "q8_0", "--out", str(out))
    assert result.returncode == 2, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the GGUF does not match the trained model: generation: mean KL"), last
    assert "Traceback" not in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".q8*"))
    assert not list(exportable_run.glob(".gguf*"))


def test_a_tokenizer_llama_cpp_does_not_know_is_refused_in_one_line(cli, tuned_run, tmp_path):
    result = cli("export", str(tuned_run), "--out", str(tmp_path / "g"))
    assert result.returncode == 2
    assert "llama.cpp's converter does not know this model's tokenizer" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "g").exists()


def test_unknown_type_and_format_are_refused_before_any_work(cli, tmp_path):
    result = cli("export", str(tmp_path), "--type", "q4_k")
    assert result.returncode == 2 and "unknown --type 'q4_k'; use one of: f16, bf16, q8_0" in result.stderr
    result = cli("export", str(tmp_path), "--format", "onnx")
    assert result.returncode == 2 and "unknown --format 'onnx'" in result.stderr


_GO_RENDER = """package main

import (
\t"encoding/json"
\t"os"
\t"text/template"
)

func main() {
\ttext, _ := os.ReadFile(os.Args[1])
\tvar values map[string]any
\tdata, _ := os.ReadFile(os.Args[2])
\tif err := json.Unmarshal(data, &values); err != nil {
\t\tpanic(err)
\t}
\ttemplate.Must(template.New("t").Parse(string(text))).Execute(os.Stdout, values)
}
"""


def _go() -> str | None:
    found = shutil.which("go")
    if found is None and os.environ.get("CLINTUNE_REQUIRE_GO") == "1":
        pytest.fail("Go is required here (CLINTUNE_REQUIRE_GO=1) to render the Modelfile TEMPLATE")
    return found


@pytest.mark.parametrize("template,chat", [("asclepius", True), ("chat", True), ("phi2", False)])
def test_the_modelfile_template_rendered_by_go_is_the_training_prompt(smollm2_dir, tmp_path, template, chat):
    from clintune.export.modelfile import ollama_template

    go = _go()
    if go is None:
        pytest.skip("Go is not installed (apt-get install golang-go); CI sets CLINTUNE_REQUIRE_GO=1")
    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    # A note with what a Go template or a chat template could trip on: braces, a quote, a newline, Korean.
    note, question = 'Pt {{ .System }} on "ASA" 81 mg {daily}.\n혈압 120/80.', "Which {drug}?"
    (tmp_path / "template.txt").write_text(ollama_template(tokenizer, template, chat), encoding="utf-8")
    (tmp_path / "values.json").write_text(json.dumps({"System": note, "Prompt": question, "Response": "Aspirin."}))
    (tmp_path / "render.go").write_text(_GO_RENDER)
    rendered = subprocess.run([go, "run", "render.go", "template.txt", "values.json"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
    assert rendered.returncode == 0, rendered.stderr
    expected = render_prompt(tokenizer, note, question, template, chat) + "Aspirin." + tokenizer.eos_token
    assert rendered.stdout == expected
