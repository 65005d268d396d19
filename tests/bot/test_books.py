"""Books to share: the HTML page and the EPUB export are well-formed, escape hostile text, hold
every turn in order, and the terminal saves them as files."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from ebooklib import ITEM_DOCUMENT, epub
from engine_testing import ANN, BEN, CHANNEL, FakeClock, FakeGenerator, start_story

from bot.console.commands import Session
from bot.console.console import Console
from bot.console.render import Renderer
from bot.errors import InvalidInput
from bot.story import StoryEngine
from bot.story.books import chapters

HOSTILE_TITLE = "<script>alert(\"x\")</script> & 'Tom'"
HOSTILE_TURN = 'She wrote <img src=x onerror="alert(1)"> & left "quietly".'
XHTML = "{http://www.w3.org/1999/xhtml}"


async def hostile_story(engine: StoryEngine, turns: int = 3) -> list[str]:
    await start_story(engine, title=HOSTILE_TITLE, premise="A <b>door</b> & a key")
    await engine.join(CHANNEL, BEN, "Ben")
    texts = [HOSTILE_TURN] + [f"Turn {number} goes on." for number in range(2, turns + 1)]
    for number, text in enumerate(texts):
        user, name = (ANN, "Ann") if number % 2 == 0 else (BEN, "Ben <b>")
        await engine.write(CHANNEL, user, name, text)
    return texts


def texts_of(root: ET.Element, namespace: str = "") -> str:
    return "".join(root.itertext())


async def test_the_html_page_is_well_formed_and_escapes_everything(engine: StoryEngine) -> None:
    texts = await hostile_story(engine)
    result = await engine.export(channel_id=CHANNEL, format="html")
    assert result.filename.endswith(".html") and result.format == "html"
    page = result.data.decode("utf-8")
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;Tom&#x27;" in page
    root = ET.fromstring(page.removeprefix("<!DOCTYPE html>\n"))
    assert root.find("head/title").text == HOSTILE_TITLE
    assert root.find("head/style") is not None and root.find("head/link") is None
    body = texts_of(root.find("body"))
    assert HOSTILE_TITLE in body and "A <b>door</b> & a key" in body and "Ben <b>" in body
    assert "Genre: Fantasy adventure" in body
    positions = [body.index(text) for text in texts]
    assert positions == sorted(positions)


async def test_the_epub_opens_with_ebooklib_and_a_zip_reader_with_turns_in_order(
    engine: StoryEngine, tmp_path: Path
) -> None:
    texts = await hostile_story(engine, turns=45)
    result = await engine.export(channel_id=CHANNEL, format="epub")
    assert result.filename.endswith(".epub")

    with zipfile.ZipFile(io.BytesIO(result.data)) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert archive.read("mimetype") == b"application/epub+zip"
        chapters_xml = sorted(
            (name for name in archive.namelist() if "chapter-" in name),
            key=lambda name: int(name.rsplit("-", 1)[1].split(".")[0]),
        )
        assert len(chapters_xml) == 3
        read = ""
        for name in chapters_xml:
            root = ET.fromstring(archive.read(name))
            read += texts_of(root.find(f"{XHTML}body"))
    positions = [read.index(text) for text in texts]
    assert positions == sorted(positions)
    assert "<img" not in read.replace(HOSTILE_TURN, "")

    path = tmp_path / "book.epub"
    path.write_bytes(result.data)
    book = epub.read_epub(str(path))
    assert book.get_metadata("DC", "title")[0][0] == HOSTILE_TITLE
    documents = [item.get_name() for item in book.get_items_of_type(ITEM_DOCUMENT)]
    assert {"title.xhtml", "chapter-1.xhtml", "chapter-3.xhtml"} <= set(documents)


async def test_an_unknown_format_is_refused_by_name(engine: StoryEngine) -> None:
    await start_story(engine)
    with pytest.raises(InvalidInput, match="Unknown export format 'pdf'; use one of markdown"):
        await engine.export(channel_id=CHANNEL, format="pdf")


def test_chapters_cut_every_twenty_turns() -> None:
    assert [len(group) for group in chapters(list(range(45)))] == [20, 20, 5]
    assert chapters([]) == [[]]


def saved(folder: Path) -> tuple[Path, str]:
    """The one EPUB saved in `folder`, and the text of page.html."""
    [book] = list(folder.glob("*.epub"))
    return book, (folder / "page.html").read_text(encoding="utf-8")


async def test_the_terminal_saves_an_epub_and_an_html_page(
    storage, moderator, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = StoryEngine(storage, FakeGenerator(), moderator, clock=clock)
    out = io.StringIO()
    console = Console(Session(engine, "Ann"), Renderer(80, clock), out)
    status = await console.run_script(
        [
            '/story start title:"Book" genre:mystery',
            "The first line.",
            "/story export epub",
            "/story export html page.html",
        ]
    )
    assert status == 0, out.getvalue()
    book, page = saved(tmp_path)
    assert zipfile.ZipFile(book).read("mimetype") == b"application/epub+zip"
    assert "The first line." in page
    assert f'Exported "Book" to {book.name}' in out.getvalue()
