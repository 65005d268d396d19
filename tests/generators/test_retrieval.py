"""The passage index and retrieved candidates: build, save, search, recast, serve."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_service_support import tiny_registry
from tinydata import write_tiny_corpus

import generators.retrieval.source as source_module
from generators.client import InProcessGenerator
from generators.moderation import Moderator
from generators.retrieval.index import (
    FORMAT_VERSION,
    TWIST_OPENERS,
    IndexUnavailable,
    build_index,
    documents_for_index,
    load_index,
    poem_stanzas,
    save_index,
    stanza_of,
)
from generators.retrieval.recast import (
    NameBook,
    StoryPeople,
    learn_name_book,
    places_in,
    recast,
    titled_pronouns,
)
from generators.retrieval.source import (
    RetrievalSource,
    in_story_quotes,
    load_retrieval,
    narrator_fits,
    new_roles,
    pronouns_fit,
    renames_a_newcomer,
    speech_end,
    spoken_line,
    story_people,
    strangers,
    whole_passage,
)
from generators.retrieval.topics import TopicEncoder
from generators.retrieval.triggers import TriggerPairs
from generators.schemas import GenerateRequest
from generators.text.corpus import RECASED_SOURCE, book_passages, split_of
from generators.text.mood import mood_of
from generators.text.normalize import normalize_text

ROOT = Path(__file__).resolve().parents[2]

KITE_STORY = (
    "Lily had a red kite. She took the kite to the windy hill. The wind pulled the kite high "
    "into the sky. Then the string broke. Lily ran after the kite across the field. She found "
    "it stuck in an old oak tree. Lily climbed the oak tree and saved her kite. She was proud."
)
CAKE_STORY = (
    "Tom wanted to bake a cake for his mom. He got flour, eggs and sugar from the kitchen. "
    "He mixed everything in a big bowl. He put the bowl in the oven. Soon the kitchen smelled "
    "sweet. Tom took out the cake and put candles on it. His mom smiled at him. He was happy."
)

NAMES_STORY = (
    "One day, Lily went to the park. It was nice. She played. Then Lily ate. She laughed. "
    "After that Lily slept. She dreamed. One day, Tom went to the lake. He swam. "
    "Then Tom ate. He laughed. After that Tom slept. He snored."
)
"""Mentions enough for the index to learn that Lily is "she" and Tom "he"."""


def documents(*texts: str) -> list[tuple[str, str, str]]:
    return [(text, "children", "tinystories/stories.txt") for text in texts]


def name_book() -> NameBook:
    return NameBook({"Lily": "she", "Tom": "he", "Marta": "she", "Pip": "he", "Oz": None})


@pytest.fixture(scope="module")
def index():
    return build_index(documents(KITE_STORY, CAKE_STORY, NAMES_STORY))


def request_for(story: list[str], genre: str = "children", **context) -> GenerateRequest:
    return GenerateRequest.model_validate(
        {
            "kind": "continue",
            "context": {"genre": genre, "turns": [{"text": t} for t in story], **context},
            "params": {"n": 1, "max_tokens": 12, "seed": 3},
        }
    )


def test_search_finds_the_passage_that_follows_a_similar_moment(index):
    source = RetrievalSource(index, count=1)
    story = [
        "Marta flew her kite on the hill. The string snapped in the wind.",
        "She chased the kite across the field and found it stuck in an oak tree.",
    ]
    found = source.find(request_for(story))
    assert found, "a story about a kite stuck in an oak tree should find the kite passage"
    assert found[0].text == "Marta climbed the oak tree and saved her kite. She was proud."


SWING_STORY = (
    "Tom went to the park. He sat on the swing. He waited and waited. Then something strange "
    "happened. The swing flew up into the sky."
)
FISHING_STORY = (
    "Tom went to the lake. He cast his fishing rod and net from the boat into the lake. He "
    "waited and waited. Then something strange happened. The water was full of shiny fish."
)


def test_a_childrens_story_searches_by_what_it_is_about_too(monkeypatch):
    """The last sentences fit the swing story a little better ("He sat down"), but the story is
    a fishing trip told earlier: its words weigh enough to bring the fishing passage first."""
    index = build_index(documents(SWING_STORY, FISHING_STORY, NAMES_STORY))
    story = [
        "Tom went fishing in a boat on the lake with his rod and net.",
        "He sat down. He waited and waited. Then something strange happened.",
    ]
    source = RetrievalSource(index, count=1)
    assert [r.text for r in source.find(request_for(story))] == [
        "The water was full of shiny fish."
    ]
    monkeypatch.setattr(source_module, "STORY_WEIGHT_CHILDREN", source_module.STORY_WEIGHT)
    assert [r.text for r in source.find(request_for(story))] == ["The swing flew up into the sky."]


LAKE_DAY = (
    "Tom took his rod and net to the lake. The sun was warm. He rowed the boat out. He sat "
    "down. He waited. Then something strange happened. He caught a big shiny fish."
)
PARK_DAY = (
    "Tom ran to the park with his kite. He climbed the slide. He sat down. He waited. The sun "
    "was warm. Then something strange happened. He found a small red ball."
)


def test_a_passage_whose_words_the_story_brings_comes_first(monkeypatch):
    """Both passages follow something strange happening, and the park's a little closer (the
    warm sun just before); but the story is a fishing trip, whose next sentences bring
    "caught" and "fish" (six stories of each, so the pairs are counted)."""
    index = build_index(documents(*[PARK_DAY] * 6, *[LAKE_DAY] * 6, NAMES_STORY))
    story = [
        "Tom took his rod and net to the lake. He rowed the boat out.",
        "He sat down. The sun was warm. Then something strange happened.",
    ]

    def offered() -> list[str]:
        return [r.text for r in RetrievalSource(index, count=2).find(request_for(story))]

    assert offered() == ["He caught a big shiny fish.", "He found a small red ball."]
    monkeypatch.setattr(source_module, "FIT_TOPIC_CHILDREN", 0.0)
    assert offered() == ["He found a small red ball.", "He caught a big shiny fish."]


LAKE_BOOKS = (
    "Tom took his rod and net to the lake. He rowed the boat out. The sun was warm. Then "
    "something strange happened. He caught a big shiny fish.",
    "Sam went down to the lake with his rod. The boat rocked on the water. The sun was warm. "
    "Then something strange happened. A shiny fish jumped into the boat.",
    "Ben sat in his boat on the lake. He held his rod and his net. The sun was warm. Then "
    "something strange happened. The net was full of fish.",
)
PARK_BOOKS = (
    "Tom ran to the park with his kite. He climbed the slide. The sun was warm. Then something "
    "strange happened. He found a small red ball.",
    "Sam played in the park on the swing. He went down the slide. The sun was warm. Then "
    "something strange happened. A red ball rolled to the swing.",
    "Ben ran across the park to the slide. His kite flew high. The sun was warm. Then "
    "something strange happened. A small ball bounced off the slide.",
)


def test_a_book_passage_whose_words_the_story_brings_comes_first(monkeypatch, tmp_path):
    """The same choice in books, made by the learned topic encoder (`TOPIC_MEASURES`): every
    passage after "something strange happened" is as close, but the story is a fishing trip.
    The index keeps the encoder through a save and a load."""
    books = [
        (text, "books", f"gutenberg/mystery/day{i}.txt")
        for i, text in enumerate((LAKE_BOOKS + PARK_BOOKS) * 3)
    ]
    index = build_index(books + documents(NAMES_STORY))
    assert isinstance(index.topics["books"], TopicEncoder)
    story = [
        "Tom took his rod and net to the lake. He rowed the boat out.",
        "He sat down. The sun was warm. Then something strange happened.",
    ]

    def about_fish(index) -> list[bool]:
        request = request_for(story, genre="mystery")
        return ["fish" in r.text for r in RetrievalSource(index, count=6).find(request)]

    assert about_fish(index) == [True] * 3 + [False] * 3
    save_index(index, tmp_path / "index")
    assert about_fish(load_index(tmp_path / "index")) == [True] * 3 + [False] * 3
    monkeypatch.setattr(source_module, "FIT_TOPIC", 0.0)
    assert about_fish(index) != [True] * 3 + [False] * 3


def test_a_continue_is_not_a_passage_that_closes_the_story():
    proud = KITE_STORY.replace("She was proud.", "She was very proud of her brave climb.")
    ending = KITE_STORY.replace("She was proud.", "From that day on, Lily never lost her kite.")
    story = [
        "Marta flew her kite on the hill. The string snapped in the wind.",
        "She chased the kite across the field and found it stuck in an oak tree.",
        "Marta climbed the oak tree and saved her kite.",
    ]

    def found(text: str) -> list[str]:
        index = build_index(documents(text, CAKE_STORY, NAMES_STORY))
        return [r.text for r in RetrievalSource(index).find(request_for(story))]

    assert any("She was very proud" in t for t in found(proud))
    assert not any("From that day on" in t for t in found(ending))


def test_a_book_continues_with_the_passage_first_sentence_alone():
    book_kite = [(KITE_STORY, "books", "gutenberg/mystery/kite.txt")]
    index = build_index(book_kite + documents(CAKE_STORY, NAMES_STORY))
    story = [
        "Marta flew her kite on the hill. The string snapped in the wind.",
        "She chased the kite across the field and found it stuck in an oak tree.",
    ]
    source = RetrievalSource(index, count=1)
    found = source.find(request_for(story, genre="mystery"))
    assert [r.text for r in found] == ["Marta climbed the oak tree and saved her kite."]


def test_names_are_recast_by_pronoun_and_unmatched_people_drop_the_passage():
    book = name_book()
    she_story = StoryPeople.read("Marta looked up. She smiled.", {"Marta"}, book)
    assert recast("Lily smiled at her mom.", "", she_story, book) == "Marta smiled at her mom."
    he_only = StoryPeople.read("Pip swam away. He was fast.", {"Pip"}, book)
    assert recast("Lily smiled at her mom.", "", he_only, book) is None
    both = StoryPeople.read("Pip met Marta. She waved. He waved back.", {"Pip", "Marta"}, book)
    assert recast("Tom gave Lily a shell.", "", both, book) == "Pip gave Marta a shell."
    assert recast("Nobody was there.", "", he_only, book) == "Nobody was there."


def test_a_title_tells_a_passage_persons_pronoun_and_a_family_is_not_renamed():
    book = NameBook({"Henry": None, "Christine": "she", "Raoul": None, "Baskerville": "he"})
    assert titled_pronouns("Sir Henry bowed to Miss Rose and Mr. Rose.") == {"Henry": "he"}
    people = StoryPeople.read(
        "Raoul sang. He smiled. Christine ran. She laughed.", {"Raoul", "Christine"}, book
    )
    assert recast("Is all ready for Sir Henry?", "", people, book) == "Is all ready for Sir Raoul?"
    her_only = StoryPeople.read("Christine ran. She laughed.", {"Christine"}, book)
    assert recast("Is all ready for Sir Henry?", "", her_only, book) is None
    unknown = StoryPeople.read("Christine and Raoul ran.", {"Christine", "Raoul"}, NameBook({}))
    assert recast("Is all ready for Sir Henry?", "", unknown, book) is None
    titled = StoryPeople.read("Raoul waited. He sat. Miss Joyce ran.", {"Joyce", "Raoul"}, book)
    assert titled.pronouns["Joyce"] == "she"
    assert recast("Sir Henry fired.", "", titled, book) == "Sir Raoul fired."
    joyce = StoryPeople.read("Joyce fired. He missed.", {"Joyce"}, book)
    assert recast("Then the two Baskerville were upon me.", "", joyce, book) is None
    assert recast("Then Baskerville was upon me.", "", joyce, book) == "Then Joyce was upon me."


def test_the_name_book_learns_pronouns_and_leaves_titles_out():
    texts = [
        "One day, Lily went out. She ran. Then Lily sat down. She smiled. Later Lily sang.",
        "After lunch, Tom came home. He ate. Then Tom slept. He snored. Later Tom woke.",
        "Then the King spoke. And the King sat. So the King ate. And the King slept.",
    ]
    book = learn_name_book(texts)
    assert book.pronoun("Lily") == "she"
    assert book.pronoun("Tom") == "he"
    assert not book.is_name("King")


def test_the_name_book_leaves_places_out():
    texts = [
        "One day, Tom went to London. He ran. Then Tom sat in London. He smiled.",
        "After lunch, Tom walked from London to Paris. He ate. Then Tom slept. He snored.",
        "Later, Tom sailed near London and Paris. He waved. So Tom came back to London. He sang.",
        "Then Tom gave the ball to Lily. She ran. Then Lily sat down. She smiled. Later Lily sang.",
    ]
    book = learn_name_book(texts)
    assert book.pronoun("Tom") == "he", "a person the story sometimes writes after 'to'"
    assert book.is_name("Lily")
    assert not book.is_name("London")
    assert not book.is_name("Paris")


def test_a_story_place_is_nobody_a_passage_person_becomes(index):
    story = (
        "The traveller crossed the desert to Suez. He prayed at the shrine of St. James. "
        "James, his guide, waited at the gate. The road to Suez was long."
    )
    assert {"Suez", "James"} & places_in(story, index.names) == {"Suez"}
    shrine = "The traveller prayed at the shrine of St. James. The shrine was cold."
    assert "James" in places_in(shrine, index.names)
    request = request_for([shrine + " He called to Suez. Suez turned, and he smiled."])
    people = story_people(request, request.context.turns[0].text, index)
    assert "James" not in people
    assert "Suez" in people, "a name the story also writes as a person is one"


def test_a_passage_that_starts_in_the_middle_of_a_sentence_is_refused():
    assert not whole_passage("added shock of a certitude that it was not for me he had come there.")
    assert whole_passage('"Added to that, he was late," said Tom.')
    assert whole_passage("(And then he was gone, as quickly as he had come.)")


def test_passages_that_are_not_whole_turns_are_refused():
    assert whole_passage('Lily said, "Let us go home." They went home together.')
    assert not whole_passage("In the Coils Silver")
    assert not whole_passage('.......... "Well, make ready, I am about to say it," he said.')
    assert not whole_passage('I asked. "I hope not, for all our sakes."')
    assert whole_passage('Sam said nothing for a while. "I hope not," he said at last.')
    assert not whole_passage('Silver saw him!" "No, not any more than I did.')
    assert not whole_passage('She said, "Come with me. We will go to the lake.')
    assert whole_passage("\u2018Come in,\u2019 said the old woman, \u2018and sit down.\u2019")
    assert not whole_passage("Come in,\u2019 said the old woman, \u2018and sit down.\u2019")
    assert not whole_passage("CHAPTER X How the interval of suspense affected me, I cannot say.")
    assert whole_passage("He read the chapter twice and then he put the book down.")
    assert not whole_passage("ELSIE .RE.ARE TO MEET THY GO.")
    assert whole_passage("Tom read the sign: KEEP OUT. He went in anyway.")
    assert not whole_passage("Helsing and I will look after you,' said Harker.")
    assert whole_passage("He sat by the fire. 'Come in,' said Tom, 'and be quick.'")
    assert whole_passage("The boys' books were wet, so they dried them.")
    assert not whole_passage("9 lie upon his back between the rows of corn and take a nap.")
    assert whole_passage("1914 was the year the war began in the east.")


def test_quotation_marks_follow_the_story():
    line = 'She said, "Hello there." Then she left.'
    assert in_story_quotes(line, "\u201cHi,\u201d he said.") == (
        "She said, \u201cHello there.\u201d Then she left."
    )
    assert in_story_quotes("\u201cHi,\u201d he said.", 'He said "yes".') == '"Hi," he said.'


def test_the_index_round_trips_through_its_folder(index, tmp_path):
    save_index(index, tmp_path / "index")
    save_index(index, tmp_path / "index")  # replacing one in place
    loaded = load_index(tmp_path / "index")
    assert len(loaded) == len(index)
    assert loaded.sentences == index.sentences
    assert loaded.vocabulary == index.vocabulary
    assert [loaded.value(i) for i in range(len(loaded))] == [
        index.value(i) for i in range(len(index))
    ]
    pairs, encoder = index.topics["children"], index.topics["books"]
    assert isinstance(pairs, TriggerPairs) and isinstance(encoder, TopicEncoder)
    loaded_pairs, loaded_encoder = loaded.topics["children"], loaded.topics["books"]
    assert isinstance(loaded_pairs, TriggerPairs) and isinstance(loaded_encoder, TopicEncoder)
    assert loaded_pairs.vocabulary == pairs.vocabulary
    assert (loaded_pairs.pairs != pairs.pairs).nnz == 0
    assert loaded_encoder.vocabulary == encoder.vocabulary
    assert np.allclose(loaded_encoder.following, encoder.following, atol=1e-3)
    assert not list(tmp_path.glob(".index-*")), "no staging folder is left behind"


def test_a_missing_or_foreign_index_is_refused_clearly(tmp_path, index):
    assert load_retrieval(tmp_path / "nothing") is None
    assert load_retrieval(None) is None
    with pytest.raises(IndexUnavailable, match="no passage index"):
        load_index(tmp_path)
    save_index(index, tmp_path / "index")
    manifest = tmp_path / "index" / "manifest.json"
    manifest.write_text(manifest.read_text().replace(f'"format": {FORMAT_VERSION}', '"format": 99'))
    with pytest.raises(IndexUnavailable, match="rebuild it"):
        load_index(tmp_path / "index")
    assert load_retrieval(tmp_path / "index") is None, "an old index leaves the model alone"


def test_only_training_documents_are_indexed(tiny_corpus_dir):
    docs = documents_for_index(tiny_corpus_dir)
    assert docs and all(split_of(text) == "train" for text, _, _ in docs)
    assert {group for _, group, _ in docs} <= {"children", "books"}


def test_the_recased_lower_case_stories_are_indexed_too(tmp_path):
    """The lower-case TinyStories copy holds stories found nowhere else: they come in recased
    (sentence starts and the names the cased stories teach), validation ones left out."""
    root = write_tiny_corpus(tmp_path / "corpus", stories=60, passages=4)
    extra = [
        f"once upon a time, there was a little cat named lily. lily found a shiny stone number "
        f"{number} by the river.\nshe showed the stone to her mom, and they were both very "
        f"happy. the end."
        for number in range(40)
    ]
    (root / "tinystories" / "extra_lowercased_stories.txt").write_text(
        "".join(story + "\n<|endoftext|>\n" for story in extra), encoding="utf-8"
    )
    docs = documents_for_index(root)
    recased = [text for text, _, source in docs if source == RECASED_SOURCE]
    assert recased and all(split_of(text) == "train" for text in recased)
    assert 0 < len(extra) - len(recased) < len(extra) // 2, "the validation share stays out"
    assert all(
        text.startswith("Once upon a time, there was a little cat named Lily.") for text in recased
    )
    assert all("\nShe showed the stone" in text for text in recased)


def test_excluded_sources_are_never_retrieved(index):
    story = ["Marta chased the kite across the field and found it stuck in an oak tree."]
    source = RetrievalSource(index, exclude=lambda _: "tinystories/stories.txt")
    assert source.find(request_for(story)) == []


def test_kinds_and_genres_without_passages_get_none(index):
    source = RetrievalSource(index)
    story = ["Marta chased the kite and found it stuck in an oak tree."]
    assert source.find(request_for(story, genre="poetry")) == []
    poem = request_for(story).model_copy(update={"kind": "poem"})
    assert source.find(poem) == []
    assert source.find(request_for([])) == []


WIND_STORY = (
    "Tom had a red kite. He took the kite to the park. He ran with the kite on the grass. "
    "Suddenly, a strong wind pulled the kite out of his hands. The kite flew over the trees."
)


def test_a_twist_is_a_passage_that_opens_with_a_turn_of_events():
    index = build_index(documents(WIND_STORY, KITE_STORY, NAMES_STORY))
    assert index.twist_entries.sum() == 1
    story = ["Tom had a blue kite. He took the kite to the park and ran on the grass."]
    twist = request_for(story).model_copy(update={"kind": "twist"})
    found = RetrievalSource(index).find(twist)
    assert [r.text for r in found] == [
        "Suddenly, a strong wind pulled the kite out of his hands. The kite flew over the trees."
    ]
    continues = [r.text for r in RetrievalSource(index).find(request_for(story))]
    assert any(not t.startswith("Suddenly") for t in continues)
    storyless_twists = build_index(documents(KITE_STORY, CAKE_STORY, NAMES_STORY))
    assert RetrievalSource(storyless_twists).find(twist) == []


def opening_for(premise: str, seed: int = 3, **context) -> GenerateRequest:
    request = request_for([], premise=premise, **context)
    return request.model_copy(
        update={"kind": "opening", "params": request.params.model_copy(update={"seed": seed})}
    )


def test_an_opening_is_how_a_corpus_story_near_the_premise_begins():
    index = build_index(documents(KITE_STORY, CAKE_STORY, NAMES_STORY))
    source = RetrievalSource(index, count=1)
    found = source.find(opening_for("A girl and her red kite on a windy hill"))
    assert [r.text for r in found] == ["Lily had a red kite. She took the kite to the windy hill."]
    cast = opening_for(
        "A girl and her red kite on a windy hill",
        characters=[{"name": "Marta", "description": "a girl who loves kites"}],
    )
    assert source.find(cast)[0].text == "Marta had a red kite. She took the kite to the windy hill."
    cake = source.find(opening_for("A boy bakes a cake for his mom"))
    assert cake[0].text.startswith("Tom wanted to bake a cake")
    shown = cake[0].text
    reroll = opening_for("A boy bakes a cake for his mom")
    reroll.params.avoid = [shown]
    assert all(r.text != shown for r in source.find(reroll))


def test_an_opening_with_no_premise_is_a_seeded_draw_of_the_genre():
    stories = [f"Once there was a cat named Tom number {n}. He liked to nap." for n in range(12)]
    index = build_index(
        documents(*[s.replace("Once there was", "Long ago lived") for s in stories], NAMES_STORY)
    )
    source = RetrievalSource(index, count=1)
    draws = {source.find(opening_for("", seed=seed))[0].text for seed in range(8)}
    assert len(draws) > 2
    assert source.find(opening_for("", seed=5)) == source.find(opening_for("", seed=5))


def test_an_opening_is_never_a_title_verse_or_a_sentence_that_leans_back():
    openings = [
        "THE RAVEN There was once a queen who had a little daughter. She loved her.",
        "Are bad for baby seals, dear rat, As bad as bad can be; But splash and grow strong.",
        "He was not an interesting man to look at. His hair was brown and stubbly.",
        "From that time forward, the lawyer began to haunt the door. He waited there.",
        '"Are you armed, Lestrade?" The little detective smiled at the door.',
    ]
    books = [
        (
            text + " The rest of the passage goes on. It is long enough to index.",
            "books",
            f"gutenberg/mystery/book{n}.txt",
        )
        for n, text in enumerate(openings)
    ]
    index = build_index(books + documents(NAMES_STORY))
    source = RetrievalSource(index)
    for premise in [
        "A queen and her daughter",
        "Baby seals and a rat",
        "A man with brown hair",
        "A lawyer at the door",
        "A detective who is armed",
        "",
    ]:
        assert source.find(opening_for(premise, genre="mystery")) == []


def test_a_book_opening_comes_from_a_book_of_the_story_genre():
    text = "The ship sailed into the harbour at dawn. Its sails were torn by the storm."
    more = " The crew went ashore. They were tired."
    books = [
        (text + more, "books", "gutenberg/fantasy_adventure/ship.txt"),
        (text.replace("ship", "boat") + more, "books", "gutenberg/mystery/boat.txt"),
    ]
    source = RetrievalSource(build_index(books + documents(NAMES_STORY)))
    found = source.find(opening_for("A ship in a storm", genre="fantasy_adventure"))
    assert [r.text for r in found] == [text]


def test_a_book_opening_that_begins_with_another_books_people_comes_after_one_that_does_not():
    """The first is the closer to the premise, but opens a book whose own people are already
    under way: the story's setup gets the one that names nobody it did not give."""
    more = " The crew went ashore. They were tired."
    theirs = "Gregson and Lestrade watched the ship in the storm. The storm tore the ship apart."
    ours = "The ship sailed into the harbour at dawn. Its sails were torn."
    books = [
        (theirs + more, "books", "gutenberg/fantasy_adventure/theirs.txt"),
        (ours + more, "books", "gutenberg/fantasy_adventure/ours.txt"),
    ]
    source = RetrievalSource(build_index(books + documents(NAMES_STORY)))
    found = source.find(opening_for("A ship in a storm", genre="fantasy_adventure"))
    assert [r.text for r in found] == [ours, theirs]
    # Names the setup gives are its own: a premise about Lestrade may open with him.
    assert strangers(theirs, [], "Lestrade and Gregson at sea") == set()
    assert strangers(theirs, ["Gregson"], "A ship in a storm") == {"Lestrade"}


