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
