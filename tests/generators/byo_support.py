"""Tiny randomly initialised Hugging Face causal LMs with their own tokenizers, built in a test's
folder (nothing is downloaded): what a user who brings their own model would point at.
(No tests here.)"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

SENTENCES = [
    "Mira walked to the old lighthouse by the sea.",
    '"Who is there?" Tom asked, holding the lamp high.',
    "The door in the water opened, and a cold wind came out.",
    "They laughed, and the birds flew over the quiet town.",
    "Once upon a time a small fox found a silver key.",
    "Genre: fairy tale. Mood: calm.\nCharacters: Mira (brave); Tom (gruff).",
]


def train_tokenizer(specials: list[str], vocab_size: int = 300) -> Tokenizer:
    """A byte-level BPE trained on a few synthetic sentences."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(SENTENCES * 20, trainer=trainer)
    return tok


def write_llama(folder: Path, *, extra_vocab: int = 12, positions: int = 256) -> Path:
    """A two-layer Llama whose output layer is wider than its tokenizer (padded vocabulary),
    with `<s>`, `</s>` and `<pad>`."""
    tok = train_tokenizer(["<s>", "</s>", "<pad>"])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(fast) + extra_vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=positions,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def write_gpt2(folder: Path, *, positions: int = 256, vocab_size: int | None = None) -> Path:
    """A two-layer GPT-2 (learned positions) whose only special token is `<|endoftext|>`;
    `vocab_size` smaller than the tokenizer's makes a model and tokenizer that do not match."""
    tok = train_tokenizer(["<|endoftext|>"])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>"
    )
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=vocab_size or len(fast),
        n_embd=32,
        n_layer=2,
        n_head=4,
        n_positions=positions,
        bos_token_id=fast.eos_token_id,
        eos_token_id=fast.eos_token_id,
    )
    GPT2LMHeadModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder
