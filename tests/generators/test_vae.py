"""The sentence VAE: sentence cutting, the model's shapes and objective, training without
posterior collapse (and collapse without the defences), checkpoints, and evaluation."""

from __future__ import annotations

import json
import math

import pytest
import torch
from vae_testing import NO_DEFENCES, tiny_vae_run

from generators.checkpoint import load_checkpoint, save_checkpoint
from generators.evaluation.vae import (
    active_units,
    encode_texts,
    evaluate_vae,
    interpolate,
    mutual_information,
)
from generators.models.vae import SentenceVAE, VAEConfig, kl_per_dim, make_batch
from generators.text.corpus import Document
from generators.text.sentences import document_sentences, encode_sentences, split_sentences
from generators.text.tokenizer import TextTokenizer
from generators.train.vae import Objective, VAETask


@pytest.fixture(scope="session")
def tokenizer_path(tiny_run):
    return tiny_run / "tokenizer.json"


@pytest.fixture(scope="session")
def tokenizer(tokenizer_path) -> TextTokenizer:
    return TextTokenizer.load(tokenizer_path)


@pytest.fixture(scope="session")
def vae_run(tmp_path_factory, tiny_corpus_dir, tokenizer_path):
    return tiny_vae_run("defended", tmp_path_factory.mktemp("vae"), tiny_corpus_dir, tokenizer_path)


def last_validation(run) -> dict:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if r["kind"] == "validation"][-1]


def small_model(**overrides) -> SentenceVAE:
    torch.manual_seed(0)
    config = dict(vocab_size=50, embed_dim=8, encoder_dim=8, decoder_dim=12, latent_dim=4)
    return SentenceVAE(VAEConfig(**{**config, **overrides}))


def test_split_sentences_keeps_dialogue_tags_titles_and_joins_wrapped_lines():
    text = (
        '"Can I play?" asked Tom. Mr. Brown smiled at him!\n'
        "The night had fallen upon the old\ncastle. Nobody came.\n\n"
        "'Who is there?' cried Mia."
    )
    assert split_sentences(text) == [
        '"Can I play?" asked Tom.',
        "Mr. Brown smiled at him!",
        "The night had fallen upon the old castle.",
        "Nobody came.",
        "'Who is there?' cried Mia.",
    ]


def test_document_sentences_keep_length_limits_and_genre(tokenizer):
    docs = [
        Document(
            "A cat sat. Go! The little red cat played with a ball all day long.",
            "children",
            "s",
            "calm",
            "train",
        ),
        Document(
            "The old castle was cold and dark at night.", "horror_gothic", "b", "eerie", "train"
        ),
    ]
    sentences = document_sentences(docs, tokenizer, min_tokens=4, max_tokens=40)
    texts = [tokenizer.decode(sentences.tokens(i)) for i in range(len(sentences))]
    assert "Go!" not in texts
    assert all(4 <= n <= 40 for n in sentences.lengths())
    assert sentences.genres[-1] == "horror_gothic"
    assert texts[-1] == "The old castle was cold and dark at night."
    short = encode_sentences(tokenizer, texts, sentences.genres, max_tokens=6)
    assert all(n <= 6 for n in short.lengths())


def test_make_batch_puts_the_end_token_after_each_sentence():
    inputs, targets = make_batch([[5, 6, 7], [8]], bos_id=0, pad_id=1)
    assert inputs.tolist() == [[0, 5, 6, 7], [0, 8, 1, 1]]
    assert targets.tolist() == [[5, 6, 7, 0], [8, 0, -100, -100]]


