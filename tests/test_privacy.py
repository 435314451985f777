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
