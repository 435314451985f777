"""The checks an exported GGUF must pass before `clintune export` reports success.

Read back with the `gguf` reader: the chat template, EOS and BOS are the ones training used, and the file holds one
tensor for each tensor of the merged model. Loaded back through transformers' GGUF support: the tokenizer turns each
held-out prompt into the training prompt's ids (with the BOS llama.cpp would add), every weight equals the merged
model's (exactly, or rounded to the file's f16/bf16), and greedy generations match token for token. q8_0 cannot be
exact: along the merged model's own greedy answers (teacher forcing, so one early difference does not count twice),
the GGUF model's next-token distribution may diverge from the merged model's by at most Q8_MAX_KL on average.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from clintune.errors import ClintuneError
from clintune.models.load import Trained
from clintune.prompts.templates import encode_prompt, render_prompt

Q8_MAX_KL = 0.01  # nat per token; the demo's SmolLM2 run measures 0.0007 (docs/performance.md)
NEW_TOKENS = 24
N_PROMPTS = 3
ROUNDED = {"f16": torch.float16, "bf16": torch.bfloat16}


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def held_out_prompts(run_dir: Path, trained: Trained, n: int = N_PROMPTS) -> list[tuple[str, str]]:
    """(note, question) pairs from the run's test split (then validation, then train): what the model will be asked."""
    pairs: list[tuple[str, str]] = []
    for split in ("test", "validation", "train"):
        path = run_dir / "data" / f"{split}.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else ():
            row = json.loads(line)
            if row.get("note") and row.get("question") and len(pairs) < n:
                pairs.append((row["note"], row["question"]))
    if not pairs:
        raise ClintuneError("the run's data/ holds no question to check the export on", where=str(run_dir),
                            fix="export a run trained with questions (an sft stage)")
    return pairs


def verify_gguf(path: Path, trained: Trained, merged: Path, pairs: list[tuple[str, str]], type: str,
                say: Callable[[str], None]) -> list[Check]:
    from gguf import GGUFReader

    tokenizer = trained.tokenizer
    reader = GGUFReader(str(path))
    fields = {key: field.contents() for key, field in reader.fields.items()
              if key.startswith(("tokenizer.ggml.add_", "tokenizer.chat_template", "tokenizer.ggml.eos",
                                 "tokenizer.ggml.bos"))}
    checks = [
        _equal("chat template", fields.get("tokenizer.chat_template"), getattr(tokenizer, "chat_template", None),
               "as training rendered it" if trained.chat else "the Modelfile carries the raw prompt"),
        _equal("EOS id", fields.get("tokenizer.ggml.eos_token_id"), tokenizer.eos_token_id, tokenizer.eos_token),
        _tensor_count(len(reader.tensors), merged),
    ]
    if tokenizer.bos_token_id is not None:
        checks.append(_equal("BOS id", fields.get("tokenizer.ggml.bos_token_id"), tokenizer.bos_token_id, ""))
    say("loading the GGUF back through transformers")
    gguf_tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                      dtype=torch.float32).eval()
    add_bos = bool(fields.get("tokenizer.ggml.add_bos_token", False))
    prompts = [render_prompt(tokenizer, note, question, trained.template, trained.chat) for note, question in pairs]
    checks.append(_prompt_ids(tokenizer, gguf_tokenizer, trained, pairs, prompts, add_bos))
    reference = [encode_prompt(tokenizer, prompt, trained.chat) for prompt in prompts]
    if type in ROUNDED:
        checks.append(_round_like_file(trained.model, gguf_model, ROUNDED[type]))
        say(f"greedy generation on {len(prompts)} held-out prompts, merged vs GGUF")
        checks.append(_same_generations(trained.model, gguf_model, reference, tokenizer))
    else:
        say(f"greedy generation on {len(prompts)} held-out prompts, merged vs GGUF (q8_0 tolerance)")
        checks.append(_agreement(trained.model, gguf_model, reference, tokenizer))
    return checks


def _equal(name: str, found, expected, note: str) -> Check:
    ok = found == expected
    detail = f"matches ({note})" if ok and note else "matches" if ok else "differs from the trained tokenizer's"
    return Check(name, ok, detail)


