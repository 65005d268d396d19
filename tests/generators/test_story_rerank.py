"""The story reranker and the continuation benchmark's pieces, on the tiny checkpoint."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from generators.evaluation.continuations import (
    SAMPLE_STORY_CHARS,
    Generated,
    Item,
    cut_document,
    genre_control,
    mood_samples,
    next_sentence_ranking,
    passage_ranking,
    summarize,
    text_measures,
    validation_items,
)
from generators.evaluation.story_fit import (
    content_overlap,
    names_in,
    new_names,
    parroting,
    story_names,
    unknown_referents,
)
from generators.inference.continuation_scoring import continuation_logprobs, logprobs_after
from generators.inference.pipeline import STORY_POOL, pool_size
from generators.inference.registry import ModelRegistry
from generators.inference.story_rerank import StoryWeights, story_scores
from generators.models.continuous_cache import cache_of
from generators.schemas import GenerateRequest
from generators.text.corpus import Document
from generators.text.genre_classifier import GenreClassifier

BARE = StoryWeights(
    0.0,
    0.0,
    0.0,
    self_pair_penalty=0.0,
    self_address_penalty=0.0,
    overlap=0.0,
    mood=0.0,
    unknown_referent_children=0.0,
    unconditional_books=0.0,
)
"""The conditional mean log-probability alone."""


@pytest.fixture(scope="module")
def served(tiny_checkpoint):
    registry = ModelRegistry("cpu")
    return registry.load(tiny_checkpoint)


def test_shared_prompt_scores_equal_separate_pairs(served):
    tok = served.tokenizer
    prompt = [tok.eos_id, *tok.encode("Lily went to the park. She saw a dog.\n")]
    conts = [tok.encode(t) for t in ("The dog ran.", "Lily smiled at the big dog.", "")]
    shared = logprobs_after(served.model, prompt, conts)
    separate = continuation_logprobs(served.model, [(prompt, c) for c in conts], tok.pad_id)
    for a, b in zip(shared, separate, strict=True):
        assert a.tokens == b.tokens
        assert a.logprob == pytest.approx(b.logprob, abs=1e-3)
    assert shared[2].tokens == 0 and shared[2].logprob == 0.0


def request_for(
    turns: list[str], characters: list[dict] | None = None, genre: str = "children"
) -> GenerateRequest:
    return GenerateRequest.model_validate(
        {
            "kind": "continue",
            "context": {
                "genre": genre,
                "turns": [{"text": t} for t in turns],
                "characters": characters or [],
            },
        }
    )


def test_names_from_nowhere_lose_and_the_cast_wins(served):
    request = request_for(["Marta walked to the lighthouse with her dog Pip."])
    texts = ["Then Marta opened the door.", "Then Bartholomew opened the door."]
    plain = story_scores(served, request, texts, StoryWeights(0.0, 0.0, 0.0))
    named = story_scores(served, request, texts, StoryWeights(0.0, 0.3, 0.5))
    assert named[0] - plain[0] == pytest.approx(0.3, abs=1e-4)
    assert named[1] - plain[1] == pytest.approx(-0.5, abs=1e-4)


def test_a_name_paired_with_itself_loses_and_human_passages_get_their_prior(served):
    request = request_for(["Tim had a red ball. He liked to play with it."])
    texts = ["Tim and Tim played with the ball.", "Tim and Sue played with the ball."]
    plain = story_scores(served, request, texts, BARE)
    paired = story_scores(served, request, texts, dataclasses.replace(BARE, self_pair_penalty=1.0))
    assert paired[0] - plain[0] == pytest.approx(-1.0, abs=1e-4)
    assert paired[1] == pytest.approx(plain[1], abs=1e-4)
    prior = dataclasses.replace(BARE, human_children=0.6, human_books=1.25)
    human = story_scores(served, request, texts, prior, human=[False, True])
    assert human[1] - plain[1] == pytest.approx(0.6, abs=1e-4)
    assert human[0] == pytest.approx(plain[0], abs=1e-4)
    line = request.model_copy(update={"kind": "dialogue"})
    line.context.speaker = "Sue"
    lines = ['"Look at the ball!" Sue said.', '"Look at the red ball!" Sue said.']
    plain_lines = story_scores(served, line, lines, BARE)
    prior = dataclasses.replace(prior, human_children_lines=1.5)
    human_lines = story_scores(served, line, lines, prior, human=[False, True])
    assert human_lines[1] - plain_lines[1] == pytest.approx(1.5, abs=1e-4)
    opening = request.model_copy(update={"kind": "opening"})
    plain_openings = story_scores(served, opening, texts, BARE)
    prior = dataclasses.replace(prior, human_openings=3.0)
    human_openings = story_scores(served, opening, texts, prior, human=[False, True])
    assert human_openings[1] - plain_openings[1] == pytest.approx(3.0, abs=1e-4)
    assert human_openings[0] == pytest.approx(plain_openings[0], abs=1e-4)


def test_a_line_whose_words_name_its_own_speaker_loses(served):
    story = ["Tim and Sue found a box in the garden. They opened it."]
    line = request_for(story).model_copy(update={"kind": "dialogue"})
    line.context.speaker = "Tim"
    texts = [
        '"Wow, Tim, I found it!"',
        '"Wow, Sue, I found it!"',
        '"Look," Tim said. "You\'re welcome, Tim!"',
        '"Look at this," Tim said to Sue.',
    ]
    plain = story_scores(served, line, texts, BARE)
    weighed = story_scores(served, line, texts, dataclasses.replace(BARE, self_address_penalty=2.0))
    assert [round(w - p, 4) for w, p in zip(weighed, plain, strict=True)] == [-2.0, 0, -2.0, 0]
    narration = story_scores(
        served, request_for(story), texts, dataclasses.replace(BARE, self_address_penalty=2.0)
    )
    assert narration == pytest.approx(story_scores(served, request_for(story), texts, BARE))


def test_things_the_story_never_named_cost_their_weight_each(served):
    request = request_for(["Sue saw a big drain by the road. A frog sat in it."])
    texts = ["Sue looked at the mushroom and her snowman.", "The frog jumped out of the drains."]
    plain = story_scores(served, request, texts, BARE)
    weighed = story_scores(
        served, request, texts, dataclasses.replace(BARE, unknown_referent_children=0.5)
    )
    assert weighed[0] - plain[0] == pytest.approx(-1.0, abs=1e-4)
    assert weighed[1] == pytest.approx(plain[1], abs=1e-4)
    book = request.model_copy(
        update={"context": request.context.model_copy(update={"genre": "mystery"})}
    )
    weights = dataclasses.replace(BARE, unknown_referent_children=0.5)
    assert story_scores(served, book, texts, weights) == story_scores(served, book, texts, BARE)


def test_unconditional_weight_subtracts_the_storyless_likelihood(served):
    request = request_for(["Tom had a red ball. He liked to play with it."])
    texts = ["Tom threw the red ball.", "The sun was hot."]
    conditional = story_scores(served, request, texts, StoryWeights(0.0, 0.0, 0.0))
    mutual = story_scores(served, request, texts, StoryWeights(1.0, 0.0, 0.0))
    bare = request.model_copy(update={"context": request.context.model_copy(update={"turns": []})})
    storyless = story_scores(served, bare, texts, StoryWeights(0.0, 0.0, 0.0))
    for c, m, s in zip(conditional, mutual, storyless, strict=True):
        assert m == pytest.approx(c - s, abs=1e-3)


def test_books_take_their_own_unconditional_weight(served):
    children = request_for(["Tom had a red ball. He liked to play with it."])
    book = children.model_copy(
        update={"context": children.context.model_copy(update={"genre": "mystery"})}
    )
    texts = ["Tom threw the red ball.", "The sun was hot."]
    weights = dataclasses.replace(BARE, unconditional=0.25, unconditional_books=1.0)
    for request, share in ((book, 1.0), (children, 0.25)):
        conditional = story_scores(served, request, texts, BARE)
        bare = request.model_copy(
            update={"context": request.context.model_copy(update={"turns": []})}
        )
        storyless = story_scores(served, bare, texts, BARE)
        mixed = story_scores(served, request, texts, weights)
        for c, m, s in zip(conditional, mixed, storyless, strict=True):
            assert m == pytest.approx(c - share * s, abs=1e-3)


def test_story_rerank_samples_a_pool_and_returns_n(tiny_checkpoint):
    from generators.client import InProcessGenerator

    request = request_for(["Lily went to the park."])
    assert request.params.rerank == "story"
    assert pool_size(request) == max(request.params.n, STORY_POOL)
    logprob = request.model_copy(
        update={"params": request.params.model_copy(update={"rerank": "logprob"})}
    )
    assert pool_size(logprob) == request.params.n
    generator = InProcessGenerator.from_checkpoints([tiny_checkpoint])
    response = asyncio.run(generator.generate(request))
    assert len(response.candidates) == request.params.n
    scores = [c.score for c in response.candidates]
    assert scores == sorted(scores, reverse=True)


def test_cut_document_keeps_paragraphs_and_takes_two_sentences():
    text = (
        "Anna had a cat. The cat was black.\n"
        "One day the cat ran away. Anna looked everywhere.\n"
        "She found it in the barn. It was asleep in the hay. Anna laughed."
    )
    turns, truth = cut_document(text)
    assert turns[0] == "Anna had a cat. The cat was black."
    assert "\n" not in truth and truth.count(".") == 2
    rebuilt = " ".join(turns) + " " + truth
    assert rebuilt in text.replace("\n", " ")


def test_cut_document_joins_hard_wrapped_lines_of_a_book():
    text = (
        "He walked to the door and\nopened it slowly. The room was dark.\n\n"
        "Nobody answered when he called\nout. He waited a while. Then he left the house.\n\n"
        "Outside the rain had stopped. The street was empty."
    )
    turns, truth = cut_document(text)
    assert all("\n" not in t for t in turns)
    assert truth.startswith(("He waited", "Then he", "Outside"))


def test_unknown_referents_are_things_spoken_of_as_known_that_the_story_never_named():
    story = "Sue went for a walk. She saw a big drain. The puppies ran after a frog."
    assert unknown_referents("Sue played with the modern toy all day.", story) == ["the modern toy"]
    assert unknown_referents("She does not want her snowman to melt.", story) == ["her snowman"]
    # Named before (a plural for a singular too), set as a scene, or found in every story.
    assert unknown_referents("The puppy barked at the little frog.", story) == []
    assert unknown_referents("She peered into the drains.", story) == []
    assert unknown_referents("They went to the store.", story) == []
    assert unknown_referents("A bee flew into his office.", story) == ["his office"]
    assert unknown_referents("She held her hand up to the sky.", story) == []
    assert unknown_referents("She got the puppy's attention.", story) == []
    assert unknown_referents("The frog had Sue's jar.", story) == ["Sue's jar"]
    assert unknown_referents("It's a big drain. Sue's drain was wet.", story) == []


def test_story_fit_measures():
    story = "Marta kept the lighthouse. Each night Marta climbed the stairs with Pip."
    assert story_names(story) >= {"Marta", "Pip"}
    assert names_in("Then Marta saw Bob.") == {"Marta", "Bob"}
    assert new_names("Then Marta saw Bob.", story_names(story), story) == {"Bob"}
    assert content_overlap("Marta climbed the lighthouse stairs", story) == 1.0
    assert content_overlap("A truck drove by", story) == 0.0
    assert parroting("each night marta climbed", story) == 1.0
    assert parroting("the sea was calm tonight", story) == 0.0
    measures = text_measures(
        "Then Bob found a truck.", Item("children", "children", "calm", (story,), "")
    )
    assert measures["name_reuse"] == 0.0 and measures["new_name"] == 1.0


def test_validation_items_use_only_validation_documents():
    text = "Sam had a kite. The kite was red. Sam ran fast. The kite flew high. Sam was happy."
    docs = [
        Document(text, "children", "s", "cheerful", "validation"),
        Document(text.replace("Sam", "Kim"), "children", "s", "cheerful", "train"),
        Document(text.replace("kite", "ship"), "mystery", "b", "calm", "validation"),
        Document(text.replace("kite", "poem"), "poetry", "b", "calm", "validation"),
    ]
    items = validation_items(docs, per_group=5)
    assert [i.group for i in items] == ["children", "books"]
    assert all("Kim" not in i.story for i in items)


def test_next_sentence_ranking_counts_a_scorer_that_knows_the_truth():
    items = [
        Item("children", "children", "calm", (f"Story {i}.",), f"True {i} one. True {i} two.")
        for i in range(6)
    ]

    def oracle(item: Item, texts: list[str]) -> list[float]:
        return [1.0 if t.startswith(item.truth.split(" one")[0]) else 0.0 for t in texts]

    def contrary(item: Item, texts: list[str]) -> list[float]:
        return [-s for s in oracle(item, texts)]

    assert next_sentence_ranking(oracle, items, seed=0) == {"children": 1.0}
    assert next_sentence_ranking(contrary, items, seed=0) == {"children": 0.0}


def test_passage_ranking_counts_the_truth_above_the_passages_found_for_its_moment():
    items = [
        Item("children", "children", "calm", (f"Story {i}.",), f"True {i} one. True {i} two.")
        for i in range(4)
    ]
    found = {
        "Story 0.": ["A passage.", "Another."],
        "Story 1.": ["One passage."],
        "Story 2.": [],
        "Story 3.": ["True 3 one. True 3 two.", "A passage."],
    }

    def find(request: GenerateRequest) -> list[str]:
        return found[request.context.turns[-1].text]

    def oracle(item: Item, texts: list[str]) -> list[float]:
        return [1.0 if t == item.truth else 0.0 for t in texts]

    def contrary(item: Item, texts: list[str]) -> list[float]:
        return [-s for s in oracle(item, texts)]

    ranked = passage_ranking(oracle, find, items, seed=0)
    assert ranked == {
        "children": {"passage_ranking": 1.0, "passage_ranking_chance": pytest.approx(4 / 9)}
    }, "an item with no passage is left out, and the truth itself never counts as one"
    assert passage_ranking(contrary, find, items, seed=0)["children"]["passage_ranking"] == 0.0


class WordTokenizer:
    """Whole words with and without a leading space are single tokens, except "Bartholomew",
    which splits into "Bar" + "tholomew" (a first piece too small to stand for the name)."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}

    def encode(self, text: str) -> list[int]:
        pieces = ["Bar", "tholomew"] if text.strip() == "Bartholomew" else [text]
        return [self.vocab.setdefault(p, len(self.vocab)) for p in pieces]

    def decode(self, ids: list[int]) -> str:
        inverse = {v: k for k, v in self.vocab.items()}
        return "".join(inverse[i] for i in ids)