SEA_STANZA = (
    "The sea was dark beneath the night,\nThe stars were cold and far;\n"
    "The sailor sang with all his might\nBeneath the evening star."
)
GARDEN_STANZA = (
    "In spring the garden wakes again,\nThe tulips lift their heads;\n"
    "The robin sings in gentle rain\nAbove the flower beds."
)
NAMED_STANZA = (
    "Old Tom went sailing on the sea,\nHe sailed away so far;\n"
    "He never came back home to tea,\nHe followed every sailing star."
)


GARDEN_STORY = (
    "Sue went out to the garden in spring. The tulips were red. A robin sang in the rain. "
    "The flower beds were wet. Sue smiled at the garden."
)
SAILING_STORY = (
    "Sam went sailing on the sea. He sailed far away. The sea was dark at night. "
    "He came back home for tea. Sam was tired."
)
"""These bring their words into the index's vocabulary (the stanzas are searched with it)."""


def poem_for(theme: str, story: list[str] | None = None, **context) -> GenerateRequest:
    request = request_for(story or ["Lily went to the beach with her mom."], theme=theme, **context)
    return request.model_copy(update={"kind": "poem"})


def test_stanzas_are_the_verse_paragraphs_of_the_training_poetry(tmp_path):
    assert stanza_of("  " + SEA_STANZA.replace("\n", "\n      ")) == SEA_STANZA
    for paragraph in [
        "XII\nLooking Forward",
        "CONTENTS\nBed in Summer\nA Thought",
        "The sea was dark\nTHE STARS WERE COLD\nThe sailor sang",
        "the sea was dark beneath the night,\nthe stars were cold and far;",
        "I celebrate myself, and what I assume you shall assume, for every atom\n"
        "belonging to me as good belongs to you, and so on and on for ever more.",
        "A single line of verse alone on its own page here.",
        "The sea [Footnote 1] was dark\nThe stars were cold and far away",
        "The sea was dark beneath the night,\nThe stars were cold and far,",
    ]:
        assert stanza_of(paragraph) is None, paragraph
    stanzas = [SEA_STANZA, GARDEN_STANZA, NAMED_STANZA] * 40
    book = "\n\n".join(
        s.replace("sea", f"sea {n}th").replace("\n", "\n  ") for n, s in enumerate(stanzas)
    )
    poetry = tmp_path / "gutenberg" / "poetry"
    poetry.mkdir(parents=True)
    (poetry / "verses.txt").write_text(book + "\n", encoding="utf-8")
    found = poem_stanzas(tmp_path)
    passages = list(book_passages(book))
    train = [p for p in passages if split_of(normalize_text(p)) == "train"]
    assert 0 < len(train) < len(passages), "the tiny book spans both splits"
    expected = [stanza_of(q) for p in train for q in p.split("\n\n")]
    assert found == list(dict.fromkeys(e for e in expected if e is not None)), "each once"


