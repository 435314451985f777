"""Lean training: 16-bit frozen bases with fp32 adapters, the chunked loss, the optimizer stepped inside backward,
activation offloading, and the rules that hold them together."""

import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset

from clintune.config import load_config
from clintune.data.generate import generate_rows
from clintune.devices import resolve_weights_dtype
from clintune.errors import ClintuneError
from clintune.train.collator import LeftPaddingCollator
from clintune.train.loss import chunked_cross_entropy
from clintune.train.methods import model_for_method
from clintune.train.offload import OffloadActivations
from clintune.train.run import train_stages
from clintune.train.trainer import ClintuneTrainer, StepOptions, trainer_config


def _rows(n, note_chars=None):
    rows = [r for r in generate_rows(80, seed=12) if len(r["note"]) < 900][:n]
    # Cut notes keep steps short where bf16 is emulated; the loss curves only need the same tokens in both runs.
    return Dataset.from_list([{**r, "note": r["note"][:note_chars]} for r in rows])


@pytest.mark.parametrize("bias", [False, True])
def test_chunked_loss_and_its_gradients_equal_the_plain_loss(bias):
    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(37, 64, generator=generator, requires_grad=True)
    weight = torch.randn(500, 64, generator=generator, requires_grad=True)
    head_bias = torch.randn(500, generator=generator, requires_grad=True) if bias else None
    targets = torch.randint(0, 500, (37,), generator=generator)
    plain = F.cross_entropy(F.linear(hidden, weight, head_bias).float(), targets, reduction="sum")
    wanted = torch.autograd.grad(plain, [hidden, weight, *([head_bias] if bias else [])])
    chunked = chunked_cross_entropy(hidden, weight, head_bias, targets, chunk=16)  # 3 chunks, the last one short
    got = torch.autograd.grad(chunked, [hidden, weight, *([head_bias] if bias else [])])
    assert torch.allclose(chunked, plain, rtol=1e-5)
    for g, w in zip(got, wanted, strict=True):
        assert torch.allclose(g, w, rtol=1e-4, atol=1e-5)


