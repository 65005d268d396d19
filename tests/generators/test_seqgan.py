"""SeqGAN pieces: the policy-gradient loss, rollouts, the lagging copy, the discriminator, BLEU."""

from __future__ import annotations

import math

import pytest
import torch

from generators.evaluation.seqgan import QDPoint, frontier_gap, sign_test
from generators.models.lstm import LSTMConfig, LSTMLanguageModel
from generators.models.seqgan import (
    Discriminator,
    DiscriminatorConfig,
    SequenceSpec,
    discriminator_loss,
    draw,
    policy_gradient_loss,
    rollout_completions,
    rollout_rewards,
    sample_sequences,
    sequence_log_probs,
    sequence_mask,
    update_rollout,
)
from generators.text.bleu import ReferenceIndex, mean_bleu, self_bleu, sentence_bleu, words

torch.set_num_threads(1)


def tiny_lstm(vocab: int = 12, seed: int = 0) -> LSTMLanguageModel:
    torch.manual_seed(seed)
    return LSTMLanguageModel(
        LSTMConfig(vocab, embed_dim=8, hidden_dim=8, num_layers=2, dropout=0.0, embed_dropout=0.0)
    )


def tiny_discriminator(vocab: int = 12, seq_len: int = 6, **kwargs) -> Discriminator:
    return Discriminator(
        DiscriminatorConfig(
            vocab, seq_len, embed_dim=8, filter_sizes=[1, 2, 3], num_filters=[4, 4, 4], **kwargs
        )
    )


# -- policy gradient ----------------------------------------------------------------------------


def test_policy_gradient_loss_has_the_expected_value_and_gradient():
    log_probs = torch.tensor([[-1.0, -2.0], [-0.5, -1.5]], requires_grad=True)
    rewards = torch.tensor([[0.9, 0.8], [0.1, 0.2]])
    baseline = torch.tensor([0.5, 0.5])
    loss = policy_gradient_loss(log_probs, rewards, baseline, torch.ones(2, 2))
    # advantages [[0.4, 0.3], [-0.4, -0.3]]: -(0.4*-1 + 0.3*-2 - 0.4*-0.5 - 0.3*-1.5) / 2
    assert loss.item() == pytest.approx(0.175)
    loss.backward()
    # Descent raises the log-probabilities of tokens rewarded above the baseline, lowers others.
    expected = torch.tensor([[-0.2, -0.15], [0.2, 0.15]])
    assert torch.allclose(log_probs.grad, expected)


def test_policy_gradient_ignores_padding_and_takes_no_gradient_through_rewards():
    log_probs = torch.tensor([[-1.0, -2.0]], requires_grad=True)
    rewards = torch.tensor([[1.0, 1.0]], requires_grad=True)
    loss = policy_gradient_loss(log_probs, rewards, 0.25, torch.tensor([[1.0, 0.0]]))
    assert loss.item() == pytest.approx(0.75)
    loss.backward()
    assert log_probs.grad.tolist() == [[-0.75, 0.0]]
    assert rewards.grad is None


def test_a_policy_gradient_step_makes_the_rewarded_sequence_likelier():
    model = tiny_lstm()
    spec = SequenceSpec(seq_len=4, start_id=0)
    sequences = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    rewards = torch.tensor([[1.0] * 4, [0.0] * 4])
    before = sequence_log_probs(model, sequences, spec).sum(1).detach()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loss = policy_gradient_loss(
        sequence_log_probs(model, sequences, spec), rewards, 0.5, torch.ones(2, 4)
    )
    loss.backward()
    optimizer.step()
    after = sequence_log_probs(model, sequences, spec).sum(1).detach()
    assert after[0] > before[0]
    assert after[1] < before[1]


# -- sequences and rollouts ---------------------------------------------------------------------


def test_sequence_mask_keeps_tokens_through_the_first_end_token():
    spec = SequenceSpec(seq_len=5, start_id=0, end_id=0, pad_id=1)
    mask = sequence_mask(torch.tensor([[3, 4, 0, 1, 1], [3, 4, 5, 6, 7]]), spec)
    assert mask.tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]


