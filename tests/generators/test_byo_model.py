"""A model brought from elsewhere: the Hugging Face adapter's key/value state, its own
tokenizer, the plain-prose prompt, and the clear refusals of folders that cannot serve."""

from __future__ import annotations

import pytest
import torch
from byo_support import write_gpt2, write_llama
from transformers import T5Config, T5ForConditionalGeneration

from generators.errors import CheckpointError
from generators.inference.prompts import build_prompt
from generators.models.hf_causal import ContextOverflow, HFCausalLanguageModel
from generators.models.transformer import KVState
from generators.schemas import StoryContext
from generators.text.hf_tokenizer import HFTokenizer

WRITERS = {"llama": write_llama, "gpt2": write_gpt2}


@pytest.fixture(scope="module", params=sorted(WRITERS))
def folder(request, tmp_path_factory):
    return WRITERS[request.param](tmp_path_factory.mktemp(request.param))


@pytest.fixture(scope="module")
def loaded(folder):
    model = HFCausalLanguageModel.from_folder(folder)
    return model, HFTokenizer.from_folder(folder, model.vocab_size)


def test_rows_of_different_lengths_share_a_left_padded_state(loaded):
    """Two prompts read apart, joined, stepped together and split again give the logits each
    would have alone: positions and mask follow each row (GPT-2's learned positions too)."""
    model, _ = loaded
    torch.manual_seed(1)
    a, b = torch.randint(3, 200, (1, 7)), torch.randint(3, 200, (1, 3))
    alone_a, _ = model.run(a)
    alone_b, _ = model.run(torch.cat([b, a[:, :1]], 1))
    _, state_a = model.run(a[:, :5])
    _, state_b = model.run(b)
    joined = model.cat_states([state_a, state_b])
    out, after = model.run(torch.stack([a[0, 5], a[0, 0]]).unsqueeze(1), joined)
    assert torch.allclose(out[0, -1], alone_a[0, 5], atol=1e-4)
    assert torch.allclose(out[1, -1], alone_b[0, -1], atol=1e-4)
    kept = model.select_state(after, torch.tensor([0]))
    assert kept.mask.size(1) == 6  # the padding only row b needed is gone
    again, _ = model.run(a[:, 6:7], kept, last_only=True)
    assert again.shape[1] == 1 and torch.allclose(again[0, -1], alone_a[0, 6], atol=1e-4)
    many, _ = model.run(a[:, 5:6].expand(3, 1), model.expand_state(state_a, 3))
    assert torch.allclose(many[2, -1], alone_a[0, 5], atol=1e-4)
    assert isinstance(after, KVState)


def test_the_folders_own_tokenizer_reads_user_text_plainly(loaded):
    model, tok = loaded
    text = 'Mira said, "Hello" <|endoftext|> </s>\n\nThen.'
    assert tok.decode(tok.encode(text)) == text
    assert tok.vocab_size == model.vocab_size
    assert tok.eos_id in tok.special_ids
    # Ids past the tokenizer's last one (a padded output layer) are never sampled.
    assert set(range(len(tok._texts), tok.vocab_size)) <= tok.special_ids
    assert tok.token_text(tok.encode("\n")[0]) == "\n"


STORY = StoryContext.model_validate(
    {
        "genre": "horror_gothic",
        "mood": "eerie",
        "premise": "A lighthouse keeper finds a door in the sea",
        "characters": [{"name": "Mira", "personality": "brave, curious"}, {"name": "Tom"}],
        "memory": "Mira lost her brother to the sea.",
        "lore": ["The sea door opens at midnight."],
        "speaker": "Mira",
        "turns": [{"text": f"Turn {i}. The waves rolled in."} for i in range(12)],
    }
)


def test_plain_prompt_writes_the_story_as_prose(loaded):
    _, tok = loaded
    prompt = build_prompt(tok, "continue", STORY, budget=400)
    text = tok.decode(prompt.ids)
    assert prompt.ids[: len(tok.start_ids)] == tok.start_ids
    assert text.startswith("Genre: gothic horror. Mood: eerie.\nPremise: A lighthouse keeper")
    assert "Characters: Mira (brave, curious); Tom." in text
    assert "Mira lost her brother to the sea.\n\nThe sea door opens at midnight." in text
    assert text.endswith("Turn 11. The waves rolled in.\n\n")
    assert prompt.stop.paragraph == "\n" and prompt.prefix_text == ""


@pytest.mark.parametrize(
    ("kind", "ending", "prefix"),
    [("dialogue", 'Mira said, "', '"'), ("twist", "Suddenly,", "Suddenly,")],
)
def test_plain_prompt_asks_for_the_kind_of_turn(loaded, kind, ending, prefix):
    _, tok = loaded
    prompt = build_prompt(tok, kind, STORY, budget=400)
    assert tok.decode(prompt.ids).endswith("The waves rolled in.\n\n" + ending)
    assert prompt.prefix_text == prefix


def test_plain_poem_reads_no_turns_and_ends_at_a_stanza(loaded):
    _, tok = loaded
    poem = STORY.model_copy(update={"theme": "the tide"})
    prompt = build_prompt(tok, "poem", poem, budget=400)
    text = tok.decode(prompt.ids)
    assert text.startswith("Genre: poetry.") and text.endswith("A short poem about the tide:\n")
    assert "Turn" not in text and prompt.stop.stanza


def test_plain_prompt_keeps_the_newest_turns_within_the_budget(loaded):
    _, tok = loaded
    prompt = build_prompt(tok, "dialogue", STORY, budget=120)
    text = tok.decode(prompt.ids)
    assert len(prompt.ids) <= 120 and prompt.dropped_turns > 0
    assert text.startswith("Genre: gothic horror.")
    assert "Turn 11." in text and "Turn 0." not in text
    assert text.endswith('Mira said, "')


def test_a_learned_position_model_refuses_to_read_past_its_context(tmp_path):
    model = HFCausalLanguageModel.from_folder(write_gpt2(tmp_path, positions=16))
    _, state = model.run(torch.zeros(1, 12, dtype=torch.long))
    with pytest.raises(ContextOverflow, match="at most 16 tokens"):
        model.run(torch.zeros(1, 5, dtype=torch.long), state)


def test_folders_that_cannot_serve_are_refused_with_the_reason(tmp_path):
    with pytest.raises(CheckpointError, match="model folder not found"):
        HFCausalLanguageModel.from_folder(tmp_path / "absent")
    with pytest.raises(CheckpointError, match=r"has no config\.json"):
        HFCausalLanguageModel.from_folder(tmp_path)
    seq2seq = tmp_path / "t5"
    config = T5Config(d_model=16, d_ff=32, num_layers=1, num_heads=2, vocab_size=50, d_kv=8)
    T5ForConditionalGeneration(config).save_pretrained(seq2seq)
    with pytest.raises(CheckpointError, match="does not hold a causal language model: T5Config"):
        HFCausalLanguageModel.from_folder(seq2seq)


def test_a_tokenizer_larger_than_the_model_is_refused(tmp_path):
    folder = write_gpt2(tmp_path, vocab_size=200)
    model = HFCausalLanguageModel.from_folder(folder)
    with pytest.raises(CheckpointError, match="the model reads only 200: they do not belong"):
        HFTokenizer.from_folder(folder, model.vocab_size)
