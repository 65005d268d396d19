"""Mood steering: the mood's own words get likelier, the opposite moods' words less likely, and
only where the story sets a mood."""

from __future__ import annotations

import pytest

from generators.inference.mood_bias import mood_token_bias
from generators.inference.pipeline import combine_biases, prepare
from generators.paths import DEFAULT_CHECKPOINT
from generators.schemas import GenerateRequest
from generators.text.mood import lexicon, mood_of
from generators.text.tokenizer import TextTokenizer


@pytest.fixture(scope="module")
def tokenizer() -> TextTokenizer:
    return TextTokenizer.load(DEFAULT_CHECKPOINT / "tokenizer.json")


HAPPY_TURN = "Lily laughed and hugged her friend. It was a happy, sunny day and they had fun."
CALM_TURN = "The house stood at the end of the lane."


def request(mood: str | None, kind: str = "continue", turn: str = CALM_TURN) -> GenerateRequest:
    return GenerateRequest.model_validate(
        {
            "kind": kind,
            "context": {
                "genre": "horror_gothic",
                "mood": mood,
                "turns": [{"text": turn}],
            },
        }
    )


def offsets(bias, tokenizer: TextTokenizer, word: str) -> float | None:
    token = tokenizer.encode(" " + word)[0]
    return dict(bias).get(token)


def test_a_dark_mood_lifts_its_words_and_lowers_cheerful_ones(tokenizer):
    bias = mood_token_bias(request("eerie"), tokenizer, boost=1.0)
    assert offsets(bias, tokenizer, "ghost") == 1.0
    assert offsets(bias, tokenizer, "happy") == -0.5
    assert offsets(bias, tokenizer, "the") is None


def test_cheerful_and_calm_lower_the_dark_words(tokenizer):
    cheerful = mood_token_bias(request("cheerful"), tokenizer, boost=2.0)
    assert offsets(cheerful, tokenizer, "happy") == 2.0
    assert offsets(cheerful, tokenizer, "ghost") == -1.0
    calm = mood_token_bias(request("calm", turn=HAPPY_TURN), tokenizer, boost=2.0)
    assert all(offset < 0 for _, offset in calm)
    assert offsets(calm, tokenizer, "scream") == -1.0


def test_no_mood_no_bias_and_poems_are_left_alone(tokenizer):
    assert mood_token_bias(request(None), tokenizer, boost=1.0) == ()
    assert mood_token_bias(request("sad", kind="poem"), tokenizer, boost=1.0) == ()
    assert mood_token_bias(request("sad"), tokenizer, boost=0.0) == ()


def test_a_story_that_already_reads_in_its_mood_is_left_alone(tokenizer):
    assert mood_of(HAPPY_TURN) == "cheerful" and mood_of(CALM_TURN) == "calm"
    assert mood_token_bias(request("cheerful", turn=HAPPY_TURN), tokenizer, boost=1.0) == ()
    assert mood_token_bias(request("calm", turn=CALM_TURN), tokenizer, boost=1.0) == ()
    assert mood_token_bias(request("cheerful", turn=CALM_TURN), tokenizer, boost=1.0) != ()


def test_the_reranker_rewards_the_mood_only_where_it_is_new():
    from generators.inference.mood_bias import mood_to_steer

    assert mood_to_steer(request("eerie")) == "eerie"
    assert mood_to_steer(request("calm")) is None
    assert mood_to_steer(request(None)) is None


def test_only_whole_word_pieces_are_touched(tokenizer):
    bias = mood_token_bias(request("tense"), tokenizer, boost=1.0)
    for token, _ in bias:
        piece = tokenizer.decode([token]).strip()
        assert len(piece) >= 3, piece


def test_name_and_mood_offsets_add_up():
    assert combine_biases(((5, 1.5), (7, 1.0)), ((7, -0.5), (9, 1.0))) == (
        (5, 1.5),
        (7, 0.5),
        (9, 1.0),
    )


def test_prepare_carries_the_mood_bias_into_sampling(tokenizer):
    prepared = prepare(request("sad"), tokenizer, budget=256)
    bias = dict(prepared.settings.token_bias)
    assert bias[tokenizer.encode(" tears")[0]] > 0


def test_steered_samples_use_more_of_the_moods_words():
    """The bundled model, the same seeds, with and without the sad mood's steering: the steered
    candidates hold more of the sad lexicon's words and are judged sad more often."""
    import asyncio

    from generators.client import InProcessGenerator
    from generators.moderation import Moderator

    generator = InProcessGenerator.from_checkpoints(
        [DEFAULT_CHECKPOINT], moderator=Moderator(use_classifier=False)
    )
    words = lexicon("sad")

    def sad_share(mood: str | None) -> tuple[float, int]:
        texts = []
        for seed in range(6):
            req = request(mood).model_copy(deep=True)
            req.context.genre = "children"
            req.params.seed = seed
            req.params.n = 1
            req.params.max_tokens = 50
            texts.append(asyncio.run(generator.generate(req)).candidates[0].text)
        tokens = " ".join(texts).lower().split()
        share = sum(t.strip(".,!?;:\"'") in words for t in tokens) / max(len(tokens), 1)
        return share, sum(mood_of(t) == "sad" for t in texts)

    import generators.inference.mood_bias

    steered = sad_share("sad")
    saved = generators.inference.mood_bias.MOOD_BOOST
    generators.inference.mood_bias.MOOD_BOOST = 0.0
    try:
        plain = sad_share("sad")
    finally:
        generators.inference.mood_bias.MOOD_BOOST = saved
    assert steered[0] > plain[0]
    assert steered[1] >= plain[1]
