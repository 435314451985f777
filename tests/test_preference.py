"""Stage dpo after sft: TRL's DPOTrainer on pairs made from the SFT model, the SFT model as the reference."""

import json
import signal
import subprocess
import sys

import pytest
import torch

from clintune.config import load_config

SFT = ["data.synthetic_rows=1000", "data.max_note_chars=600", "data.sample=40", "data.test_size=4",
       "lora.top_layers=null", "train.lr=5e-2", "train.max_length=1024"]
DPO = ["stages=[sft,dpo]", "preference.questions=6", "preference.samples=2", "preference.max_new_tokens=12"]


@pytest.fixture(scope="module")
def dpo_run(cli, tiny_model_dir, tmp_path_factory):
    """A [sft, dpo] run killed (kill -9) at DPO step 3, then resumed: what the tests below check is the resumed run.
    The kill comes from a TrainerCallback passed through the public API, so no timing is involved."""
    overrides = [f"model.name={tiny_model_dir}", *SFT, *DPO, "train.max_steps=4", "train.save_steps=2"]
    run = tmp_path_factory.mktemp("dpo") / "run"
    code = ("import os, signal, sys\n"
            "from pathlib import Path\n"
            "from transformers import TrainerCallback\n"
            "from clintune import api\n"
            "class KillInDpo(TrainerCallback):\n"
            "    def on_step_end(self, args, state, control, **kwargs):\n"
            "        if args.output_dir.endswith('dpo') and state.global_step == 3:\n"
            "            os.kill(os.getpid(), signal.SIGKILL)\n"
            "api.train(api.load_config('demo', sys.argv[2:]), out=Path(sys.argv[1]), say=lambda _: None,\n"
            "          callbacks=[KillInDpo()])\n")
    killed = subprocess.run([sys.executable, "-c", code, str(run), *overrides], capture_output=True, text=True,
                            timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert (run / "checkpoints" / "dpo" / "checkpoint-2" / "clintune-complete.json").is_file()
    pairs = (run / "data" / "pairs.jsonl").read_text()
    resumed = cli("train", "demo", *overrides, "--out", str(run), "--resume", timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "stage sft: finished earlier in this run" in resumed.stderr and "resuming from" in resumed.stderr
    assert (run / "data" / "pairs.jsonl").read_text() == pairs  # the same pairs, not sampled again
    return run


def test_sft_then_dpo_trains_end_to_end_resumes_and_saves_an_adapter_the_other_commands_take(cli, dpo_run,
                                                                                              tmp_path):
    records = [json.loads(line) for line in (dpo_run / "metrics.jsonl").read_text().splitlines()]
    dpo = [r for r in records if r["stage"] == "dpo" and "loss" in r]
    assert {r["stage"] for r in records} == {"sft", "dpo"}
    assert [r["step"] for r in dpo] == [1, 2, 3, 4]  # step 3 ran twice (before the kill and after), logged once
    assert all(key in dpo[0] for key in ("rewards/chosen", "rewards/margins", "rewards/accuracies", "logps/chosen"))
    pairs = [json.loads(line) for line in (dpo_run / "data" / "pairs.jsonl").read_text().splitlines()]
    assert pairs and all(p["made_by"]["method"] == "gold" for p in pairs)
    assert (dpo_run / "adapter" / "adapter_model.safetensors").is_file() and not (dpo_run / "adapter" / "ref").exists()
    assert (dpo_run / "stages" / "sft" / "adapter_model.safetensors").is_file()
    assert (dpo_run / "tensorboard" / "dpo").is_dir() and "stage dpo step 4/4" in (dpo_run / "train.log").read_text()
    card = (dpo_run / "adapter" / "README.md").read_text()
    assert "## Preference stage" in card and "Reference model: the SFT model" in card
    merged = cli("merge", str(dpo_run), "--out", str(tmp_path / "merged"))
    assert merged.returncode == 0 and (tmp_path / "merged" / "model.safetensors").is_file()


def test_the_reference_log_probabilities_are_the_sft_models(dpo_run, tiny_model_dir):
    from peft import PeftModel

    from clintune.models.load import load_model, load_tokenizer
    from clintune.train.preference import dpo_config, dpo_trainer, preference_pairs

    config = load_config(dpo_run / "config.yaml")
    tokenizer = load_tokenizer(str(tiny_model_dir))
    sft = dpo_run / "stages" / "sft"
    policy = PeftModel.from_pretrained(load_model(str(tiny_model_dir)), str(sft), is_trainable=True)
    pairs = preference_pairs(config, policy, tokenizer, [], dpo_run, None, lambda _: None)
    trainer = dpo_trainer(policy, tokenizer, pairs, config, dpo_config(config, dpo_run / "x", "cpu", "fp32"), [])
    with torch.no_grad():  # move the policy away from SFT: the reference must not follow it
        for name, param in policy.named_parameters():
            if ".default." in name and "lora_B" in name:
                param.add_(0.5)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(min(2, len(pairs)))])
    ref_chosen, ref_rejected = trainer.compute_ref_log_probs(trainer.model, batch)

    reference = PeftModel.from_pretrained(load_model(str(tiny_model_dir)), str(sft)).merge_and_unload().eval()
    base = load_model(str(tiny_model_dir)).eval()

    def summed(model, ids, mask):
        with torch.no_grad():
            logps = torch.log_softmax(model(input_ids=ids).logits[:, :-1].float(), -1)
        picked = logps.gather(2, ids[:, 1:, None])[..., 0]
        return (picked * mask[:, 1:]).sum(1)

    ids, mask = batch["input_ids"], batch["completion_mask"]
    found = torch.cat([ref_chosen, ref_rejected])
    sequences = [summed(reference, ids[i:i + 1, :int(batch["attention_mask"][i].sum())],
                        mask[i:i + 1, :int(batch["attention_mask"][i].sum())]) for i in range(len(ids))]
    expected = torch.cat(sequences)
    assert torch.allclose(found, expected, atol=1e-3), (found, expected)
    base_logps = torch.cat([summed(base, ids[i:i + 1, :int(batch["attention_mask"][i].sum())],
                                   mask[i:i + 1, :int(batch["attention_mask"][i].sum())]) for i in range(len(ids))])
    assert not torch.allclose(found, base_logps, atol=1e-1)  # the adapter-off base would be another reference


def test_dpo_without_sft_or_with_full_fine_tuning_is_refused_at_the_door():
    from clintune import api
    from clintune.errors import ClintuneError

    for overrides, said in ((["stages=[dpo]"], "stage dpo starts from the sft stage's model"),
                            (["stages=[dpo,sft]"], "in the order pretrain, sft, dpo"),
                            (["stages=[sft,dpo]", "train.method=full"], "stage dpo needs an adapter")):
        with pytest.raises(ClintuneError, match=said):
            api.load_config("demo", overrides)
