import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

from clintune.config import LoraSection, dump_config, load_config
from clintune.data.generate import generate_rows
from clintune.models.load import load_model
from clintune.prompts.templates import encode_prompt, render_prompt
from clintune.train.adapters import add_lora


def _run_with_a_trained_looking_adapter(tmp_path, tiny_model_dir, tiny_tokenizer):
    run = tmp_path / "run"
    (run / "adapter").mkdir(parents=True)
    (run / "config.yaml").write_text(dump_config(load_config(None, [f"model.name={tiny_model_dir}"])))
    model = add_lora(load_model(str(tiny_model_dir)), LoraSection(r=4, alpha=8))
    torch.manual_seed(0)
    with torch.no_grad():  # a fresh adapter is a no-op (B = 0); give it weights so the merge has something to do
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.05)
    model.save_pretrained(run / "adapter", safe_serialization=True)
    tiny_tokenizer.save_pretrained(run / "adapter")
    return run


def test_a_merged_model_generates_what_base_plus_adapter_generates(tmp_path, tiny_model_dir, tiny_tokenizer, cli):
    run = _run_with_a_trained_looking_adapter(tmp_path, tiny_model_dir, tiny_tokenizer)
    result = cli("merge", str(run), "--out", str(tmp_path / "merged"))
    assert result.returncode == 0, result.stderr[-2000:]
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")  # plain transformers, nothing of ours
    assert not list((tmp_path / "merged").glob("*.bin")) and (tmp_path / "merged" / "model.safetensors").is_file()
    unmerged = PeftModel.from_pretrained(load_model(str(tiny_model_dir)), str(run / "adapter")).eval()
    base = load_model(str(tiny_model_dir)).eval()
    for row in generate_rows(3, seed=4):
        ids = torch.tensor([encode_prompt(tiny_tokenizer, render_prompt(tiny_tokenizer, row["note"], row["question"]))])
        settings = {"max_new_tokens": 12, "do_sample": False, "pad_token_id": tiny_tokenizer.pad_token_id}
        with torch.no_grad():
            assert torch.allclose(merged(ids).logits, unmerged(ids).logits, atol=1e-4)
            expected = unmerged.generate(input_ids=ids, **settings)
            assert torch.equal(merged.generate(input_ids=ids, **settings), expected)
            assert not torch.allclose(base(ids).logits, merged(ids).logits, atol=1e-3)  # the adapter did change it


def test_merge_refuses_what_it_cannot_merge(tmp_path, cli):
    result = cli("merge", str(tmp_path), "--out", str(tmp_path / "m"))
    assert result.returncode == 2 and "not a clintune run directory" in result.stderr
    assert not (tmp_path / "m").exists()
