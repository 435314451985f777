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
