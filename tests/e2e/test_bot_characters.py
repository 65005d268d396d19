"""Characters through the bot: Character Card V2 import as JSON and as PNG (unknown fields kept
through export), dialogue with an imported character, and sheets made and changed through the
two modals."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

from bot_harness import answered, assert_discord_rules_kept, bot_settings, story_bot
from fakediscord import FakeDiscord, Upload
from PIL import Image
from PIL.PngImagePlugin import PngInfo

MIRA = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Captain Mira",
        "description": "A sea captain with a brass compass.",
        "personality": "Brave, dry humour.",
        "scenario": "Lost her ship to the fog.",
        "first_mes": "Hold fast, crew!",
        "tags": ["pirate", "sea"],
        "character_book": {"entries": [{"keys": ["fog"], "content": "The fog remembers."}]},
        "extensions": {"other_app": {"mood": "stormy"}},
    },
}


def png_card(card: dict) -> bytes:
    info = PngInfo()
    info.add_text("chara", base64.b64encode(json.dumps(card).encode()).decode("ascii"))
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (20, 40, 80)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def chara_chunk(png: bytes) -> dict:
    image = Image.open(io.BytesIO(png))
    return json.loads(base64.b64decode(image.text["chara"]))


async def test_cards_import_as_json_and_png_and_an_imported_character_speaks(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    async with story_bot(fake, bot_settings(fake, tmp_path / "t.db", tiny_checkpoint)):
        as_json = Upload("mira.json", json.dumps(MIRA).encode(), "application/json")
        imported = await fake.slash(
            "bob", "general", "character", "import", options={"card": as_json}
        )
        await answered(imported)
        assert imported.ephemeral and imported.response is not None
        assert imported.content.startswith("**Captain Mira** (character #")
        assert "**Backstory:** Lost her ship to the fog." in imported.content

        ghost = {"spec": "chara_card_v2", "data": {"name": "Old Tom", "description": "A ghost."}}
        as_png = Upload("tom.png", png_card(ghost), "image/png")
        from_png = await fake.slash(
            "carol", "general", "character", "import", options={"card": as_png}
        )
        await answered(from_png)
        assert "**Old Tom**" in from_png.content and "**Description:** A ghost." in from_png.content

        options = {"title": "Fog", "genre": "fantasy_adventure"}
        await answered(await fake.slash("bob", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        cast = await fake.slash(
            "bob", thread, "story", "cast", options={"character": "Captain Mira"}
        )
        [joined] = await answered(cast)
        assert joined.content == "**Captain Mira** joins **Fog**. bob plays them."

        choices = await fake.autocomplete(
            "bob", thread, "story", "say", focused="character", options={"character": ""}
        )
        assert [c["value"] for c in choices] == ["Captain Mira", "Old Tom"]
        typed = await fake.autocomplete(
            "bob", thread, "story", "say", focused="character", options={"character": "old"}
        )
        assert [c["value"] for c in typed] == ["Old Tom"]

        said = await fake.slash(
            "bob", thread, "story", "say", options={"character": "Captain Mira"}
        )
        [line] = await answered(said)
        assert line.embeds[0]["title"] == "Captain Mira"
        assert "as Captain Mira" in line.embeds[0]["footer"]["text"]

        exported = await fake.slash(
            "bob",
            "general",
            "character",
            "export",
            options={"name": "Captain Mira", "format": "png"},
        )
        [card_message] = await answered(exported)
        [png] = card_message.attachments
        card = chara_chunk(png.data)
        assert card["data"]["character_book"] == MIRA["data"]["character_book"]
        assert card["data"]["extensions"]["other_app"] == {"mood": "stormy"}
        assert card["data"]["first_mes"] == "Hold fast, crew!"

        broken = Upload("broken.json", b"{not json", "application/json")
        refused = await fake.slash(
            "bob", "general", "character", "import", options={"card": broken}
        )
        await answered(refused)
        assert refused.ephemeral and "not valid JSON" in refused.content
    assert_discord_rules_kept(fake)


async def test_a_sheet_is_made_and_changed_through_two_modals(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    async with story_bot(fake, bot_settings(fake, tmp_path / "t.db", tiny_checkpoint)):
        create = await fake.slash("alice", "general", "character", "create")
        await create.wait_response()
        assert create.modal is not None and len(create.modal["components"]) == 4
        page_one = {"name": "Pip", "description": "A small fox.", "speech_style": "Quick."}
        noted = await fake.submit_modal("alice", "general", create.modal["custom_id"], page_one)
        [flow] = await answered(noted)
        assert flow.ephemeral and [b.label for b in noted.buttons] == ["Continue", "Back to page 1"]
        more = await fake.click("alice", flow, noted.buttons[0].custom_id or "")
        await more.wait_response()
        assert more.modal is not None and len(more.modal["components"]) == 3
        page_two = {"backstory": "Born under a bridge.", "tags": "fox, small"}
        saved = await fake.submit_modal(
            "alice", "general", more.modal["custom_id"], page_two, message=flow
        )
        await saved.wait_response()
        await fake.wait_until(lambda: "**Pip**" in flow.content, what="the saved sheet")
        assert "**Tags:** fox, small" in flow.content and flow.components == []

        edit = await fake.slash("alice", "general", "character", "edit", options={"name": "Pip"})
        await edit.wait_response()
        assert edit.modal is not None
        defaults = {
            c["component"]["custom_id"] if "component" in c else c["components"][0]["custom_id"]: (
                c["component"] if "component" in c else c["components"][0]
            ).get("value")
            for c in edit.modal["components"]
        }
        assert defaults["name"] == "Pip" and defaults["description"] == "A small fox."
        changed = dict(page_one, description="A small, clever fox.")
        noted = await fake.submit_modal("alice", "general", edit.modal["custom_id"], changed)
        [flow] = await answered(noted)
        more = await fake.click("alice", flow, noted.buttons[0].custom_id or "")
        await more.wait_response()
        assert more.modal is not None
        await fake.submit_modal("alice", "general", more.modal["custom_id"], page_two, message=flow)
        await fake.wait_until(lambda: "A small, clever fox." in flow.content, what="the edit")

        stolen = await fake.slash("bob", "general", "character", "edit", options={"name": "Pip"})
        await stolen.wait_response()
        assert stolen.ephemeral and "belongs to someone else" in stolen.content
        listed = await fake.slash("bob", "general", "character", "list")
        await answered(listed)
        assert listed.content == "**Pip** — A small, clever fox."
        deleted = await fake.slash(
            "alice", "general", "character", "delete", options={"name": "Pip"}
        )
        await answered(deleted)
        assert deleted.content == "Deleted **Pip**."
    assert_discord_rules_kept(fake)