def test_story_names_get_a_logit_offset_and_poems_none():
    from generators.inference.name_bias import story_name_bias

    tok = WordTokenizer()
    turns = ["Then Sue went home with Bartholomew."]
    request = request_for(turns, characters=[{"name": "Tom"}])
    bias = story_name_bias(request, tok, boost=1.5)
    boosted = {tok.decode([i]) for i, offset in bias if offset == 1.5}
    assert boosted == {"Sue", " Sue", "Tom", " Tom"}
    poem = request.model_copy(update={"kind": "poem"})
    assert story_name_bias(poem, tok, boost=1.5) == ()
    assert story_name_bias(request, tok, boost=0.0) == ()


def test_token_bias_shifts_only_its_rows_and_tokens(served):
    import torch

    from generators.inference.sampling import SamplingSettings, StopRule, next_token_logits
    from generators.inference.sampling import Sequence as Row

    raw = torch.zeros(2, served.tokenizer.vocab_size)
    target = served.tokenizer.encode(" Sue")[0]
    plain = SamplingSettings(temperature=1.0, top_p=1.0, repetition_penalty=1.0, min_tokens=0)
    biased = SamplingSettings(
        temperature=1.0,
        top_p=1.0,
        repetition_penalty=1.0,
        min_tokens=0,
        token_bias=((target, 2.0),),
    )
    rows = [
        Row([1], settings, StopRule(), torch.Generator().manual_seed(0))
        for settings in (plain, biased)
    ]
    out = next_token_logits(raw, rows, served.tables)
    assert float(out[1, target] - out[0, target]) == pytest.approx(2.0)
    others = [i for i in range(raw.size(1)) if i != target and torch.isfinite(out[0, i])]
    assert torch.equal(out[0, others], out[1, others])