def test_a_poem_is_a_stanza_near_its_theme_about_people_the_story_has():
    index = build_index(
        documents(KITE_STORY, CAKE_STORY, GARDEN_STORY, SAILING_STORY, NAMES_STORY),
        stanzas=[SEA_STANZA, GARDEN_STANZA, NAMED_STANZA],
    )
    source = RetrievalSource(index, count=1)
    assert [r.text for r in source.find(poem_for("the sea at night"))] == [SEA_STANZA]
    assert [r.text for r in source.find(poem_for("the garden in spring"))] == [GARDEN_STANZA]
    sailing = poem_for("sailing far away on the sea", genre="poetry")
    assert [r.text for r in source.find(sailing)] == [SEA_STANZA], "Tom is no one in this story"
    with_tom = poem_for("sailing far away on the sea", ["Tom went to the beach."])
    assert [r.text for r in source.find(with_tom)] == [NAMED_STANZA]
    shown = poem_for("the sea at night")
    shown.params.avoid = [SEA_STANZA]
    assert SEA_STANZA not in [r.text for r in RetrievalSource(index).find(shown)]
    assert RetrievalSource(build_index(documents(KITE_STORY, NAMES_STORY))).find(shown) == []


def test_the_stanzas_round_trip_through_the_index_folder(tmp_path):
    index = build_index(documents(KITE_STORY, NAMES_STORY), stanzas=[SEA_STANZA, GARDEN_STANZA])
    save_index(index, tmp_path / "index")
    loaded = load_index(tmp_path / "index")
    assert loaded.stanzas == [SEA_STANZA, GARDEN_STANZA]
    assert loaded.manifest["stanzas"] == 2


