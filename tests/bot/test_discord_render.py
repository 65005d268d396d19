"""Rendering for Discord, offline: long text split at sentence ends under 2,000 characters,
pings that reach only the next writer, and the spacing of model requests."""

from __future__ import annotations

import discord
from discord_testing import story

from bot.discord.render import Out, next_writer_ping, split_text, turn_id_in, whose_turn
from bot.story.results import ParticipantView


def test_long_text_splits_at_sentence_ends_under_the_limit() -> None:
    sentence = "The tide came in over the old stones and the lantern kept burning. "
    text = (sentence * 40).strip() + "\n\n" + ("Word " * 600).strip() + " " + "x" * 4500
    chunks = split_text(text)
    assert all(0 < len(chunk) <= 2000 for chunk in chunks)
    assert "".join(chunks).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )
    assert chunks[0].endswith("burning.")
    seams = [text.index(chunk) + len(chunk) for chunk in chunks[:-1]]
    assert all(text[seam].isspace() or text[seam] == "x" for seam in seams)
    assert split_text("Short. Text.") == ["Short. Text."]


def test_messages_mention_nobody_unless_they_ping_one_user() -> None:
    quiet = Out(content="@everyone <@&5> <@7>").allowed_mentions.to_dict()
    assert quiet == {"parse": []}
    loud = Out(content="<@7> and @everyone", ping=7).allowed_mentions.to_dict()
    assert loud["parse"] == [] and loud["users"] == [7]


def test_the_next_writer_is_pinged_with_the_deadline_but_not_the_one_who_acted() -> None:
    bob = ParticipantView(user_id=8, name="bob", seat=2, active=True)
    info = story()
    info = type(info)(
        **{
            **{f: getattr(info, f) for f in info.__slots__},
            "mode": "round_robin",
            "current_writer": bob,
            "turn_deadline": 1_700_000_000.5,
        }
    )
    ping = next_writer_ping(info, actor_id=7)
    assert ping is not None and ping.ping == 8
    assert ping.content == "<@8>, it's your turn in **T** (due <t:1700000000:R>)."
    assert next_writer_ping(info, actor_id=8) is None
    assert whose_turn(info) == "It's **bob**'s turn, due <t:1700000000:R>."


def test_the_turn_id_is_read_back_from_a_turn_message() -> None:
    message = discord.Message.__new__(discord.Message)
    embed = discord.Embed(description="x").set_footer(text="turn #42 · model m, kept by alice")
    message.embeds = [embed]
    message.components = []
    assert turn_id_in(message) == 42