@pytest.mark.slow
def test_eval_continuations_reports_every_measure(tiny_checkpoint, tiny_corpus_dir, capsys):
    import json

    from bot.cli.main import main

    code = main(
        [
            "eval",
            str(tiny_checkpoint),
            "--continuations",
            "--n",
            "4",
            "--data",
            str(tiny_corpus_dir),
            "--format",
            "json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["rerank"] == "story"
    for key in (
        "model_content_overlap",
        "true_content_overlap",
        "shuffled_content_overlap",
        "model_name_reuse",
        "model_new_name",
        "model_parroting_4",
        "context_gain",
        "next_sentence_ranking",
        "model_distinct_2",
    ):
        assert f"children.{key}" in report, key
    assert 0.0 <= report["mood_control_accuracy"] <= 1.0
    assert 0.0 <= report["genre_control_accuracy"] <= 1.0


def test_mood_samples_carry_the_story_a_reader_judges_them_against():
    long_turn = "Marta kept the lamp lit through the storm. " * 60
    item = Item("fantasy", "books", "calm", ("The sea was grey.", long_turn), "She slept.")
    (sample,) = mood_samples([Generated(item, "A ghost rose.", "eerie", "retrieved")])
    assert sample["mood_asked"] == "eerie"
    assert sample["model"] == "A ghost rose."
    assert sample["origin"] == "retrieved"
    assert sample["group"] == "books"
    assert sample["story_end"] == item.story[-SAMPLE_STORY_CHARS:]
    assert len(sample["story_end"]) == SAMPLE_STORY_CHARS


def test_eval_continuations_without_a_corpus_is_a_clear_error(tiny_checkpoint, tmp_path, capsys):
    from bot.cli.main import main

    missing = tmp_path / "nowhere"
    code = main(["eval", str(tiny_checkpoint), "--continuations", "--data", str(missing)])
    assert code == 2
    assert "needs the corpus" in capsys.readouterr().err


def test_overlap_and_mood_terms_add_their_weights(served):
    request = request_for(["The lighthouse lamp flickered over the cold harbour."])
    request = request.model_copy(
        update={"context": request.context.model_copy(update={"mood": "sad"})}
    )
    texts = ["The lighthouse lamp went dark over the harbour.", "She cried and cried, so sad."]
    plain = story_scores(served, request, texts, BARE)
    overlap = story_scores(
        served, request, texts, StoryWeights(0.0, 0.0, 0.0, overlap=2.0, mood=0.0)
    )
    assert overlap[0] - plain[0] == pytest.approx(
        2.0 * content_overlap(texts[0], request.context.turns[0].text), abs=1e-4
    )
    assert overlap[0] - plain[0] > 0.5
    assert overlap[1] == pytest.approx(plain[1], abs=1e-4)
    mood = story_scores(served, request, texts, StoryWeights(0.0, 0.0, 0.0, overlap=0.0, mood=1.0))
    assert mood[1] - plain[1] == pytest.approx(1.0, abs=1e-4)
    assert mood[0] == pytest.approx(plain[0], abs=1e-4)


def test_the_topic_term_adds_its_groups_weight_times_the_topic_fit(served):
    texts = ["He caught a big fish.", "He found a red ball."]
    fit = {texts[0]: 0.5, texts[1]: -0.25}
    topic = dataclasses.replace(BARE, topic=2.0, topic_children=4.0)
    for genre, weight in (("children", 4.0), ("mystery", 2.0)):
        request = request_for(["Tom took his rod and net to the lake."], genre=genre)
        plain = story_scores(served, request, texts, BARE)
        fitted = story_scores(served, request, texts, topic, topic_fit=fit.__getitem__)
        assert fitted[0] - plain[0] == pytest.approx(0.5 * weight, abs=1e-4)
        assert fitted[1] - plain[1] == pytest.approx(-0.25 * weight, abs=1e-4)
        assert story_scores(served, request, texts, topic) == pytest.approx(plain, abs=1e-4)


def test_the_reranker_reuses_the_samplers_score_only_without_a_cache(served, monkeypatch):
    """The sampler's scores lack the continuous cache's recall, so a model with one has its
    candidates read again; one without has the sampler's own score taken as it is."""
    from generators.inference.story_rerank import story_reranker
    from generators.schemas import Candidate

    request = request_for(["Tom had a red ball. He liked to play with it."])
    texts = ["Tom threw the red ball.", "The sun was hot."]
    assert cache_of(served.model) is not None
    full = story_scores(served, request, texts)
    conditional = story_scores(served, request, texts, BARE)
    shifted = [Candidate(text=t, score=c + 1.0) for t, c in zip(texts, conditional, strict=True)]
    assert story_reranker(served)(request, shifted) == pytest.approx(full, abs=1e-4)

    monkeypatch.setattr(served.model, "continuous_cache", None)
    full = story_scores(served, request, texts)
    conditional = story_scores(served, request, texts, BARE)
    candidates = [Candidate(text=t, score=c) for t, c in zip(texts, conditional, strict=True)]
    assert story_reranker(served)(request, candidates) == pytest.approx(full, abs=1e-4)
    shifted = [Candidate(text=t, score=c + 1.0) for t, c in zip(texts, conditional, strict=True)]
    assert story_reranker(served)(request, shifted) == pytest.approx(
        [f + 1.0 for f in full], abs=1e-4
    )


def test_genre_control_reports_the_judges_share_of_the_true_text_beside_the_served():
    judge = GenreClassifier.train(
        [("the ghost in the crypt at midnight", "horror_gothic")] * 3
        + [("the detective found a clue in the study", "mystery")] * 3
    )
    items = [
        Item("horror_gothic", "books", "eerie", ("The crypt was cold.",), "A ghost rose."),
        Item("mystery", "books", "tense", ("The study was dark.",), "The ghost in the crypt."),
    ]
    served = [Generated(items[0], "The detective smiled."), Generated(items[1], "A clue!")]
    control = genre_control(served, judge)
    assert control["genre_control_accuracy"] == 0.5
    assert control["genre_control_true_accuracy"] == 0.5


def test_summary_gives_the_true_texts_variety_beside_the_served():
    items = [
        Item("children", "children", "happy", ("Tim ran.",), "Tim ran and ran and ran and ran."),
        Item("children", "children", "happy", ("Sue sat.",), "Sue sat down on the mat."),
    ]
    served = [Generated(items[0], "Tim ran home."), Generated(items[1], "Tim ran home.")]
    children = summarize(served, items, seed=0)["children"]
    assert children["model_distinct_2"] == 0.5
    assert children["true_distinct_2"] == pytest.approx(8 / 12)
    assert children["true_seq_rep_4"] == pytest.approx(0.2)