@pytest.mark.parametrize(
    ("sentence", "turns"),
    [
        ("Suddenly, the telephone rang.", True),
        ("But then something amazing happened.", True),
        ("To her surprise, the box was empty.", True),
        ("At that moment a hand was laid on his shoulder.", True),
        ('"Suddenly it was dark," she said.', True),
        ("Sudden rain fell on the town.", False),
        ("Then they went home.", False),
        ("He said that suddenly it rained.", False),
    ],
)
def test_twist_openers(sentence, turns):
    assert bool(TWIST_OPENERS.match(sentence)) is turns


CLIMB_STORY = (
    "Lily saw a tall oak tree in the park. Her kite was stuck at the top. "
    'Lily said, "I can climb that tree. I will get my kite back." '
    "She climbed up and got the kite. Lily was proud of herself."
)


def test_a_story_stopped_mid_speech_gets_passages_that_finish_a_speech():
    """The turn finishes the speaker's words (the prompt ends inside the quote), so only a
    passage that starts inside a quotation and closes it can be that turn, without the tag that
    names its source's speaker."""
    source = RetrievalSource(build_index(documents(KITE_STORY, CLIMB_STORY, NAMES_STORY)))
    story = ["Marta chased her kite and saw it stuck at the top of a tall oak tree."]
    mid_speech = request_for([*story, 'Marta said, "I can climb that tree.'])
    assert source.serves(mid_speech)
    assert [r.text for r in source.find(mid_speech)] == ['I will get my kite back."']
    curly = request_for([*story, "Marta said, \u201cI can climb that tree."])
    assert [r.text for r in source.find(curly)] == ["I will get my kite back.\u201d"]
    said = request_for([*story, 'Marta said, "I can climb that tree."'])
    assert 'I will get my kite back."' not in [r.text for r in source.find(said)]
    books = build_index([(CLIMB_STORY, "books", "gutenberg/fantasy_adventure/climb.txt")])
    book = request_for([*story, 'Marta said, "I can climb that tree.'], genre="fantasy_adventure")
    book_turns = [r.text for r in RetrievalSource(books).find(book)]
    assert book_turns and 'I will get my kite back."' not in book_turns, "books start anew"


