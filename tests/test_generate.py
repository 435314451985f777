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


def test_an_interrupted_evaluation_resumes_from_its_cache(tiny_model, tiny_tokenizer, tmp_path):
    from clintune.evaluate.generate import Decoding, GenerationCache

    decoding = Decoding(max_new_tokens=6)
    prompts = [render_prompt(tiny_tokenizer, f"Pt {i} on heparin.", "Which drug?") for i in range(4)]
    first = generate_answers(tiny_model, tiny_tokenizer, prompts[:3], chat=True, batch_size=2, decoding=decoding,
                             cache=GenerationCache(tmp_path / "cache.jsonl", "tiny", decoding))
    with (tmp_path / "cache.jsonl").open("a") as handle:
        handle.write('{"key": "torn')  # killed mid-write
    calls = []
    hook = tiny_model.register_forward_pre_hook(lambda *args: calls.append(1))
    resumed = generate_answers(tiny_model, tiny_tokenizer, prompts, chat=True, batch_size=2, decoding=decoding,
                               cache=GenerationCache(tmp_path / "cache.jsonl", "tiny", decoding))
    hook.remove()
    assert resumed[:3] == first and len(calls) <= 6  # only the fourth prompt was generated
    other = GenerationCache(tmp_path / "cache.jsonl", "tiny", Decoding(max_new_tokens=6, num_beams=2))
    assert not any(other.key(p) in other.values for p in prompts)  # other decoding settings: other keys


def test_stop_strings_and_beam_search(tiny_model, tiny_tokenizer):
    from clintune.evaluate.generate import Decoding

    prompt = render_prompt(tiny_tokenizer, "Pt on heparin.", "Which drug?")
    (free,) = generate_answers(tiny_model, tiny_tokenizer, [prompt], chat=True, batch_size=1,
                               decoding=Decoding(max_new_tokens=12))
    stop = free[len(free) // 2:][:2]
    (cut,) = generate_answers(tiny_model, tiny_tokenizer, [prompt], chat=True, batch_size=1,
                              decoding=Decoding(max_new_tokens=12, stop=(stop,)))
    assert cut == free[:free.find(stop)].strip()
    beams = generate_answers(tiny_model, tiny_tokenizer, [prompt, prompt], chat=True, batch_size=2,
                             decoding=Decoding(max_new_tokens=6, num_beams=3))
    assert beams[0] == beams[1] and isinstance(beams[0], str)


def reference_greedy(model, prompt: list[int], max_new_tokens: int, eos: int | None) -> list[int]:
    """transformers' own greedy generate, one prompt at a time: what greedy_batch must reproduce."""
    ids = torch.tensor([prompt])
    output = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                            do_sample=False, eos_token_id=eos, pad_token_id=eos)
    return output[0, len(prompt):].tolist()


def scramble(model) -> None:
    """Random weights large enough that greedy answers vary from prompt to prompt and token to token (the tiny
    model's own repeat one token, which would let a wrong position or a wrong row pass unnoticed)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() == 2:
                parameter.normal_(0, 0.2)


def test_greedy_batch_reproduces_generate_token_for_token_sharing_the_prefix_and_dropping_ended_rows(
        tiny_model, tiny_tokenizer):
    from clintune.evaluate.greedy import greedy_batch
    from clintune.prompts.templates import encode_prompt

    scramble(tiny_model)
    notes = ["Pt on heparin.", "67 y/o M w/ HTN admitted with CAP, started on ceftriaxone 1 g IV daily.", "Stable.",
             "Echo: EF 55%. No effusion. Mild MR."]
    prompts = [encode_prompt(tiny_tokenizer, render_prompt(tiny_tokenizer, n, "Which drug?"), True) for n in notes]
    free = reference_greedy(tiny_model, prompts[1], 10, eos=None)
    eos = free[2]  # a token the second prompt's answer reaches early, so that its row ends before the others
    expected = [reference_greedy(tiny_model, p, 10, eos) for p in prompts]
    assert expected[1] == free[:3] and max(len(e) for e in expected) == 10
    assert len({tuple(e) for e in expected}) == 4
    batch_sizes = []
    hook = tiny_model.register_forward_pre_hook(
        lambda module, args, kwargs: batch_sizes.append(kwargs["input_ids"].shape[0]), with_kwargs=True)
    with torch.inference_mode():
        got = greedy_batch(tiny_model, prompts, max_new_tokens=10, eos_token_id=eos, pad_token_id=0)
    hook.remove()
    assert got == expected
    assert batch_sizes[0] == 1  # the template's shared opening, prefilled once
    assert batch_sizes[1] == 4 and batch_sizes[-1] < 4  # then every row, until ended rows leave the batch


def test_a_model_whose_generation_config_asks_for_a_penalty_is_decoded_by_generate(tiny_model, tiny_tokenizer):
    from clintune.evaluate.generate import Decoding
    from clintune.evaluate.greedy import plain_greedy
    from clintune.prompts.templates import encode_prompt

    scramble(tiny_model)
    tiny_model.generation_config.repetition_penalty = 5.0
    assert not plain_greedy(tiny_model, num_beams=1, do_sample=False)
    prompt = render_prompt(tiny_tokenizer, "Pt on heparin and heparin.", "Which drug?")
    (answer,) = generate_answers(tiny_model, tiny_tokenizer, [prompt], chat=True, batch_size=1,
                                 decoding=Decoding(max_new_tokens=12))
    ids = encode_prompt(tiny_tokenizer, prompt, True)
    penalised = reference_greedy(tiny_model, ids, 12, eos=tiny_tokenizer.eos_token_id)
    assert answer == tiny_tokenizer.decode(penalised, skip_special_tokens=True).strip()
    tiny_model.generation_config.repetition_penalty = 1.0
    assert plain_greedy(tiny_model, num_beams=1, do_sample=False)
    assert not plain_greedy(tiny_model, num_beams=3, do_sample=False)
