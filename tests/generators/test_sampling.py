"""Sampling: filters never leak, seeds reproduce, stop rules cut where they should."""

from __future__ import annotations

import asyncio

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from generators.client import InProcessGenerator
from generators.inference.sampling import (
    SamplingSettings,
    Sequence,
    StopRule,
    closing_quote_end,
    filter_top_k_top_p,
    sample,
    sample_after,
    trim_to_sentence,
)
from generators.schemas import GenerateRequest


@settings(max_examples=150, deadline=None)
@given(
    logits=st.lists(st.floats(-20, 20, allow_nan=False), min_size=2, max_size=40),
    top_k=st.integers(0, 40),
    top_p=st.floats(0.01, 1.0),
    seed=st.integers(0, 2**31),
)
@example(logits=[0.0] * 17, top_k=0, top_p=0.5, seed=0)
def test_top_k_top_p_never_emit_outside_allowed_set(logits, top_k, top_p, seed):
    row = torch.tensor([logits])
    filtered = filter_top_k_top_p(row, torch.tensor([top_k]), torch.tensor([top_p]))
    allowed = torch.isfinite(filtered[0])
    assert allowed.any()
    if top_k > 0:
        assert int(allowed.sum()) <= top_k
    # The nucleus: allowed tokens are a prefix of the sorted order (ties may fall either way)
    # whose mass before the last one is below top_p.
    probs = row[0].softmax(-1)
    kept_mass_before_last = probs[allowed].sum() - probs[allowed].min()
    assert kept_mass_before_last < top_p + 1e-5
    if not allowed.all():
        assert row[0][allowed].min() >= row[0][~allowed].max()
    samples = torch.multinomial(
        filtered.softmax(-1), 200, replacement=True, generator=torch.Generator().manual_seed(seed)
    )
    assert allowed[samples[0]].all()


def test_rows_filter_independently():
    row = torch.tensor([[3.0, 2.0, 1.0, 0.0], [3.0, 2.0, 1.0, 0.0]])
    out = filter_top_k_top_p(row, torch.tensor([1, 0]), torch.tensor([1.0, 1.0]))
    assert torch.isfinite(out[0]).tolist() == [True, False, False, False]
    assert torch.isfinite(out[1]).all()


def test_trim_to_sentence():
    assert trim_to_sentence("She ran home. Then the door") == "She ran home."
    assert trim_to_sentence('"Stop!" he cried. And') == '"Stop!" he cried.'
    assert trim_to_sentence("no sentence end here") == "no sentence end here"


def test_closing_quote_end():
    assert closing_quote_end('"Hello," said Tom.') is None
    text = '"I found the key!" she said.'
    assert text[: closing_quote_end(text)] == '"I found the key!"'
    assert closing_quote_end("no quote at all.") is None


def test_closing_quote_end_inside_an_open_quote():
    text = " Let's have a pond party! All the fish can play.\" They ran to the pond."
    assert text[: closing_quote_end(text, inside=True)] == (
        " Let's have a pond party! All the fish can play.\""
    )
    assert closing_quote_end(' Come here," she said.', inside=True) is None
    assert closing_quote_end(" Come here!\u201d", inside=True) == len(" Come here!\u201d")
    assert closing_quote_end(' Come here!"') is None


def request(seed: int | None = 5, kind: str = "continue", **params) -> GenerateRequest:
    return GenerateRequest.model_validate(
        {
            "kind": kind,
            "context": {
                "genre": "children",
                "speaker": "Lily",
                "characters": [{"name": "Lily", "personality": "brave"}],
                "turns": [{"author": "ana", "text": "Once upon a time, there was a cat."}],
            },
            "params": {"max_tokens": 30, "n": 3, "seed": seed, **params},
        }
    )


@pytest.fixture(scope="module")
def generator(tiny_checkpoint):
    torch.set_num_threads(1)
    return InProcessGenerator.from_checkpoints([tiny_checkpoint])


def run(coro):
    return asyncio.run(coro)


def test_same_seed_same_text(generator):
    a = run(generator.generate(request(11)))
    b = run(generator.generate(request(11)))
    assert a.text == b.text
    assert [c.text for c in a.candidates] == [c.text for c in b.candidates]


def test_different_seeds_differ(generator):
    texts = {run(generator.generate(request(seed))).text for seed in range(6)}
    assert len(texts) > 1