def test_encode_decode_and_forward_shapes():
    model = small_model().eval()
    inputs, targets = make_batch([[5, 6, 7, 9], [8, 9]], bos_id=0, pad_id=1)
    tokens, lengths = model.encoder_view(inputs, targets)
    assert lengths.tolist() == [4, 2]
    mu, logvar = model.encode(tokens, lengths)
    assert mu.shape == logvar.shape == (2, 4)
    logits, loss = model(inputs)
    assert logits.shape == (2, 5, 50) and loss is None
    decoded = model.decode(torch.zeros(3, 4), max_tokens=7)
    assert len(decoded) == 3 and all(len(ids) <= 7 and 0 not in ids for ids in decoded)
    z, sampled = model.sample(2, generator=torch.Generator().manual_seed(1))
    assert z.shape == (2, 4) and len(sampled) == 2


def test_encoder_ignores_padding():
    model = small_model().eval()
    alone, _ = model.encode(torch.tensor([[5, 6, 7]]), torch.tensor([3]))
    padded, _ = model.encode(torch.tensor([[5, 6, 7, 1, 1], [9, 9, 9, 9, 9]]), torch.tensor([3, 5]))
    torch.testing.assert_close(alone[0], padded[0])


def test_forward_loss_is_the_negative_elbo():
    model = small_model().eval()
    inputs, targets = make_batch([[5, 6, 7], [8, 9]], bos_id=0, pad_id=1)
    torch.manual_seed(4)
    _, loss = model(inputs, targets)
    torch.manual_seed(4)
    parts = model.loss_parts(inputs, targets)
    torch.testing.assert_close(loss, (parts.recon + parts.kl.sum(dim=1)).mean())
    assert parts.tokens == 7


def test_kl_per_dim_is_zero_only_at_the_prior():
    assert float(kl_per_dim(torch.zeros(1, 3), torch.zeros(1, 3)).sum()) == 0.0
    kl = kl_per_dim(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, math.log(4.0)]]))
    torch.testing.assert_close(kl, torch.tensor([[0.5, 0.5 * (4.0 - 1.0 - math.log(4.0))]]))


def test_cyclical_beta_and_free_bits():
    objective = Objective(free_bits=0.5, kl_cycles=2, kl_cycle_steps=100, kl_rise=0.5)
    assert [objective.beta(s) for s in (0, 25, 50, 99, 100, 125, 200, 5000)] == [
        0.0,
        0.5,
        1.0,
        1.0,
        0.0,
        0.5,
        1.0,
        1.0,
    ]
    kl = torch.tensor([[0.1, 2.0], [0.3, 1.0]], requires_grad=True)
    term = objective.kl_term(kl)
    assert float(term.detach()) == pytest.approx(0.5 + 1.5)
    term.backward()
    assert kl.grad[:, 0].abs().sum() == 0  # below the floor: no pressure to shrink further
    assert (kl.grad[:, 1] > 0).all()


def test_task_resumes_at_the_same_batch(tokenizer):
    texts = [f"The cat number {i} sat on the mat today." for i in range(40)]
    sentences = encode_sentences(tokenizer, texts, ["children"] * 40)
    config = VAEConfig(vocab_size=tokenizer.vocab_size, pad_id=tokenizer.pad_id)

    def task() -> VAETask:
        return VAETask(sentences, sentences, tokenizer, config, Objective(), 6, 5, {})

    first = task()
    batches = first.batches()
    for _ in range(9):  # past the end of the first epoch
        next(batches)
    values, tensors = first.state()
    expected = next(batches)
    second = task()
    second.load_state(json.loads(json.dumps(values)), tensors)
    got = next(second.batches())
    assert torch.equal(expected[0], got[0]) and torch.equal(expected[1], got[1])
    assert first.epoch_plan(0)[0].tolist() != first.epoch_plan(1)[0].tolist()


def test_defences_keep_the_latent_in_use(vae_run):
    metrics = last_validation(vae_run)
    assert metrics["val_kl"] > 1.0
    assert metrics["val_active_units"] >= 2
    assert metrics["val_mutual_info"] > 0.2
    assert (vae_run / "loss_curve.png").exists()