def test_draw_follows_the_distribution():
    logits = torch.log(torch.tensor([[0.7, 0.0, 0.3]])).expand(20000, 3)
    tokens = draw(logits, 1.0, torch.Generator().manual_seed(0))
    counts = torch.bincount(tokens, minlength=3).float() / len(tokens)
    assert counts[1] == 0
    assert counts[0].item() == pytest.approx(0.7, abs=0.02)


def test_rollouts_keep_the_given_prefix():
    model = tiny_lstm()
    spec = SequenceSpec(seq_len=6, start_id=0, end_id=0, pad_id=1)
    sequences = torch.tensor([[2, 3, 4, 5, 6, 7], [8, 9, 0, 1, 1, 1], [10, 11, 2, 3, 4, 5]])
    num_rollouts = 5
    completions = rollout_completions(
        model, sequences, spec, num_rollouts, torch.Generator().manual_seed(1)
    )
    assert len(completions) == spec.seq_len - 1
    repeated = sequences.repeat_interleave(num_rollouts, dim=0)
    for t, done in enumerate(completions, start=1):
        assert done.shape == (len(sequences) * num_rollouts, spec.seq_len)
        assert torch.equal(done[:, :t], repeated[:, :t])
        # The second sequence ended at position 2: its completions are padding after it.
        ended = done[num_rollouts : 2 * num_rollouts]
        if t >= 3:
            assert torch.equal(ended, repeated[num_rollouts : 2 * num_rollouts])
    # Completions of a short prefix differ between rollouts (they are samples).
    assert len({tuple(row.tolist()) for row in completions[0][:num_rollouts]}) > 1


def test_rollout_rewards_end_with_the_discriminator_score_of_the_whole_sequence():
    model = tiny_lstm()
    spec = SequenceSpec(seq_len=6, start_id=0)
    discriminator = tiny_discriminator()
    sequences = sample_sequences(model, 4, spec, generator=torch.Generator().manual_seed(2))
    rewards = rollout_rewards(model, discriminator, sequences, spec, 3)
    assert rewards.shape == (4, 6)
    assert torch.allclose(rewards[:, -1], discriminator.prob_real(sequences))
    assert bool(((rewards > 0) & (rewards < 1)).all())


def test_the_rollout_copy_lags_the_generator_at_the_given_rate():
    generator, rollout = tiny_lstm(seed=0), tiny_lstm(seed=1)
    old = [p.clone() for p in rollout.parameters()]
    update_rollout(rollout, generator, rate=0.8)
    for lagging, before, current in zip(
        rollout.parameters(), old, generator.parameters(), strict=True
    ):
        assert torch.allclose(lagging, 0.8 * before + 0.2 * current)


# -- discriminator ------------------------------------------------------------------------------