def test_candidates_are_scored_and_sorted(generator):
    response = run(generator.generate(request(3)))
    assert len(response.candidates) == 3
    scores = [c.score for c in response.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(s < 0 for s in scores)
    assert response.text == response.candidates[0].text
    assert response.timings.total_ms > 0


def test_max_tokens_bounds_length(generator):
    response = run(generator.generate(request(4, max_tokens=5, min_tokens=5)))
    for candidate in response.candidates:
        assert candidate.tokens <= 5


def test_no_control_token_text_in_output(generator):
    response = run(generator.generate(request(8)))
    for candidate in response.candidates:
        assert "<|" not in candidate.text


def test_dialogue_is_a_quoted_line(generator):
    response = run(generator.generate(request(2, kind="dialogue")))
    assert response.text.startswith('"')


@pytest.mark.parametrize("kind", ["continue", "twist", "poem", "opening", "dialogue"])
def test_every_kind_generates(generator, kind):
    response = run(generator.generate(request(1, kind=kind)))
    assert response.kind == kind
    assert response.text.strip()


def test_stop_rule_paragraph_cuts_at_separator(tiny_checkpoint):
    from generators.checkpoint import load_checkpoint
    from generators.inference.sampling import TokenTables, check_stop

    loaded = load_checkpoint(tiny_checkpoint)
    tok = loaded.tokenizer
    seq = Sequence(
        prompt=[tok.eos_id],
        settings=SamplingSettings(min_tokens=1),
        stop=StopRule(paragraph="\n"),
        generator=torch.Generator(),
    )
    seq.tokens = tok.encode("The cat sat down.\nThen")
    TokenTables(tok)
    check_stop(seq, tok)
    assert seq.finished and seq.text == "The cat sat down." and seq.stop_reason == "paragraph"


def full_sort_filter(logits: torch.Tensor, top_k: torch.Tensor, top_p: torch.Tensor):
    """The definition of the filter: sort each whole row, cut by rank and by nucleus mass."""
    sorted_logits, sorted_idx = logits.sort(dim=-1, descending=True)
    vocab = logits.size(-1)
    ranks = torch.arange(vocab).unsqueeze(0)
    k = torch.where(top_k > 0, top_k, torch.full_like(top_k, vocab)).unsqueeze(1)
    probs = sorted_logits.softmax(dim=-1)
    nucleus = torch.where(top_p >= 1.0, float("inf"), top_p).unsqueeze(1)
    remove = (ranks >= k) | ((probs.cumsum(dim=-1) - probs) >= nucleus)
    remove[:, 0] = False
    remove = torch.zeros_like(remove).scatter(1, sorted_idx, remove)
    return logits.masked_fill(remove, float("-inf"))


@pytest.mark.parametrize("seed", range(6))
def test_ranked_nucleus_equals_a_full_sort(seed):
    """Peaked rows settle in the first widths, flat ones (wide nuclei) fall through to the
    whole vocabulary; every row must come out as a full sort would cut it."""
    generator = torch.Generator().manual_seed(seed)
    rows, vocab = 48, 3000
    scale = torch.rand(rows, 1, generator=generator) * 12
    logits = torch.randn(rows, vocab, generator=generator) * scale
    logits[:, :5] = float("-inf")
    top_k = torch.randint(0, 700, (rows,), generator=generator)
    top_k[::3] = 0
    top_p = torch.rand(rows, generator=generator).clamp_min(0.05)
    top_p[::7] = 1.0
    filtered = filter_top_k_top_p(logits, top_k, top_p)
    got = torch.isfinite(filtered)
    want = torch.isfinite(full_sort_filter(logits, top_k, top_p))
    assert torch.equal(got, want)
    assert torch.equal(filtered[got], logits[got])
    kept = got.sum(dim=1)
    assert int(kept.min()) < 64 < 512 < int(kept.max())  # every width was exercised


def test_sample_after_writes_what_each_opening_would_alone(generator):
    """The latent-led candidates share one decoding batch: each row must still write what one
    `sample` call after the prompt and its opening writes with the same seed and settings."""
    served = generator.registry.get(None)
    tokenizer = served.tokenizer
    prompt = tokenizer.encode("Once upon a time, there was a cat. ")
    openings = [tokenizer.encode(t) for t in ("The cat ran.", "Then a big dog came", "")]
    settings = [
        SamplingSettings(max_tokens=12 + i, min_tokens=2, temperature=0.9 + i / 10)
        for i in range(3)
    ]
    stop = StopRule()
    prefixes = ["The cat ran.", "Then a big dog came", ""]
    together = sample_after(
        served.model, served.tables, prompt, openings, settings, stop, [5, 6, 7], prefixes
    )
    for ids, rule, seed, prefix, row in zip(
        openings, settings, [5, 6, 7], prefixes, together, strict=True
    ):
        (alone,) = sample(
            served.model, served.tables, prompt + ids, rule, stop, 1, seed, prefix_text=prefix
        )
        assert row.tokens == alone.tokens
        assert row.text == alone.text
        assert row.logprob == pytest.approx(alone.logprob, abs=1e-4)
        # The opening's own log-prob after the prompt, as one reading of prompt + opening says.
        whole = torch.tensor([prompt + ids])
        with torch.no_grad():
            logits, _ = served.model.run(whole)
        logp = torch.log_softmax(logits[0, :-1].float(), dim=-1)
        targets = whole[0, 1:]
        expected = logp[len(prompt) - 1 :].gather(1, targets[len(prompt) - 1 :, None]).sum()
        assert row.opening_logprob == pytest.approx(float(expected), abs=1e-3)
    assert sample_after(served.model, served.tables, prompt, [], [], stop, [], []) == []