def test_speech_end_takes_the_words_up_to_the_closing_mark():
    assert speech_end(["That stick is too sharp.", 'It can hurt you."']) == (
        'That stick is too sharp. It can hurt you."'
    )
    assert speech_end(['You must not touch that sharp stick," said Mom.']) == (
        'You must not touch that sharp stick."'
    )
    assert speech_end(['Let us all go and play!" They ran off.']) == 'Let us all go and play!"'
    assert speech_end(['Mom said, "You must not touch that."']) is None, "starts outside"
    assert speech_end(["It can hurt you very much, you know."]) is None, "never closes"
    assert speech_end(['Yes!" said Mom.']) is None, "too short to be a turn"


class OnlyAbout(Moderator):
    """Blocks every text that does not mention `subject`: the tiny model never writes about an
    oak tree, so what a request gets back is what retrieval brought."""

    def __init__(self, subject: str):
        super().__init__(use_classifier=False)
        self.subject = subject

    def check_many(self, texts, level, *args, **options):
        verdicts = super().check_many(texts, level, *args, **options)
        return [
            v if self.subject in t else v.model_copy(update={"verdict": "block"})
            for t, v in zip(texts, verdicts, strict=True)
        ]


OAK_TREE_STORY = [
    "Marta flew her kite on the hill. The string snapped in the wind.",
    "She chased the kite across the field and found it stuck in an oak tree.",
]


