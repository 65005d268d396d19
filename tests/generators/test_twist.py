"""Plot twists: latents away from the story, names kept, moderation first, varied rerolls."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from vae_testing import tiny_vae_run

from generators.inference.registry import ModelRegistry
from generators.inference.twist import (
    COHERENCE_MARGIN,
    FOREIGN_PENALTY,
    NAME_BONUS,
    TwistPlanner,
    choose_latents,
    foreign_names,
    mentions_in_play,
    name_score,
    recast_names,
    story_names,
)
from generators.schemas import (
    Candidate,
    CharacterSheet,
    GenerateRequest,
    GenerationParams,
    ModerationVerdict,
    StoryContext,
    TurnContext,
)

LEXICON = {"children": ["Lily", "Tom", "Mia"], "horror_gothic": ["Dracula"]}


@pytest.fixture(scope="session")
def planner(tmp_path_factory, tiny_corpus_dir, tiny_run) -> TwistPlanner:
    run = tiny_vae_run(
        "defended", tmp_path_factory.mktemp("vae"), tiny_corpus_dir, tiny_run / "tokenizer.json"
    )
    return TwistPlanner(run / "best")


@pytest.fixture(scope="session")
def served(tiny_checkpoint):
    return ModelRegistry().load(tiny_checkpoint)


def zorbo_context() -> StoryContext:
    return StoryContext(
        genre="children",
        premise="A brave frog looks for a lost kite.",
        characters=[CharacterSheet(name="Zorbo", description="a brave green frog")],
        turns=[
            TurnContext(text="Once upon a time, there was a little frog named Zorbo."),
            TurnContext(text="Zorbo loved to play with a red kite in the park."),
        ],
    )


def twist_request(seed: int = 11, n: int = 3) -> GenerateRequest:
    return GenerateRequest(
        kind="twist",
        context=zorbo_context(),
        params=GenerationParams(n=n, seed=seed, max_tokens=30),
    )


def test_names_in_play_score_higher_and_strangers_lower():
    names = story_names(zorbo_context(), LEXICON)
    assert names.in_play == ("Zorbo",)
    mentions = "Suddenly Zorbo saw a dark cloud over the park."
    plain = "Suddenly a dark cloud covered the park."
    stranger = "Suddenly Grendelwick saw a dark cloud over the park."
    genre_name = "Suddenly the frog saw Lily near the park."
    assert name_score(mentions, names, LEXICON) == NAME_BONUS
    assert name_score(plain, names, LEXICON) == 0.0
    assert foreign_names(stranger, names, LEXICON) == ["Grendelwick"]
    assert name_score(stranger, names, LEXICON) == -FOREIGN_PENALTY
    assert name_score(genre_name, names, LEXICON) == 0.0  # common in the genre: no penalty
    assert foreign_names("Dracula smiled at the frog.", names, LEXICON) == ["Dracula"]


def test_strangers_are_recast_as_the_characters_in_play():
    names = story_names(zorbo_context(), LEXICON)
    assert recast_names("Lily and Tom ran to the lake.", names, LEXICON) == (
        "Zorbo and Zorbo ran to the lake."
    )
    assert recast_names("The sky was dark.", names, LEXICON) == "The sky was dark."


def test_chosen_latents_are_far_from_the_story_and_seeded():
    centroid = torch.full((8,), 0.8)
    chosen = choose_latents(centroid, 4, 5, 0.25, torch.Generator().manual_seed(1))
    pool = torch.randn(2000, 8, generator=torch.Generator().manual_seed(2))
    typical = (pool - centroid).norm(dim=1).median()
    assert chosen.shape == (4, 8)
    assert ((chosen - centroid).norm(dim=1) > typical).all()
    again = choose_latents(centroid, 4, 5, 0.25, torch.Generator().manual_seed(1))
    other = choose_latents(centroid, 4, 5, 0.25, torch.Generator().manual_seed(3))
    assert torch.equal(chosen, again) and not torch.equal(chosen, other)


def test_the_ranking_prefers_the_twist_that_names_the_character(planner):
    candidates = [
        Candidate(text="Suddenly a dark cloud covered the whole park.", score=-3.0),
        Candidate(text="Suddenly Zorbo saw a dark cloud over the park.", score=-3.2),
        Candidate(text="Suddenly Grendelwick saw a dark cloud over the park.", score=-2.9),
    ]
    ranked = planner.rank(zorbo_context(), candidates)
    assert [c.text.split()[1] for c in ranked] == ["Zorbo", "a", "Grendelwick"]
    assert all(len(c.latent) == planner.encoder.latent_dim for c in ranked)


def test_a_garbled_twist_does_not_win_for_naming_the_character(planner):
    """Naming a character in play comes first only within COHERENCE_MARGIN of the best."""
    fluent = Candidate(text="Suddenly a dark cloud covered the whole park.", score=-2.0)
    garbled = Candidate(text="Zorbo the of the the kite zorp.", score=-2.0 - COHERENCE_MARGIN - 2.0)
    ranked = planner.rank(zorbo_context(), [garbled, fluent])
    assert ranked[0].text == fluent.text


def test_twists_keep_the_character_in_play(planner, served, monkeypatch):
    """A decoded twist that names a stranger comes out naming the character in play, and the
    chosen twist (from either source) names that character. The tiny test model finds any real
    sentence far less likely than its own short babble, so the coherence margin is widened here;
    the margin itself has its own test."""
    stranger = planner.tokenizer.encode("Lily found a hidden door under the tree.")
    monkeypatch.setattr(planner.model, "decode", lambda z, **kw: [stranger] * z.size(0))
    monkeypatch.setattr(planner, "settings", replace(planner.settings, coherence_margin=20.0))
    sentences = planner.twist_sentences(zorbo_context(), 2, seed=3)
    assert sentences == ["Zorbo found a hidden door under the tree."] * 2
    candidates = planner.plan(twist_request(), served, n=2)
    assert candidates
    assert mentions_in_play(candidates[0].text, story_names(zorbo_context(), LEXICON))


def test_planned_twists_are_ranked_and_carry_latents(planner, served):
    candidates = planner.plan(twist_request(), served, n=3)
    assert 1 <= len(candidates) <= 3
    for c in candidates:
        assert c.latent is not None and len(c.latent) == planner.encoder.latent_dim
        assert c.text.strip()


def test_a_twist_naming_the_character_wins_within_the_margin(planner):
    """Between two fluent twists, the one that names the character in play comes first (the
    planned twists above may or may not name anyone, so the ranking is checked here)."""
    plain = Candidate(text="Suddenly a dark cloud covered the whole park.", score=-2.0)
    named = Candidate(text="Suddenly Zorbo saw a dark cloud over the park.", score=-2.1)
    ranked = planner.rank(zorbo_context(), [plain, named])
    assert ranked[0].text == named.text
    assert mentions_in_play(ranked[0].text, story_names(zorbo_context(), LEXICON))


def test_twists_are_seeded_and_rerolls_differ(planner, served):
    first = [c.text for c in planner.plan(twist_request(seed=5), served, n=3)]
    again = [c.text for c in planner.plan(twist_request(seed=5), served, n=3)]
    reroll = [c.text for c in planner.plan(twist_request(seed=5), served, n=3, attempt=1)]
    assert first == again
    assert set(first) != set(reroll)


class BlockEverything:
    def check_many(self, texts, level):
        return [ModerationVerdict(verdict="block", level=level) for _ in texts]


class BlockOne:
    """Blocks the first text it sees; records what it was asked."""

    def __init__(self):
        self.seen: list[str] = []

    def check_many(self, texts, level):
        self.seen += texts
        return [
            ModerationVerdict(verdict="block" if i == 0 else "allow", level=level)
            for i in range(len(texts))
        ]


def test_moderation_comes_first(planner, served):
    planner.moderator = BlockEverything()
    try:
        assert planner.plan(twist_request(), served, n=3) == []
        spy = BlockOne()
        planner.moderator = spy
        kept = planner.plan(twist_request(), served, n=3)
        assert len(spy.seen) == 6  # 3 decoded from latent space, 3 from the language model
        assert spy.seen[0] not in [c.text for c in kept]
        assert len(kept) == 3
    finally:
        planner.moderator = None
