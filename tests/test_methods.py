import pytest
from datasets import Dataset

from clintune.config import load_config
from clintune.data.generate import generate_rows
from clintune.devices import resolve_precision
from clintune.models.targets import count_parameters
from clintune.train.methods import describe, model_for_method
from clintune.train.run import train_stages


def _rows(n):
    return Dataset.from_list([r for r in generate_rows(80, seed=12) if len(r["note"]) < 900][:n])


@pytest.mark.parametrize(("method", "lr"), [("full", "1e-3"), ("lora", "3e-2"), ("dora", "3e-2"), ("qlora", "3e-2")])
def test_every_method_trains_and_its_loss_falls(tmp_path, tiny_model_dir, tiny_tokenizer, method, lr):
    config = load_config(None, [f"model.name={tiny_model_dir}", f"train.method={method}", f"train.lr={lr}",
                                "train.max_steps=15", "train.batch_size=4", "train.grad_accum=1",
                                "train.warmup_ratio=0", "train.scheduler=constant", "train.save_steps=0",
                                "lora.r=8", "lora.alpha=32"])
    precision = resolve_precision("auto", "cpu")
    model = model_for_method(str(tiny_model_dir), config, precision)
    trainable, total = count_parameters(model)
    assert (trainable == total) == (method == "full")
    assert method.lower()[:4] in describe(model, config).lower()
    # One batch of 4, seen at every step, so the loss curve is not the noise of changing batches.
    result = train_stages(config, tiny_tokenizer, _rows(4), tmp_path, "cpu", precision, say=lambda _: None)
    losses = [h["loss"] for h in result.log_history if "loss" in h]
    assert result.steps == {"sft": 15}
    assert losses[-1] < losses[0] - 0.3, losses
    assert result.trainable == trainable and result.total == total


def test_qlora_quantises_the_projections_and_counts_their_real_size(tiny_model_dir):
    lora = model_for_method(str(tiny_model_dir), load_config(None, ["train.method=lora"]), "bf16")
    qlora = model_for_method(str(tiny_model_dir), load_config(None, ["train.method=qlora", "quant.double_quant=true"]),
                             "bf16")
    kinds = {type(m).__name__ for m in qlora.modules()}
    assert "Linear4bit" in kinds
    assert count_parameters(qlora) == count_parameters(lora)  # packed 4-bit weights count as their real number
    head = qlora.get_output_embeddings()
    assert type(head).__name__ == "Linear"  # the vocabulary head is never quantised
