import torch

from clintune.evaluate.generate import generate_answers
from clintune.prompts.templates import render_prompt


def test_batched_greedy_equals_one_at_a_time(tiny_model, tiny_tokenizer):
    torch.manual_seed(0)
    notes = ["Pt on heparin.", "67 y/o M w/ HTN admitted with CAP, started on ceftriaxone 1 g IV daily.", "Stable."]
    prompts = [render_prompt(tiny_tokenizer, n, "Which drug?") for n in notes]
    batched = generate_answers(tiny_model, tiny_tokenizer, prompts, chat=True, max_new_tokens=8, batch_size=3)
    single = [generate_answers(tiny_model, tiny_tokenizer, [p], chat=True, max_new_tokens=8, batch_size=1)[0]
              for p in prompts]
    assert batched == single
    assert all(isinstance(a, str) for a in batched)


def test_generation_feeds_one_new_token_per_step_through_the_kv_cache(tiny_model, tiny_tokenizer):
    tiny_model.config.use_cache = False  # what transformers' Trainer leaves behind
    fed_lengths = []
    hook = tiny_model.register_forward_pre_hook(
        lambda module, args, kwargs: fed_lengths.append(kwargs["input_ids"].shape[1]), with_kwargs=True
    )
    prompt = render_prompt(tiny_tokenizer, "Pt on heparin.", "Which drug?")
    generate_answers(tiny_model, tiny_tokenizer, [prompt], chat=True, max_new_tokens=4, batch_size=1)
    hook.remove()
    assert len(fed_lengths) >= 2 and fed_lengths[0] > 1
    assert all(n == 1 for n in fed_lengths[1:])  # after the prompt, one new token per step
