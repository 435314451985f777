"""On CUDA (`pytest -m gpu`; skipped without a GPU): every method trains a few steps of a random
Llama-3.2-1B-shaped model, QLoRA on CUDA bitsandbytes, fp16 with loss scaling, liger's fused loss against the
chunked one, and activation offloading; the memory plan is held against `torch.cuda.max_memory_allocated`.

Each measurement is also written to $GPU_FIGURES (a JSON lines file) when that is set: benchmarks/gpu_check.sh
collects them for the README.
"""

import json
import os
from pathlib import Path

import pytest
import torch

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

ROOT = Path(__file__).parents[1]
LLAMA_1B = ROOT / "benchmarks" / "configs" / "llama-3.2-1b.json"
SETUPS = {
    "lora": ["train.method=lora"],
    "dora": ["train.method=dora"],
    "qlora": ["train.method=qlora", "quant.double_quant=true", "train.optimizer=paged_adamw_8bit"],
    "full-lean": ["train.method=full", "train.weights_dtype=bf16", "train.optimizer=adamw_8bit",
                  "train.optimizer_in_backward=true", "train.grad_accum=1", "train.max_grad_norm=0"],
    "full-offload": ["train.method=full", "train.weights_dtype=bf16", "train.optimizer=adamw_8bit",
                     "train.activation_offloading=true"],
}


def _record(row: dict) -> None:
    path = os.environ.get("GPU_FIGURES")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")


@pytest.fixture(scope="module")
def llama_1b(tmp_path_factory) -> Path:
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from random_model import save_random_model

    return save_random_model(LLAMA_1B, tmp_path_factory.mktemp("llama-1b") / "model")


def _measure(model_dir: Path, overrides: list[str], seq_len: int = 1024, batch: int = 2) -> tuple[dict, object]:
    from clintune.config import load_config
    from clintune.memory.estimate import meta_model, model_config_from
    from clintune.memory.plan import plan_memory
    from clintune.train.measured_step import measure_training

    config = load_config(None, [f"model.name={model_dir}", f"train.max_length={seq_len}",
                                f"train.batch_size={batch}", "train.gradient_checkpointing=true", *overrides])
    torch.cuda.empty_cache()
    measured = measure_training(str(model_dir), config, batch, seq_len, steps=3)
    plan = plan_memory(meta_model(model_config_from(str(model_dir))), config, measured["precision"], "cuda")
    return measured, plan


@pytest.mark.parametrize("setup", list(SETUPS))
def test_each_method_trains_on_cuda_within_its_plan(llama_1b, setup):
    from clintune.memory.plan import CUDA_CONTEXT

    measured, plan = _measure(llama_1b, SETUPS[setup])
    got = measured["bytes"]
    for key in ("weights", "quant_constants", "adapters", "optimizer"):
        assert plan.bytes[key] == got[key], key
    tensors = plan.bytes["total"] - plan.bytes["overhead"]  # what torch's allocator hands out
    peak = got["cuda_max_allocated"]
    _record({"setup": setup, "precision": measured["precision"], "plan_tensors": tensors,
             "plan_total": plan.bytes["total"], "cuda_max_allocated": peak,
             "error": (tensors - peak) / peak, "context": CUDA_CONTEXT})
    assert abs(tensors - peak) <= 0.25 * peak, (setup, tensors, peak)


def test_activation_offloading_lowers_the_gpu_peak(llama_1b):
    kept, _ = _measure(llama_1b, SETUPS["full-offload"][:-1])
    offloaded, _ = _measure(llama_1b, SETUPS["full-offload"])
    _record({"setup": "offloading", "kept": kept["bytes"]["cuda_max_allocated"],
             "offloaded": offloaded["bytes"]["cuda_max_allocated"]})
    assert offloaded["bytes"]["cuda_max_allocated"] < kept["bytes"]["cuda_max_allocated"]


def test_fp16_trains_with_loss_scaling(llama_1b, tmp_path):
    from datasets import Dataset

    from clintune.config import load_config
    from clintune.models.load import load_tokenizer
    from clintune.train.collator import BlockCollator
    from clintune.train.methods import model_for_method
    from clintune.train.trainer import ClintuneTrainer, StepOptions, trainer_config

    config = load_config(None, [f"model.name={llama_1b}", "train.precision=fp16", "train.max_steps=3",
                                "train.batch_size=2", "train.grad_accum=1", "train.save_steps=0"])
    model = model_for_method(str(llama_1b), config, "fp16")
    assert {p.dtype for p in model.parameters() if not p.requires_grad} == {torch.float16}
    blocks = torch.randint(0, 1000, (6, 256)).tolist()
    trainer = ClintuneTrainer(model=model, args=trainer_config(config, "pretrain", tmp_path, "cuda", "fp16"),
                              train_dataset=Dataset.from_dict({"input_ids": blocks}),
                              processing_class=load_tokenizer(str(llama_1b)), data_collator=BlockCollator(),
                              step=StepOptions.from_config(config))
    trainer.train()
    assert trainer.accelerator.scaler is not None  # fp16 autocast with a GradScaler
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert losses and all(torch.isfinite(torch.tensor(losses)))


def test_liger_fused_loss_equals_the_chunked_loss():
    pytest.importorskip("liger_kernel")
    from clintune.train.loss import chunked_cross_entropy, fused_cross_entropy

    generator = torch.Generator(device="cuda").manual_seed(0)
    hidden = torch.randn(1000, 2048, device="cuda", dtype=torch.bfloat16, generator=generator, requires_grad=True)
    weight = torch.randn(32000, 2048, device="cuda", dtype=torch.bfloat16, generator=generator) * 0.02
    targets = torch.randint(0, 32000, (1000,), device="cuda", generator=generator)
    chunked = chunked_cross_entropy(hidden, weight, None, targets, chunk=256)
    (want,) = torch.autograd.grad(chunked, [hidden])
    fused = fused_cross_entropy(hidden, weight, None, targets)
    (got,) = torch.autograd.grad(fused, [hidden])
    assert torch.allclose(fused.float(), chunked, rtol=1e-2)
    assert torch.allclose(got.float(), want.float(), rtol=5e-2, atol=1e-3)