def test_discriminator_learns_an_easy_separable_set():
    torch.manual_seed(0)
    vocab, seq_len = 20, 8
    discriminator = tiny_discriminator(vocab, seq_len)

    def batch(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        # Real sequences climb by one token at a time; generated ones are uniform noise.
        starts = torch.randint(0, vocab - seq_len, (n, 1))
        return starts + torch.arange(seq_len), torch.randint(0, vocab, (n, seq_len))

    optimizer = torch.optim.Adam(discriminator.parameters(), lr=3e-3)
    for _ in range(150):
        loss, _ = discriminator_loss(discriminator, *batch(32))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    real, fake = batch(500)
    accuracy = torch.cat(
        [discriminator.prob_real(real) > 0.5, discriminator.prob_real(fake) <= 0.5]
    ).float()
    assert accuracy.mean().item() > 0.95


def test_discriminator_config_rejects_filters_wider_than_the_sequence():
    with pytest.raises(ValueError, match="wider"):
        DiscriminatorConfig(vocab_size=10, seq_len=8)


# -- BLEU ---------------------------------------------------------------------------------------

HYPOTHESIS = (
    "It is a guide to action which ensures that the military always obeys the commands of the party"
)
REFERENCES = [
    "It is a guide to action that ensures that the military will forever heed Party commands",
    "It is the guiding principle which guarantees the military forces always being under the "
    "command of the Party",
    "It is the practical guide for the army always to heed the directions of the party",
]


def test_bleu_matches_nltk_documentation_example():
    # nltk.translate.bleu_score.sentence_bleu docstring: 0.5045666840058485 (case-sensitive).
    score = sentence_bleu([r.split() for r in REFERENCES], HYPOTHESIS.split())
    assert score == pytest.approx(0.5045666840058485, abs=1e-12)


def test_bleu_by_hand_with_smoothing_and_brevity_penalty():
    # p1 = p2 = p3 = 1, no 4-gram at all: smoothed to 0.1 / 1; hypothesis 3 words vs 6.
    score = sentence_bleu([["the", "cat", "sat", "on", "the", "mat"]], ["the", "cat", "sat"])
    assert score == pytest.approx(math.exp(1 - 6 / 3) * 0.1**0.25)
    assert sentence_bleu([["a", "b", "c", "d"]], ["a", "b", "c", "d"]) == pytest.approx(1.0)
    assert sentence_bleu([["a", "b", "c", "d"]], ["w", "x", "y", "z"]) == 0.0


def test_self_bleu_leaves_each_sentence_out_of_its_own_references():
    sentences = [["a", "b", "c", "d"], ["a", "b", "c", "d"], ["w", "x", "y", "z"]]
    assert self_bleu(sentences) == pytest.approx(2 / 3)
    index = ReferenceIndex(sentences)
    assert index.sentence_bleu(sentences[2], exclude=2) == 0.0
    assert index.sentence_bleu(sentences[2]) == pytest.approx(1.0)


def test_mean_bleu_and_words():
    assert words('"Hello," said Tom. It\'s late!') == [
        '"',
        "hello",
        ",",
        '"',
        "said",
        "tom",
        ".",
        "it's",
        "late",
        "!",
    ]
    hypotheses = [["a", "b", "c", "d"], ["w", "x", "y", "z"]]
    assert mean_bleu(hypotheses, [["a", "b", "c", "d"]]) == pytest.approx(0.5)


def test_sign_test():
    assert sign_test(5, 5) == 1.0
    assert sign_test(10, 0) == pytest.approx(2 / 1024)
    assert sign_test(0, 0) == 1.0


def qd(model: str, temperature: float, x: float, y: float) -> QDPoint:
    return QDPoint(model, temperature, 0.0, 0.0, 0.0, y, 0.01, x, 10.0)


def test_frontier_gap_measures_quality_at_equal_diversity_on_the_tempered_mle_curve():
    points = [
        qd("mle", 0.5, 2.0, 1.0),
        qd("mle", 1.0, 1.0, 2.0),
        qd("mle", 1.5, 3.0, 3.0),  # above T=1 the curve turns back; it is not interpolated
        qd("seqgan", 0.8, 1.5, 1.2),
        qd("seqgan", 1.0, 0.5, 1.0),  # more diverse than any MLE point: no comparison
    ]
    gaps = frontier_gap(points, "seqgan", "mle", "nll_validation", "nll_samples_ref", False)
    assert gaps == [{"temperature": 0.8, "gap": pytest.approx(0.3)}]


def test_seqgan_data_names_what_a_run_of_the_other_kind_lacks():
    from generators.train.seqgan import SeqGANData

    spec = SequenceSpec(seq_len=4, start_id=0, end_id=1, pad_id=2)
    rows = torch.zeros(2, 4, dtype=torch.long)
    oracle_run = SeqGANData(rows, rows, spec, oracle=LSTMLanguageModel(LSTMConfig(vocab_size=5)))
    story_run = SeqGANData(rows, rows, spec)
    assert oracle_run.the_oracle() is oracle_run.oracle
    with pytest.raises(ValueError, match="on oracle samples: it has no text tokenizer"):
        oracle_run.story_tokenizer()
    with pytest.raises(ValueError, match="on story sentences: it has no oracle"):
        story_run.the_oracle()