def _tensor_count(found: int, merged: Path) -> Check:
    from safetensors import safe_open

    expected = 0
    for file in merged.glob("*.safetensors"):
        with safe_open(str(file), framework="pt") as weights:
            expected += len(list(weights.keys()))
    return Check("tensors", found == expected, f"{found} in the file, {expected} in the merged model")


def _prompt_ids(tokenizer, gguf_tokenizer, trained: Trained, pairs, prompts: list[str], add_bos: bool) -> Check:
    """llama.cpp tokenises the rendered prompt with special tokens parsed, and adds BOS when the file says so."""
    for (note, question), prompt in zip(pairs, prompts, strict=True):
        if trained.chat and render_prompt(gguf_tokenizer, note, question, trained.template, True) != prompt:
            return Check("prompt", False, "the GGUF's chat template renders a different prompt")
        bos = [gguf_tokenizer.bos_token_id] if add_bos else []
        ids = bos + gguf_tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if ids != encode_prompt(tokenizer, prompt, trained.chat):
            return Check("prompt", False, "the GGUF's tokenizer gives other ids for the training prompt"
                         + (" (its add_bos_token differs)" if ids[len(bos):] == encode_prompt(tokenizer, prompt,
                                                                                                False) else ""))
    return Check("prompt", True, f"{len(prompts)} held-out training prompts give the same token ids")


@torch.no_grad()
def _round_like_file(model, gguf_model, dtype: torch.dtype) -> Check:
    """Every weight equals the merged one, or the merged one rounded to the file's type; the merged model is then
    rounded the same way in place, so the generations below compare like with like."""
    found = gguf_model.state_dict()
    exact = rounded = 0
    for name, tensor in model.state_dict().items():
        if name not in found:
            return Check("weights", False, f"{name} is missing from the GGUF")
        if torch.equal(found[name], tensor):
            exact += 1
            continue
        as_stored = tensor.to(dtype).to(tensor.dtype)
        if not torch.equal(found[name], as_stored):
            return Check("weights", False, f"{name} differs beyond {str(dtype).removeprefix('torch.')} rounding")
        tensor.copy_(as_stored)
        rounded += 1
    return Check("weights", True, f"{exact} tensors exact, {rounded} equal after rounding")


def _greedy(model, ids: list[int], tokenizer) -> list[int]:
    config = GenerationConfig(do_sample=False, max_new_tokens=NEW_TOKENS, eos_token_id=tokenizer.eos_token_id,
                              pad_token_id=tokenizer.pad_token_id)
    output = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                            generation_config=config)
    return output[0, len(ids):].tolist()


@torch.no_grad()
def _same_generations(model, gguf_model, prompts: list[list[int]], tokenizer) -> Check:
    total = 0
    for ids in prompts:
        expected, found = _greedy(model, ids, tokenizer), _greedy(gguf_model, ids, tokenizer)
        if expected != found:
            return Check("generation", False, f"greedy tokens differ at position {_first_difference(expected, found)}")
        total += len(expected)
    return Check("generation", True, f"identical greedy tokens ({total} over {len(prompts)} prompts)")


@torch.no_grad()
def _agreement(model, gguf_model, prompts: list[list[int]], tokenizer) -> Check:
    """Teacher-forced on the merged model's own greedy answers: the mean KL divergence of the GGUF model's
    next-token distribution from the merged model's, and how often their top tokens agree."""
    divergence, agree, total = 0.0, 0, 0
    for ids in prompts:
        answer = _greedy(model, ids, tokenizer)
        if not answer:
            continue
        sequence = torch.tensor([ids + answer])
        expected = torch.log_softmax(model(sequence).logits[0, len(ids) - 1:-1].float(), -1)
        found = torch.log_softmax(gguf_model(sequence).logits[0, len(ids) - 1:-1].float(), -1)
        divergence += float((expected.exp() * (expected - found)).sum())
        agree += int((found.argmax(-1) == expected.argmax(-1)).sum())
        total += len(answer)
    kl = divergence / total if total else 0.0
    share = agree / total if total else 1.0
    return Check("generation", kl <= Q8_MAX_KL, f"mean KL {kl:.5f} nat per token (tolerance {Q8_MAX_KL}), same next "
                 f"token at {share:.1%} of {total} positions")


def _first_difference(a: list[int], b: list[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
