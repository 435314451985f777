from clintune.privacy import TELEMETRY_OFF, disable_telemetry, hub_offline


def test_telemetry_is_switched_off_without_overriding_the_user():
    env = {"HF_HUB_DISABLE_TELEMETRY": "0"}
    disable_telemetry(env)
    assert env["HF_HUB_DISABLE_TELEMETRY"] == "0"
    assert all(env[key] == value for key, value in TELEMETRY_OFF.items() if key != "HF_HUB_DISABLE_TELEMETRY")


def test_offline_flag_is_read_from_the_environment():
    assert hub_offline({"HF_HUB_OFFLINE": "1"})
    assert hub_offline({"TRANSFORMERS_OFFLINE": "true"})
    assert not hub_offline({})


# A trainer built and stepped in a fresh process, the way the `clintune` command does it: the telemetry switches set
# first, then the HF stack loaded. An audit hook records every attempt to reach the network, and the live threads are
# listed at the end (huggingface_hub's telemetry sender is a thread that, once started, never stops).
STEP_SCRIPT = """
import json, sys, threading
attempts = []
sys.addaudithook(lambda event, args: attempts.append(event) if event in (
    "socket.connect", "socket.getaddrinfo", "socket.sendto", "socket.sendmsg") else None)
if sys.argv[2] == "switch":
    from clintune.privacy import disable_telemetry
    disable_telemetry()
from datasets import Dataset
from clintune.config import load_config
from clintune.data.generate import generate_rows
from clintune.models.load import load_tokenizer
from clintune.train.run import train_stages
model = sys.argv[1]
config = load_config(None, [f"model.name={model}", "train.max_steps=1", "train.batch_size=1", "train.save_steps=0"])
rows = Dataset.from_list([r for r in generate_rows(40, seed=1) if len(r["note"]) < 700][:1])
train_stages(config, load_tokenizer(model), rows, __import__("pathlib").Path(sys.argv[3]), "cpu", "fp32",
             say=lambda _: None)
print(json.dumps({"attempts": sorted(set(attempts)), "threads": [t.name for t in threading.enumerate()]}))
"""


def _step_in_a_fresh_process(tiny_model_dir, out, switch: bool, **extra_env) -> dict:
    import json
    import os
    import subprocess
    import sys

    # Nothing that would silence the libraries on its own: not offline, not CI, no switch the user set.
    quiet = ("OFFLINE", "TELEMETRY", "DO_NOT_TRACK", "WANDB", "MLFLOW")
    env = {k: v for k, v in os.environ.items() if not any(q in k for q in quiet) and k != "CI"}
    args = [sys.executable, "-c", STEP_SCRIPT, str(tiny_model_dir), "switch" if switch else "none", str(out)]
    result = subprocess.run(args, env={**env, **extra_env}, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_trainer_built_and_stepped_never_reaches_the_network(tiny_model_dir, tmp_path):
    seen = _step_in_a_fresh_process(tiny_model_dir, tmp_path / "quiet", switch=True)
    assert seen["attempts"] == [], seen
    assert not [name for name in seen["threads"] if "telemetry" in name], seen


def test_without_the_switch_the_same_check_sees_trl_telemetry(tiny_model_dir, tmp_path):
    # The same step without `disable_telemetry` (what a Python user gets who skips it): TRL starts the Hub's
    # telemetry sender, and the check above sees it. So the test above fails if the switch stops working.
    seen = _step_in_a_fresh_process(tiny_model_dir, tmp_path / "loud", switch=False)
    assert [name for name in seen["threads"] if "telemetry" in name], seen


def test_importing_clintune_changes_nothing_in_the_environment():
    import subprocess
    import sys

    # torch's compiler records its cache folder in TORCHINDUCTOR_CACHE_DIR when torch._dynamo is first imported
    # (torch's own doing, in any program that loads it), so it is loaded before the snapshot; the test passed or
    # failed by whether an earlier test in the same worker had loaded it.
    code = ("import os, torch._dynamo; before = dict(os.environ); import clintune, clintune.cli, clintune.train.run; "
            "print(dict(os.environ) == before)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"
