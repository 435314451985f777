#!/usr/bin/env bash
# `make gpu-check`: the CUDA checks of lean training, on one GPU machine with no network, in under 8 minutes.
#
#   1. installs the wheels such a machine lacks from .whl/ (`make gpu-wheels` downloads them where there is a
#      registry; torch, accelerate, tokenizers and the rest are expected on the machine);
#   2. the gpu-marked tests (tests/test_gpu.py): every method a few steps on a random Llama-3.2-1B-shaped model with
#      the plan held against torch.cuda.max_memory_allocated, QLoRA on CUDA bitsandbytes, fp16 with loss scaling,
#      liger's fused loss against the chunked one, activation offloading;
#   3. `clintune memory --measure --device cuda` on three configurations of the 1B shape (LoRA, QLoRA, lean full);
#   4. benchmarks/train_throughput.py on the 1B shape: a plain HF Trainer + PEFT script against clintune, same LoRA.
#
# Every figure lands in $OUT (or ./gpu-check/): gpu_tests.jsonl, memory_*.json, throughput.json, and the log.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-check}
mkdir -p "$out"
py=${PYTHON:-python3}
export PYTHONPATH="$PWD/src"
if compgen -G ".whl/*.whl" >/dev/null; then
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/clintune-site \
    .whl/*.whl || { echo "gpu-check: installing the carried wheels failed" >&2; exit 2; }
  export PYTHONPATH="/tmp/clintune-site:$PYTHONPATH"
fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 PYTHONUNBUFFERED=1
export CLINTUNE_HOME=/tmp/clintune-home GPU_FIGURES="$out/gpu_tests.jsonl"
rm -f "$GPU_FIGURES"
status=0
step() { echo "== $1 ($(date +%T))"; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$py" -c "import torch, transformers, peft, trl, bitsandbytes; print('torch', torch.__version__, 'cuda',
torch.version.cuda, '| transformers', transformers.__version__, '| peft', peft.__version__, '| trl', trl.__version__,
'| bitsandbytes', bitsandbytes.__version__)" || exit 2

step "gpu tests"
timeout 300 "$py" -m pytest -m gpu tests/test_gpu.py -q -p no:cacheprovider -o timeout=280 || status=1

step "memory --measure on the Llama-3.2-1B shape"
model=/tmp/clintune-llama-1b
"$py" benchmarks/random_model.py benchmarks/configs/llama-3.2-1b.json "$model" >/dev/null || exit 2
job=(--seq-len 2048 --batch-size 2 --gradient-checkpointing --device cuda --measure --json)
declare -A setups=(
  [lora]="--method lora --lora-r 8 --lora-targets q_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"
  [qlora]="--method qlora --double-quant --lora-r 8 --lora-targets q_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"
  [full]="--method full --weights-dtype bf16 --optimizer adamw-8bit --optimizer-in-backward"
)
for name in lora qlora full; do
  # shellcheck disable=SC2086
  timeout 120 "$py" -m clintune memory --model "$model" ${setups[$name]} "${job[@]}" >"$out/memory_$name.json" \
    || status=1
  "$py" - "$out/memory_$name.json" <<'PY' || status=1
import json, sys
plan = json.load(open(sys.argv[1]))
tensors = plan["bytes"]["total"] - plan["bytes"]["overhead"]
peak = plan["measured"]["bytes"]["cuda_max_allocated"]
print(f"{sys.argv[1]}: plan {plan['bytes']['total'] / 2**30:.2f} GiB ({tensors / 2**30:.2f} GiB of tensors), "
      f"torch.cuda.max_memory_allocated {peak / 2**30:.2f} GiB, tensors vs measured {100 * (tensors - peak) / peak:+.1f}%")
PY
done

step "training throughput on the Llama-3.2-1B shape"
timeout 200 "$py" benchmarks/train_throughput.py --model "$model" --examples 88 --variants hf-trainer,+head,+16bit \
  --json >"$out/throughput.json" || status=1
"$py" -c "import json; s = json.load(open('$out/throughput.json'));
[print(k, round(v, 2)) for block in ('like_for_like', 'recipe_choices') for k, v in s[block].items() if v is not None];
[print(n, round(r['tokens_per_s']), 'tok/s', round(r['cuda_peak_gib'], 2), 'GiB', f\"MFU {100 * r['mfu']:.0f}%\")
 for n, r in s['rows'].items()]" || status=1

step "done, status $status"
exit $status