def passages_about(subject: str, checkpoint: Path, source: RetrievalSource) -> InProcessGenerator:
    """Serves `source`'s passages with everything not about `subject` blocked."""
    return InProcessGenerator(
        tiny_registry(checkpoint),
        moderator=OnlyAbout(subject),
        retrieval=source,
        max_regenerations=0,
    )


def oak_tree_generator(checkpoint: Path, source: RetrievalSource) -> InProcessGenerator:
    """Serves `source`'s passages with everything not about the oak tree blocked."""
    return passages_about("oak tree", checkpoint, source)


async def test_retrieved_candidates_are_served_moderated_and_scored(tiny_checkpoint, index):
    generator = oak_tree_generator(tiny_checkpoint, RetrievalSource(index, count=2))
    try:
        request = request_for(OAK_TREE_STORY)
        request.params.n = 3
        response = await generator.generate(request)
        assert not response.fallback
        assert {c.origin for c in response.candidates} == {"retrieved"}
        assert all(c.tokens > 0 and c.score != 0 for c in response.candidates)
        assert any("Marta climbed the oak tree" in c.text for c in response.candidates)
        logprob = request.params.model_copy(update={"rerank": "logprob"})
        response = await generator.generate(request.model_copy(update={"params": logprob}))
        assert response.fallback, "only the story reranker weighs retrieved passages"
    finally:
        await generator.aclose()


def test_a_story_is_offered_up_to_the_passages_asked(monkeypatch):
    index = build_index(documents(*[PARK_DAY] * 6, *[LAKE_DAY] * 6, NAMES_STORY))
    story = ["Tom took his rod and net to the lake. He rowed the boat out. Then he sat down."]
    every = len(RetrievalSource(index, count=50).find(request_for(story)))
    assert every > 2
    assert len(RetrievalSource(index, count=2).find(request_for(story))) == 2
    source = RetrievalSource(index)
    assert source_module.RETRIEVED == 5
    monkeypatch.setattr(source_module, "RETRIEVED", 1)
    assert len(source.find(request_for(story))) == 1
    monkeypatch.setattr(source_module, "RETRIEVED", every)
    assert len(source.find(request_for(story))) == every


def test_the_topic_fit_weighs_continues_and_lines_but_not_twists():
    index = build_index(documents(*[PARK_DAY] * 6, *[LAKE_DAY] * 6, NAMES_STORY))
    source = RetrievalSource(index)
    story = ["Tom took his rod and net to the lake. He rowed the boat out."]
    request = request_for(story)
    assert source.topic_fit(request)("He caught a big shiny fish.") > 0.1
    twist = request.model_copy(update={"kind": "twist"})
    assert source.topic_fit(twist)("He caught a big shiny fish.") == 0.0
    poem = request_for(story, genre="poetry")
    assert source.topic_fit(poem)("He caught a big shiny fish.") == 0.0


class FavouringSource(RetrievalSource):
    """A retrieval source whose topic fit favours one text, and records who asked."""

    favoured = ""
    asked: list[GenerateRequest]

    def topic_fit(self, request: GenerateRequest):
        self.asked.append(request)
        return lambda text: 10.0 if text == self.favoured else 0.0


async def test_the_story_reranker_weighs_the_index_topic_fit(tiny_checkpoint, index):
    source = FavouringSource(index, count=2)
    source.asked = []
    generator = oak_tree_generator(tiny_checkpoint, source)
    try:
        request = request_for(OAK_TREE_STORY)
        request.params.n = 3
        plain = [c.text for c in (await generator.generate(request)).candidates]
        assert len(plain) > 1 and source.asked
        source.favoured = plain[-1]
        favoured = [c.text for c in (await generator.generate(request)).candidates]
        assert favoured[0] == plain[-1]
    finally:
        await generator.aclose()


