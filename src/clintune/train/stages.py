"""What each stage trains on, tokenized before step 1.

- pretrain (stage 1 of the Asclepius recipe): the training split's distinct notes as `[bos] note [eos]`, concatenated
  and cut into fixed blocks; the remainder shorter than a block is dropped, as the paper did.
- sft (stage 2): prompt + answer + EOS per question, prompt masked, EOS trained; every example's prompt is checked to be
  exactly the inference prompt, token for token, and none is ever truncated.
"""

from __future__ import annotations

from datasets import Dataset

from clintune.config import RunConfig
from clintune.errors import ClintuneError
from clintune.prompts.templates import check_round_trip, encode_example, render_prompt


def encode_sft(tokenizer, rows: Dataset, config: RunConfig) -> Dataset:
    """Tokenize prompt + answer + EOS; refuse (never truncate) examples longer than train.max_length."""
    chat = config.prompt.chat
    encoded = []
    for i, row in enumerate(rows):
        prompt = render_prompt(tokenizer, row["note"], row["question"], config.prompt.template, chat)
        example = encode_example(tokenizer, prompt, row["answer"], chat)
        check_round_trip(tokenizer, prompt, example, chat)
        if len(example["input_ids"]) > config.train.max_length:
            raise ClintuneError(
                f"training example {i} is {len(example['input_ids'])} tokens, over train.max_length="
                f"{config.train.max_length}",
                fix="raise train.max_length or set data.max_tokens to drop long examples; answers are never truncated",
            )
        encoded.append(example)
    return Dataset.from_list(encoded)


def note_blocks(tokenizer, notes: list[str], block_size: int) -> Dataset:
    """Distinct notes as one token stream, `[bos] note [eos]` each, cut into blocks of `block_size`."""
    if tokenizer.eos_token_id is None:
        raise ClintuneError("the tokenizer has no EOS token", fix="use a tokenizer that defines eos_token")
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    stream: list[int] = []
    for note in dict.fromkeys(notes):  # one copy of each note, in order: several questions share a note
        stream.extend(bos + tokenizer(note, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id])
    n_blocks = len(stream) // block_size
    if n_blocks == 0:
        raise ClintuneError(
            f"the notes give {len(stream)} tokens, fewer than one pretraining block of {block_size}",
            fix="lower pretrain.block_size or add notes",
        )
    return Dataset.from_dict({"input_ids": [stream[i * block_size:(i + 1) * block_size] for i in range(n_blocks)]})
