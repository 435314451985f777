"""How close is `clintune memory` to what training really holds? Estimate vs measurement on a grid.

Grid: 2 models (the tiny random Llama; SmolLM2-135M, GQA and a 49k vocabulary) x 6 setups x two sequence lengths x
gradient checkpointing off/on = 48 configurations, bf16 compute where the CPU has it (--precision bf16 forces it).
The setups:
  full        fp32 master weights, torch AdamW
  full-lean   pure-bf16 weights, 8-bit AdamW stepped inside backward (torchtune's full-finetune settings)
  lora        the default: a bf16 base, fp32 adapters
  lora-fp32   the base in fp32 (train.weights_dtype=fp32, clintune's behaviour before 16-bit bases)
  qlora       nf4 base, the rest in bf16
  dora        PEFT's DoRA on a bf16 base
every one with the default chunked loss. Each measurement is two real optimizer steps through clintune's trainer
(clintune.train.measured_step):
  params      parameter counts, total and trainable, against the instantiated (and quantised) model
  weights     bytes of the model's weights as held (4-bit ones at their packed size)
  gradients   bytes of every .grad after the step (inside backward: the largest one alive)
  optimizer   bytes of every optimizer state tensor
  activations bytes autograd saved for backward, alive when the forward pass ends (saved-tensor hooks)
  total       the sum of the tensors above plus quantisation constants and adapters
Error = (estimate - measured) / measured. Goals: params, weights, gradients, optimizer within 1%; activations and
total within 15%. Not measurable on a CPU, so not compared here: the estimate's transient activations (checkpoint
recompute, the loss chunk's logits) and the CUDA overhead line; with a GPU, cuda_max_allocated covers them.

Usage: python benchmarks/memory_accuracy.py [--quick] [--precision auto|bf16|fp32] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import time

STATE = ("weights", "quant_constants", "adapters", "gradients", "optimizer")
KEYS = ("params", "weights", "gradients", "optimizer", "activations", "total")


def relative(estimate: int, measured: int) -> float:
    return (estimate - measured) / measured if measured else (0.0 if estimate == 0 else float("inf"))


SETUPS = {
    "full": ["train.method=full"],
    "full-lean": ["train.method=full", "train.weights_dtype=bf16", "train.optimizer=adamw_8bit",
                  "train.optimizer_in_backward=true", "train.grad_accum=1", "train.max_grad_norm=0"],
    "lora": ["train.method=lora"],
    "lora-fp32": ["train.method=lora", "train.weights_dtype=fp32"],
    "qlora": ["train.method=qlora"],
    "dora": ["train.method=dora"],
}


def compare(model_dir: str, setup: str, seq_len: int, batch: int, checkpointing: bool, precision: str) -> dict:
    from clintune.config import load_config
    from clintune.memory.estimate import meta_model, model_config_from
    from clintune.memory.plan import plan_memory
    from clintune.train.measured_step import measure_training

    method = SETUPS[setup][0].split("=")[1]
    config = load_config(None, [f"model.name={model_dir}", *SETUPS[setup], f"train.max_length={seq_len}",
                                f"train.batch_size={batch}", f"train.gradient_checkpointing={checkpointing}",
                                f"train.precision={precision}"])
    measured = measure_training(model_dir, config, batch, seq_len)
    plan = plan_memory(meta_model(model_config_from(model_dir)), config, measured["precision"], device="cpu")
    estimate = {key: plan.bytes[key] for key in STATE}
    estimate["activations"] = plan.activations_saved
    estimate["total"] = sum(estimate.values())
    got = measured["bytes"]
    # The instantiated count includes the adapters; the plan's total is the base model's.
    base = measured["params_total"] - (measured["params_trainable"] if method != "full" else 0)
    params = max(abs(relative(plan.params_total, base)),
                 abs(relative(plan.params_trainable, measured["params_trainable"])))
    return {"params": params, **{key: relative(estimate[key], got[key]) for key in
                                 ("weights", "gradients", "optimizer", "activations", "total")},
            "estimate_total": estimate["total"], "measured_total": got["total"], "precision": measured["precision"]}


def main() -> None:
    from clintune.privacy import disable_telemetry

    disable_telemetry()  # before any HF library loads: they read their switches at import time
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the tiny model only (24 configurations)")
    parser.add_argument("--precision", default="auto", choices=("auto", "bf16", "fp32"),
                        help="compute dtype; bf16 measures the 16-bit bases even where a CPU only emulates it (slower)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    from clintune.models.fetch import fetch_model

    models = [("tiny-random-llama", 2, (128, 512))]
    if not args.quick:
        models.append(("smollm2-135m-instruct", 1, (128, 512)))
    rows, start = [], time.perf_counter()
    from clintune.devices import resolve_precision

    # Pure-bf16 weights compute in bf16 only; where the compute is fp32, that setup does not exist.
    setups = [s for s in SETUPS if s != "full-lean" or resolve_precision(args.precision, "cpu") != "fp32"]
    for (name, batch, lengths), setup, checkpointing in itertools.product(models, setups, (False, True)):
        model_dir = str(fetch_model(name, say=lambda _: None))
        for seq_len in lengths:
            measured = compare(model_dir, setup, seq_len, batch, checkpointing, args.precision)
            row = {"model": name, "setup": setup, "seq_len": seq_len, "batch": batch,
                   "checkpointing": checkpointing, **measured}
            rows.append(row)
            print(f"{name:22} {setup:9} seq {seq_len:4} ckpt {'on ' if checkpointing else 'off'}  "
                  + "  ".join(f"{k} {row[k] * 100:+6.2f}%" for k in KEYS)
                  + f"  (total {row['measured_total'] / 2**20:,.0f} MiB measured)", file=sys.stderr, flush=True)
    worst = {key: max(abs(r[key]) for r in rows) for key in KEYS}
    goals = {"params": 0.01, "weights": 0.01, "gradients": 0.01, "optimizer": 0.01, "activations": 0.15,
             "total": 0.15}
    if args.json:
        print(json.dumps({"max_abs_rel_error": worst, "configs": len(rows)}))
        return
    print(f"\n{len(rows)} configurations, {time.perf_counter() - start:.0f} s, precision {rows[0]['precision']}")
    for key, value in worst.items():
        print(f"max |error| {key:12} {value * 100:6.2f}%  (goal {goals[key] * 100:.0f}%: "
              f"{'met' if value <= goals[key] else 'NOT met'})")


if __name__ == "__main__":
    main()