def test_without_the_defences_the_posterior_collapses(
    vae_run, tmp_path_factory, tiny_corpus_dir, tokenizer_path
):
    """The control: the same run with annealing, word dropout and free bits switched off."""
    plain = tiny_vae_run(
        "plain", tmp_path_factory.mktemp("vae"), tiny_corpus_dir, tokenizer_path, **NO_DEFENCES
    )
    defended, collapsed = last_validation(vae_run), last_validation(plain)
    assert collapsed["val_kl"] < 0.5
    assert collapsed["val_kl"] < 0.3 * defended["val_kl"]
    assert collapsed["val_mutual_info"] < defended["val_mutual_info"]


def test_checkpoint_round_trip(vae_run, tmp_path, tokenizer):
    loaded = load_checkpoint(vae_run / "best")
    assert loaded.family == "vae" and isinstance(loaded.model, SentenceVAE)
    assert loaded.config["names"]["children"]  # the name lexicon ships with the checkpoint
    assert "## Validation at export" in loaded.card
    folder = save_checkpoint(
        tmp_path / "copy",
        loaded.model,
        family="vae",
        model_config=loaded.model.config.to_dict(),
        tokenizer=tokenizer,
        card="# copy\n",
    )
    again = load_checkpoint(folder)
    ids = torch.tensor([tokenizer.encode("Lily loved to play with a red ball.")])
    lengths = torch.tensor([ids.size(1)])
    torch.testing.assert_close(
        again.model.encode(ids, lengths)[0], loaded.model.encode(ids, lengths)[0]
    )


def test_evaluate_vae_reports_every_figure(vae_run, tiny_checkpoint, tokenizer):
    sentences = [
        "Lily loved to play with a red ball in the park.",
        "The night had fallen upon the old castle.",
        "They played all day in the garden, and Tom smiled.",
        '"Who is there?" cried Ben, but only the mist answered.',
        "One day, Mia saw a big kite near the lake.",
        "There was no sound but the whisper of the wind.",
    ]
    genres = ["children", "horror_gothic", "children", "horror_gothic", "children", "horror_gothic"]
    result = evaluate_vae(
        vae_run / "best", sentences, genres, tiny_checkpoint, samples_iw=20, iw_sentences=6
    )
    within = [s for s in sentences if 4 <= len(tokenizer.encode(s)) <= 40]
    assert result["sentences"] == len(within) >= 4
    assert result["elbo_nll"] == pytest.approx(result["recon_nll"] + result["kl"])
    assert result["iw_nll"] <= result["elbo_nll"] + 0.5
    assert result["iw_nll_text"] < result["iw_nll"]
    assert math.isfinite(result["mutual_info"])
    assert 0 <= result["active_units"] <= result["latent_dim"]
    assert result["lm_nll"] > 0 and "iw_gap_to_lm" in result
    assert len(result["interpolation"]) == 6


def test_mutual_information_and_active_units_on_known_posteriors():
    n = 2000  # the estimate's noise is about sqrt(dim / 2 / n) nats
    same_mu, same_logvar = torch.zeros(n, 4), torch.zeros(n, 4)
    assert abs(mutual_information(same_mu, same_logvar)) < 0.2
    assert active_units(same_mu) == 0
    apart = torch.zeros(n, 4)
    apart[:, 0] = torch.arange(n, dtype=torch.float32) * 10
    tight = torch.full((n, 4), -10.0)
    assert mutual_information(apart, tight) == pytest.approx(math.log(n), abs=0.05)
    assert active_units(apart) == 1


def test_interpolation_runs_from_one_sentence_to_the_other(vae_run):
    loaded = load_checkpoint(vae_run / "best")
    a = "Lily loved to play with a red ball in the park."
    b = "The night had fallen upon the old castle."
    path = interpolate(loaded, a, b, steps=4)
    ends = encode_texts(loaded.model, loaded.tokenizer, [a, b])
    decoded = [loaded.tokenizer.decode(ids).strip() for ids in loaded.model.decode(ends)]
    assert len(path) == 4
    assert [path[0], path[-1]] == decoded