def test_the_trainer_chunked_loss_gives_the_plain_loss_and_gradients(tiny_model_dir, tiny_tokenizer, tmp_path):
    config = load_config(None, ["train.method=lora", "train.weights_dtype=fp32"])
    model = model_for_method(str(tiny_model_dir), config, "fp32")
    data = Dataset.from_list([{"input_ids": [5, 6, 7, 8, 9, 10], "labels": [-100, -100, 7, 8, 9, 10]}])
    batch = LeftPaddingCollator(tiny_tokenizer.pad_token_id)([data[0], {"input_ids": [3, 4, 5],
                                                                         "labels": [-100, 4, 5]}])
    results = {}
    for kind in ("plain", "chunked"):
        args = trainer_config(config, "sft", tmp_path / kind, device="cpu", precision="fp32")
        trainer = ClintuneTrainer(model=model, args=args, train_dataset=data, processing_class=tiny_tokenizer,
                                  data_collator=LeftPaddingCollator(tiny_tokenizer.pad_token_id),
                                  step=StepOptions(loss=kind, loss_chunk_size=16))
        assert trainer.loss_kind == kind
        model.zero_grad()
        loss = trainer.compute_loss(model, dict(batch))
        loss.backward()
        results[kind] = (loss.detach(), [p.grad.clone() for p in model.parameters() if p.requires_grad])
    assert torch.allclose(results["chunked"][0], results["plain"][0], atol=1e-6)
    for a, b in zip(results["chunked"][1], results["plain"][1], strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_a_lora_base_is_held_in_bf16_and_its_adapters_in_fp32(tiny_model_dir):
    lora = model_for_method(str(tiny_model_dir), load_config(None, ["train.method=lora"]), "bf16")
    frozen = {p.dtype for p in lora.parameters() if not p.requires_grad}
    trained = {p.dtype for p in lora.parameters() if p.requires_grad}
    assert frozen == {torch.bfloat16} and trained == {torch.float32}
    old = model_for_method(str(tiny_model_dir), load_config(None, ["train.weights_dtype=fp32"]), "bf16")
    assert {p.dtype for p in old.parameters()} == {torch.float32}


def test_qlora_keeps_what_is_not_quantised_in_the_compute_dtype_and_trains_fp32_adapters(tiny_model_dir,
                                                                                         tiny_tokenizer, tmp_path):
    config = load_config(None, ["train.method=qlora"])
    model = model_for_method(str(tiny_model_dir), config, "bf16")
    floating = {p.dtype for p in model.parameters() if not p.requires_grad and p.is_floating_point()}
    assert floating == {torch.bfloat16}  # embeddings, norms, head: no fp32 upcast
    args = trainer_config(config, "sft", tmp_path, device="cpu", precision="bf16")
    ClintuneTrainer(model=model, args=args, train_dataset=Dataset.from_list([{"input_ids": [1, 2], "labels": [1, 2]}]),
                    processing_class=tiny_tokenizer)
    # TRL casts a quantised model's adapters to bf16; the trainer hands the optimizer fp32 master weights.
    assert {p.dtype for p in model.parameters() if p.requires_grad} == {torch.float32}


@pytest.mark.parametrize("method", ["lora", "qlora"])
def test_the_loss_curves_of_the_fp32_and_the_16_bit_base_agree(tmp_path, tiny_model_dir, tiny_tokenizer, method):
    curves = {}
    for weights in ("fp32", "auto"):
        config = load_config(None, [f"model.name={tiny_model_dir}", f"train.method={method}", "train.lr=3e-3",
                                    "train.max_steps=8", "train.batch_size=4", "train.grad_accum=1",
                                    "train.warmup_ratio=0", "train.scheduler=constant", "train.save_steps=0",
                                    f"train.weights_dtype={weights}", "lora.r=8", "lora.alpha=16"])
        result = train_stages(config, tiny_tokenizer, _rows(4, 120), tmp_path / weights, "cpu", "bf16",
                              say=lambda _: None)
        curves[weights] = [h["loss"] for h in result.log_history if "loss" in h]
    old, new = curves["fp32"], curves["auto"]
    assert len(old) == len(new) == 8
    assert old[-1] < old[0] - 0.5  # it learns, so agreeing is not agreeing on a flat line
    assert max(abs(a - b) / a for a, b in zip(old, new, strict=True)) < 0.03, (old, new)


def _full_steps(tiny_model_dir, tiny_tokenizer, tmp_path, in_backward: bool):
    config = load_config(None, [f"model.name={tiny_model_dir}", "train.method=full", "train.lr=1e-3",
                                "train.max_steps=3", "train.batch_size=2", "train.grad_accum=1",
                                "train.max_grad_norm=0", "train.warmup_ratio=0", "train.scheduler=linear",
                                "train.save_steps=0", "train.weight_decay=0.1",
                                f"train.optimizer_in_backward={in_backward}"])
    torch.manual_seed(0)
    result = train_stages(config, tiny_tokenizer, _rows(6), tmp_path, "cpu", "fp32", say=lambda _: None)
    from safetensors.torch import load_file

    return load_file(result.saved / "model.safetensors"), [h["loss"] for h in result.log_history if "loss" in h]


def test_the_optimizer_stepped_inside_backward_trains_exactly_like_the_usual_step(tiny_model_dir, tiny_tokenizer,
                                                                                  tmp_path):
    usual, usual_losses = _full_steps(tiny_model_dir, tiny_tokenizer, tmp_path / "usual", False)
    fused, fused_losses = _full_steps(tiny_model_dir, tiny_tokenizer, tmp_path / "fused", True)
    assert fused_losses == pytest.approx(usual_losses, rel=1e-5)
    for name, tensor in usual.items():
        assert torch.allclose(fused[name], tensor, atol=1e-6), name
    from clintune.models.load import load_model

    start = load_model(str(tiny_model_dir)).state_dict()
    changed = sum(not torch.equal(start[name], tensor) for name, tensor in usual.items() if name in start)
    assert changed > 10  # the weights did move, so equal weights mean equal updates


def test_activation_offloading_moves_saved_activations_but_never_parameters(tiny_model_dir):
    from clintune.models.load import load_model

    model = load_model(str(tiny_model_dir))
    ids = torch.randint(0, 500, (2, 300), generator=torch.Generator().manual_seed(0))
    plain = model(input_ids=ids, labels=ids).loss
    wanted = torch.autograd.grad(plain, list(model.parameters()))
    offload = OffloadActivations(model, device="cpu")  # on a CPU, "the host" is the same memory: the logic is tested
    with offload:
        loss = model(input_ids=ids, labels=ids).loss
    got = torch.autograd.grad(loss, list(model.parameters()))
    assert offload.moved > 0
    assert all(torch.allclose(g, w, atol=1e-6) for g, w in zip(got, wanted, strict=True))
    assert not any(offload._pack(p) is not p for p in model.parameters())  # parameters are kept where they are


@pytest.mark.parametrize("overrides, message", [
    (["train.optimizer_in_backward=true"], "needs train.grad_accum=1, train.max_grad_norm=0"),
    (["train.optimizer_in_backward=true", "train.grad_accum=1", "train.max_grad_norm=0", "distributed.nproc=2"],
     "needs one process"),
    (["train.method=full", "train.weights_dtype=fp16"], "fp16 weights cannot be loss-scaled"),
])
def test_lean_options_that_cannot_work_together_are_refused_at_the_door(overrides, message):
    with pytest.raises(ClintuneError, match=message):
        load_config(None, overrides)


def test_weights_dtype_follows_the_method_and_must_match_16_bit_compute():
    assert resolve_weights_dtype("auto", "lora", "bf16") == "bf16"
    assert resolve_weights_dtype("auto", "qlora", "fp16") == "fp16"
    assert resolve_weights_dtype("auto", "lora", "fp32") == "fp32"  # no native bf16: no 16-bit base either
    assert resolve_weights_dtype("auto", "full", "bf16") == "fp32"  # master weights unless pure bf16 is asked for
    assert resolve_weights_dtype("bf16", "full", "bf16") == "bf16"
    with pytest.raises(ClintuneError, match="set train.precision=bf16"):
        resolve_weights_dtype("bf16", "lora", "fp16")


def test_train_refuses_an_unknown_lean_key_with_the_closest_one():
    with pytest.raises(ClintuneError, match="did you mean 'train.weights_dtype'"):
        load_config(None, ["train.weight_dtype=bf16"])