async def test_blocked_passages_are_never_shown(tiny_checkpoint):
    index = build_index(
        documents(
            KITE_STORY.replace("She was proud.", "She said fuck the kite."),
            CAKE_STORY,
            NAMES_STORY,
        )
    )
    generator = InProcessGenerator(
        tiny_registry(tiny_checkpoint),
        moderator=Moderator(use_classifier=False),
        retrieval=RetrievalSource(index, count=3),
    )
    story = ["Marta chased the kite across the field and found it stuck in an oak tree."]
    try:
        request = request_for(story).model_copy(update={"moderation_level": "family"})
        response = await generator.generate(request)
        assert all("fuck" not in c.text for c in response.candidates)
    finally:
        await generator.aclose()


def test_the_build_command_writes_an_index_and_refuses_a_missing_corpus(tiny_corpus_dir, tmp_path):
    out = tmp_path / "index"
    command = [sys.executable, "-m", "generators.retrieval", "build"]
    done = subprocess.run(
        [*command, "--data", str(tiny_corpus_dir), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "passage index:" in done.stdout
    assert len(load_index(out)) > 0
    talewright = [sys.executable, "-m", "bot.cli", "data", "index"]
    again = subprocess.run(
        [*talewright, str(tiny_corpus_dir), "--out", str(out), "--if-missing"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert again.returncode == 0 and "already" in again.stdout
    missing = subprocess.run(
        [*command, "--data", str(tmp_path / "nope"), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert missing.returncode == 2 and "corpus folder not found" in missing.stderr


def test_the_service_serves_retrieved_passages(tiny_checkpoint, index, tmp_path):
    import httpx
    from test_service_support import running_service

    save_index(index, tmp_path / "index")
    story = [
        "Marta flew her kite on the hill. The string snapped in the wind.",
        "She chased the kite across the field and found it stuck in an oak tree.",
    ]
    body = request_for(story).model_dump(mode="json")
    body["params"]["n"] = 3
    with running_service(
        tiny_checkpoint,
        moderator=OnlyAbout("oak tree"),
        retrieval_index=tmp_path / "index",
        max_regenerations=0,
    ) as server:
        reply = httpx.post(f"{server.url}/v1/generate", json=body, timeout=60).json()
    assert {c["origin"] for c in reply["candidates"]} == {"retrieved"}
    assert not reply["fallback"]


def test_a_passage_about_he_does_not_continue_a_story_of_she_alone():
    book = name_book()
    people = StoryPeople.read("Marta looked at the sea. She smiled.", {"Marta"}, book)
    story = "Marta looked at the sea. She smiled."
    assert pronouns_fit("She waved at the boat.", story, people)
    assert not pronouns_fit("He waved at the boat.", story, people)
    assert pronouns_fit("The boat waved back.", story, people)


def test_common_words_the_story_capitalises_are_not_people(index):
    story = '"Nice to see you," she said. Marta smiled. She waved at Pip.'
    request = request_for([story], characters=[{"name": "Pip"}])
    people = story_people(request, story, index)
    assert "Marta" in people, "a name the story calls she, though the corpus never saw it"
    assert "Pip" in people, "a character in play"
    assert "Nice" not in people


def test_people_the_story_has_not_met_are_left_out():
    story = "Marta found a shell on the beach. She showed it to her friend."
    settled = RetrievalSource._settled
    assert settled(["Her friend smiled.", "They ran home."], story) == (
        "Her friend smiled. They ran home."
    )
    assert settled(["Marta smiled.", "Her mom hugged her."], story) == "Marta smiled."
    assert settled(["Her dad laughed.", "Marta smiled."], story) is None
    assert new_roles("The kings and their friends ate.", story) == {"king"}
    assert new_roles("The princess and the princes waved.", story) == {"princess", "prince"}


def test_a_newcomer_who_introduces_themselves_is_not_renamed():
    assert renames_a_newcomer('The bird said, "Hi, I\'m Sam!"', 'The bird said, "Hi, I\'m Tom!"')
    assert renames_a_newcomer("A dog named Rex ran.", "A dog named Tom ran.")
    assert not renames_a_newcomer("Sam waved.", "Tom waved.")
    assert not renames_a_newcomer("Hi, I'm Sam.", "Hi, I'm Sam.")


def test_a_story_that_asks_for_a_new_mood_is_offered_a_passage_in_it():
    sad_kite = KITE_STORY.replace(
        "Lily climbed the oak tree and saved her kite. She was proud.",
        "Lily cried because her kite was torn and broken. She felt sad and alone.",
    )
    index = build_index(documents(KITE_STORY, sad_kite, CAKE_STORY, NAMES_STORY))
    story = [
        "Marta flew her kite on the hill. The string snapped in the wind.",
        "She chased the kite across the field and found it stuck in an old oak tree.",
    ]
    source = RetrievalSource(index, count=1)
    plain = source.find(request_for(story))
    sad = source.find(request_for(story, mood="sad"))
    assert "sad" not in plain[0].text
    assert "sad and alone" in sad[0].text


def test_a_character_line_is_a_passage_quotation_said_by_the_speaker():
    assert spoken_line('Tom said, "Let us go to the park now." They went.', "Marta") == (
        '"Let us go to the park now," Marta said.'
    )
    assert spoken_line('"Can you help me find it?" asked Spot.', "Pip") == (
        '"Can you help me find it?" Pip asked.'
    )
    assert spoken_line("\u2018I am in a hurry,\u2019 answered the girl.", "Marta") == (
        '"I am in a hurry," Marta said.'
    )
    assert spoken_line('"Yes!" said Sam.', "Marta") is None
    assert spoken_line("Nobody spoke at all.", "Marta") is None


def test_dialogue_gets_lines_for_its_speaker_and_none_without_one():
    chat = (
        "Lily saw a kite in a tall oak tree. Lily wanted the kite. Tom came by. "
        'Lily asked, "Tom, can you get my kite down from the tree?" Tom nodded and climbed.'
    )
    index = build_index(documents(chat, KITE_STORY, CAKE_STORY, NAMES_STORY))
    story = ["Marta saw her kite stuck in a tall oak tree. Pip came by. Marta wanted the kite."]
    request = request_for(story, speaker="Marta", characters=[{"name": "Pip"}])
    request = request.model_copy(update={"kind": "dialogue"})
    found = RetrievalSource(index).find(request)
    assert found and found[0].text == '"Pip, can you get my kite down from the tree?" Marta asked.'
    nobody = request.model_copy(
        update={"context": request.context.model_copy(update={"speaker": None})}
    )
    assert RetrievalSource(index).find(nobody) == []


def test_a_line_that_names_its_own_speaker_is_refused():
    assert spoken_line('"Marta, come and look at this," said Tom.', "Marta") is None


async def test_a_served_dialogue_line_can_be_a_retrieved_one(tiny_checkpoint):
    chat = (
        "Lily saw a kite in a tall oak tree. Lily wanted the kite. Tom came by. "
        'Lily asked, "Tom, can you get my kite down from the oak tree?" Tom nodded and climbed.'
    )
    index = build_index(documents(chat, KITE_STORY, CAKE_STORY, NAMES_STORY))
    generator = InProcessGenerator(
        tiny_registry(tiny_checkpoint),
        moderator=OnlyAbout("oak tree"),
        retrieval=RetrievalSource(index),
        max_regenerations=0,
    )
    story = ["Marta saw her kite stuck in a tall oak tree. Pip came by. Marta wanted the kite."]
    request = request_for(story, speaker="Marta", characters=[{"name": "Pip"}])
    request = request.model_copy(update={"kind": "dialogue"})
    try:
        response = await generator.generate(request)
    finally:
        await generator.aclose()
    assert response.text == '"Pip, can you get my kite down from the oak tree?" Marta asked.'
    assert response.candidates[0].origin == "retrieved"
    assert response.candidates[0].tokens > 0


def test_a_mood_search_only_finds_passages_in_that_mood(index):
    query = index.query_vector([("kite", 1.0), ("oak", 1.0), ("tree", 1.0)])
    anyhow = index.search(query, "children", 10)
    cheerful = index.search(query, "children", 10, mood="cheerful")
    assert {e for e, _ in cheerful} < {e for e, _ in anyhow}
    assert all(mood_of(index.value(e)) == "cheerful" for e, _ in cheerful)


def test_an_index_of_an_older_format_is_rebuilt_when_missing_ones_are(tiny_corpus_dir, tmp_path):
    from generators.retrieval.build import build_from_corpus

    out = tmp_path / "index"
    assert build_from_corpus(tiny_corpus_dir, out) == 0
    manifest = out / "manifest.json"
    current = f'"format": {FORMAT_VERSION}'
    assert current in manifest.read_text()
    manifest.write_text(manifest.read_text().replace(current, '"format": 1'))
    assert build_from_corpus(tiny_corpus_dir, out, if_missing=True) == 0
    assert current in manifest.read_text()


def test_a_third_person_story_is_not_continued_in_the_first_person():
    story = 'Marta opened the door. "I am here," she said.'
    assert not narrator_fits("The door opened and I went in.", story)
    assert narrator_fits('Marta went in. "We are safe," she said.', story)
    assert narrator_fits("I went in after them.", "I opened the door. My hands shook.")


def test_a_passage_about_things_the_story_never_named_comes_after_one_that_is_not(monkeypatch):
    """Both follow the same moment; the one that shares more words with the story speaks of
    "the mushroom", which the story never named, so the other is offered first."""
    moment = "Lily had a red kite. She took the kite to the hill. The wind was strong."
    index = build_index(
        documents(
            f"{moment} Lily took the red kite to see the mushroom.",
            f"{moment} Lily jumped up and smiled.",
            NAMES_STORY,
        )
    )
    story = ["Marta had a red kite. She took the kite to the hill.", "The wind was strong."]
    clean, unknown = "Marta jumped up and smiled.", "Marta took the red kite to see the mushroom."

    def offered() -> list[str]:
        return [r.text for r in RetrievalSource(index, count=4).find(request_for(story))]

    assert offered().index(clean) < offered().index(unknown)
    monkeypatch.setattr(source_module, "FIT_UNKNOWN_CHILDREN", 0.0)
    assert offered().index(unknown) < offered().index(clean)


def test_a_passage_already_offered_for_the_turn_is_not_offered_again(index):
    story = [
        "Marta flew her kite on the hill. The string snapped in the wind.",
        "She chased the kite across the field and found it stuck in an oak tree.",
    ]
    shown = "Marta climbed the oak tree and saved her kite. She was proud."
    source = RetrievalSource(index, count=3)
    assert shown in [r.text for r in source.find(request_for(story))]
    reroll = request_for(story)
    reroll.params.avoid = [f"  {shown.lower()} "]
    assert shown not in [r.text for r in source.find(reroll)]


async def test_a_new_story_opens_with_a_served_corpus_opening(tiny_checkpoint):
    """An opening request carries no turns: the engine still asks the index, and the passage
    competes with the model's own openings (the moderator lets only the passage through)."""
    index = build_index(documents(KITE_STORY, CAKE_STORY, NAMES_STORY))
    generator = passages_about("red kite", tiny_checkpoint, RetrievalSource(index))
    try:
        response = await generator.generate(opening_for("A girl and her red kite"))
        assert not response.fallback
        assert response.candidates[0].origin == "retrieved"
        assert response.text == "Lily had a red kite. She took the kite to the windy hill."
    finally:
        await generator.aclose()


async def test_a_poem_is_served_from_the_poetry(tiny_checkpoint):
    index = build_index(documents(KITE_STORY, NAMES_STORY), stanzas=[SEA_STANZA, GARDEN_STANZA])
    generator = passages_about("sailor", tiny_checkpoint, RetrievalSource(index))
    try:
        response = await generator.generate(poem_for("the sea at night"))
        assert not response.fallback
        assert response.candidates[0].origin == "retrieved"
        assert response.text == SEA_STANZA
    finally:
        await generator.aclose()
