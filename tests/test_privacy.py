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


def test_importing_clintune_switches_telemetry_off_before_the_hub_client_reads_it():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if "TELEMETRY" not in k and k != "DO_NOT_TRACK"}
    code = "import clintune.train.trainer, huggingface_hub.constants as c; print(c.HF_HUB_DISABLE_TELEMETRY)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"


def test_the_trainer_never_sends_trl_telemetry():
    from clintune.train.trainer import ClintuneTrainer

    assert ClintuneTrainer._send_telemetry(object()) is None
