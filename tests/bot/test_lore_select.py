"""Lore selection: exactly the entries whose keys appear in the recent turns (or that are
constant) go into the context, highest priority first, within the budget; characters in play
count as entries keyed by their names, never twice; the rest is reported as left out."""

from __future__ import annotations

from bot.story.context import build_context, fit_budget
from bot.story.lore_select import SCAN_TURNS, character_item, mentions, select_lore
from generators.context_size import MAX_CONTEXT_CHARS, context_chars
from generators.schemas import StoryContext, TurnContext
from storage.models import Character, LoreEntry, Story


def entry(
    name: str,
    *keys: str,
    text: str | None = None,
    priority: int = 100,
    constant: bool = False,
    story: int | None = 5,
) -> LoreEntry:
    return LoreEntry(
        id=abs(hash(name)) % 10_000,
        guild_id=1,
        story_id=story,
        name=name,
        keys=keys,
        text=text if text is not None else f"{name} lore.",
        constant=constant,
        priority=priority,
        created_at=0.0,
        updated_at=0.0,
    )


def character(name: str, description: str = "A keeper of lamps.") -> Character:
    return Character(
        id=abs(hash(name)) % 10_000,
        guild_id=1,
        owner_id=9,
        name=name,
        description=description,
        personality="",
        speech_style="",
        backstory="",
        first_message="",
        tags=(),
        card_json=None,
        created_at=0.0,
        updated_at=0.0,
    )


def names(items) -> list[str]:
    return [item.name for item in items]


def test_exactly_the_entries_whose_keys_appear_in_priority_order() -> None:
    book = [
        entry("Door", "door", priority=50),
        entry("Tide", "tide", "high water", priority=200),
        entry("Ship", "ship"),
        entry("Bell", "bell", priority=150),
    ]
    picked = select_lore(book, [], ["The DOOR hums.", "At high water the bell tolls."])
    assert names(picked.chosen) == ["Tide", "Bell", "Door"]
    assert names(picked.waiting) == ["Ship"] and picked.left_out == ()


def test_keys_match_whole_words_only() -> None:
    assert mentions("the door hums", ["Door"])
    assert not mentions("a doorway opens", ["door"])
    assert mentions("Mira's lamp", ["Mira"])
    assert mentions("to the old mill, quickly", ["old mill"])
    assert not mentions("anything", ["", "  "])
    assert mentions("look: a.b.c!", ["a.b.c"])


def test_only_the_recent_turns_are_scanned() -> None:
    turns = ["The door opens."] + ["Nothing."] * SCAN_TURNS
    assert select_lore([entry("Door", "door")], [], turns).chosen == ()
    assert names(select_lore([entry("Door", "door")], [], [*turns[1:], "door"]).chosen) == ["Door"]


def test_constant_entries_always_go_in() -> None:
    picked = select_lore([entry("World", constant=True, priority=1)], [], ["quiet"])
    assert names(picked.chosen) == ["World"]


def test_budget_leaves_out_the_least_important_and_says_so() -> None:
    book = [
        entry("Big", "x", text="b" * 60, priority=300),
        entry("Mid", "x", text="m" * 50, priority=200),
        entry("Small", "x", text="s" * 30, priority=100),
    ]
    picked = select_lore(book, [], ["x"], budget_chars=100)
    assert names(picked.chosen) == ["Big", "Small"]
    assert names(picked.left_out) == ["Mid"]


def test_characters_in_play_are_keyed_by_name_and_never_duplicated() -> None:
    cast = [character("Marta"), character("Pip")]
    picked = select_lore([entry("Marta's lore", "Marta")], cast, ["Marta and Pip talk."])
    assert names(picked.chosen) == ["Marta's lore", "Pip"]
    assert picked.chosen[1].text == "Pip: A keeper of lamps."
    silent = select_lore([], cast, ["nobody here"], speaker="pip")
    assert names(silent.chosen) == ["Pip"] and names(silent.waiting) == ["Marta"]


def test_a_story_entry_overrides_the_guild_entry_of_its_name() -> None:
    book = [entry("Door", "door", story=None, text="guild"), entry("door", "door", text="story")]
    picked = select_lore(book, [], ["door"])
    assert [item.text for item in picked.chosen] == ["story"]


def test_character_text_is_cut_at_a_word() -> None:
    item = character_item(character("Long", "word " * 400))
    assert len(item.text) <= 601 and item.text.endswith("…")


def test_long_lore_is_budgeted_whole_entries_first() -> None:
    context = StoryContext(
        memory="m" * 1000,
        lore=["a" * 2000, "b" * 2000, "c" * 500],
        turns=[TurnContext(text="t" * 4000) for _ in range(10)],
    )
    fitted = fit_budget(context, 8000)
    assert context_chars(fitted) <= 8000
    assert fitted.memory == "m" * 800
    assert fitted.lore == ["c" * 500]
    assert fitted.turns[-1].text == "t" * 4000


def test_build_context_carries_memory_and_lore() -> None:
    story = Story(
        id=1,
        guild_id=1,
        channel_id=2,
        thread_id=None,
        owner_id=3,
        title="T",
        genre="mystery",
        mood=None,
        premise="",
        mode="free",
        turn_timeout_s=None,
        timeout_action="skip",
        reroll_policy="owner",
        style_matching=False,
        model_id=None,
        status="active",
        current_seat=0,
        turn_deadline=None,
        created_at=0.0,
        updated_at=0.0,
        ended_at=None,
    )
    wide = build_context(story, [], [], memory="x" * 1500, lore=["y" * 3000] * 40, max_chars=10**6)
    assert wide.memory == "x" * 1000
    assert len(wide.lore) == 32 and all(len(text) == 2000 for text in wide.lore)
    budgeted = build_context(story, [], [], memory="x" * 1500, lore=["y" * 3000] * 40)
    assert context_chars(budgeted) <= MAX_CONTEXT_CHARS and budgeted.lore
