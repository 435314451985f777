"""Stage dpo after sft: TRL's DPOTrainer on pairs made from the SFT model, the SFT model as the reference."""

import json
import signal
import subprocess
import sys

import pytest
import torch

from clintune.config import load_config

NOTE = ("Discharge Summary:\nA 67-year-old man was admitted with community-acquired pneumonia and received IV "
        "ceftriaxone; he improved by hospital day 3 and was discharged home.")
QUESTION = "Which antibiotic did the patient receive?"
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


def test_eval_chat_and_serve_take_the_dpo_adapter_as_an_sft_one(dpo_run, start_server, tmp_path):
    import io

    import httpx

    from clintune import api

    evaluated = api.evaluate(run=dpo_run, limit=2, decoding=api.Decoding(8), out=tmp_path / "eval")
    assert evaluated["n"] == 2 and len((tmp_path / "eval" / "predictions.jsonl").read_text().splitlines()) == 2
    note = tmp_path / "note.txt"
    note.write_text(NOTE)
    session, chatted = api.chat(run=dpo_run, note=note, max_tokens=8), io.StringIO()
    assert session.served.has_adapter and session.handle(QUESTION, chatted)
    messages = [{"role": "system", "content": NOTE}, {"role": "user", "content": QUESTION}]
    process, url = start_server(dpo_run, run=True)
    try:
        name = httpx.get(f"{url}/v1/models", timeout=30).json()["data"][0]["id"]
        reply = httpx.post(f"{url}/v1/chat/completions", timeout=120, json={
            "model": name, "max_tokens": 8, "temperature": 0, "messages": messages})
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert reply.status_code == 200 and chatted.getvalue().strip()
    from clintune.serve.engine import Sampling, generate

    served = session.served  # the DPO adapter on, as the server holds it
    text = served.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = served.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert reply.json()["choices"][0]["message"]["content"] == generate(served, ids, Sampling(8, 0.0)).text


def test_sft_then_kto_on_a_users_conversational_file(cli, tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    questions = ["Which antibiotic was given?", "What was the diagnosis?", "When was the patient discharged?",
                 "What follow-up is planned?"]
    rows = [{"prompt": [{"role": "user", "content": f"{NOTE}\n{question}"}],
             "completion": [{"role": "assistant", "content": answer}], "label": good}
            for question in questions for answer, good in (("As the note says: ceftriaxone, day 3.", True),
                                                           ("Viperin 40 mg, started on day 12.", False))]
    users = tmp_path / "kto.jsonl"
    users.write_text("".join(json.dumps(row) + "\n" for row in rows))
    run = tmp_path / "run"
    result = cli("train", "demo", f"model.name={tiny_model_dir}", *SFT, "stages=[sft,kto]", f"preference.pairs={users}",
                 "train.max_steps=2", "train.batch_size=2", "--out", str(run))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "stage kto: 8 answers (4 good)" in result.stderr
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    kto = [r for r in records if r["stage"] == "kto" and "loss" in r]
    assert [r["step"] for r in kto] == [1, 2] and all(key in kto[0] for key in ("kl", "logps/chosen"))
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    kept = [json.loads(line) for line in (run / "data" / "kto.jsonl").read_text().splitlines()]
    assert kept[0]["prompt"] == tokenizer.apply_chat_template(rows[0]["prompt"], tokenize=False,
                                                              add_generation_prompt=True)
    card = json.loads((run / "data" / "data_card.json").read_text())["preference"]
    assert card["stage"] == "kto" and card["shape"] == "conversational" and card["rows"] == 8
    assert "KTO (TRL's KTOTrainer" in (run / "README.md").read_text()
    assert (run / "adapter" / "adapter_model.safetensors").is_file() and not (run / "adapter" / "ref").exists()


def test_the_reference_log_probabilities_are_the_sft_models(dpo_run, tiny_model_dir):
    from peft import PeftModel

    from clintune.models.load import load_model, load_tokenizer
    from clintune.train.preference import dpo_config, preference_data, preference_trainer

    config = load_config(dpo_run / "config.yaml")
    tokenizer = load_tokenizer(str(tiny_model_dir))
    sft = dpo_run / "stages" / "sft"
    policy = PeftModel.from_pretrained(load_model(str(tiny_model_dir)), str(sft), is_trainable=True)
    pairs = preference_data("dpo", config, policy, tokenizer, [], dpo_run, None, lambda _: None)
    arguments = dpo_config(config, dpo_run / "x", "cpu", "fp32")
    trainer = preference_trainer("dpo", policy, tokenizer, pairs, config, arguments, [])
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
                            (["stages=[dpo,sft]"], "in the order pretrain, sft, then dpo or kto"),
                            (["stages=[sft,dpo,kto]"], "one preference stage per run"),
                            (["stages=[sft,kto]", "train.batch_size=1"], "needs train.batch_size 2 or more"),
                            (["stages=[sft,kto]", "preference.loss_type=ipo"], "is not a kto loss"),
                            (["stages=[sft,dpo]", "train.method=full"], "stage dpo needs an adapter")):
        with pytest.raises(ClintuneError, match=said):
            api.load_config("demo", overrides)
