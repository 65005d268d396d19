"""A story as a book to share: one self-contained HTML page, or an EPUB.

Both hold what the Markdown export holds (title, genre, mood, premise, who started it, every
turn with its byline, a turn still waiting for Keep under a note) and escape every piece of
text a person or the model wrote, so a title like `<script>` is shown, never run. The EPUB is
built with ebooklib and cut into chapters of `CHAPTER_TURNS` turns.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence

from ebooklib import epub

from bot.story.export import label
from bot.story.results import StoryInfo, TurnView

FORMATS = ("markdown", "html", "epub")
EXTENSIONS = {"markdown": "md", "html": "html", "epub": "epub"}
CHAPTER_TURNS = 20
PENDING_NOTE = "Waiting for Keep (kept automatically when the story moves on):"

_CSS = """
body { font-family: Georgia, serif; max-width: 40em; margin: 2em auto; padding: 0 1em;
  line-height: 1.55; color: #222; background: #fdfcf8; }
h1 { margin-bottom: 0.2em; }
.facts { color: #666; font-style: italic; }
blockquote { border-left: 3px solid #c9b88f; margin-left: 0; padding-left: 1em; color: #444; }
.turn { margin: 1.4em 0; }
.turn p { margin: 0.3em 0; white-space: pre-wrap; }
.byline { color: #777; font-style: italic; font-size: 0.9em; }
.pending { border: 1px dashed #c9b88f; padding: 0.5em 1em; }
"""


def esc(text: str) -> str:
    """Text as HTML/XHTML character data or an attribute value: &, <, >, and both quotes."""
    return html.escape(text, quote=True)


def _facts(story: StoryInfo) -> str:
    facts = [f"Genre: {label(story.genre)}"]
    if story.mood:
        facts.append(f"Mood: {story.mood}")
    facts.append(f"Started by {story.owner_name}")
    if story.status != "active":
        facts.append(f"Status: {story.status}")
    return esc(" · ".join(facts))


def _front(story: StoryInfo) -> list[str]:
    parts = [f"<h1>{esc(story.title)}</h1>", f'<p class="facts">{_facts(story)}</p>']
    if story.premise:
        lines = "<br/>".join(esc(line) for line in story.premise.splitlines())
        parts.append(f"<blockquote><p>{lines}</p></blockquote>")
    return parts


def _turn(turn: TurnView, note: str = "") -> str:
    paragraphs = "".join(f"<p>{esc(block)}</p>" for block in turn.text.split("\n\n") if block)
    byline = esc(f"— {turn.byline}{note}")
    return f'<div class="turn">{paragraphs}<p class="byline">{byline}</p></div>'


def _pending(pending: TurnView) -> str:
    where = ""
    if pending.alt_count > 1:
        where = f", alternative {pending.alt_index} of {pending.alt_count}"
    return f'<div class="pending"><p><em>{esc(PENDING_NOTE)}</em></p>{_turn(pending, where)}</div>'


def to_html(story: StoryInfo, turns: Sequence[TurnView], pending: TurnView | None) -> str:
    """One page with its style inline: it opens anywhere, with nothing to fetch."""
    body = _front(story) + ["<hr/>"] + [_turn(turn) for turn in turns]
    if pending is not None:
        body.append(_pending(pending))
    if not turns and pending is None:
        body.append("<p><em>No turns yet.</em></p>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n'
        f"<title>{esc(story.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def chapters(turns: Sequence[TurnView], size: int = CHAPTER_TURNS) -> list[Sequence[TurnView]]:
    """The turns in chapters of `size` (the last may be shorter); one empty chapter for none."""
    return [turns[start : start + size] for start in range(0, len(turns), size)] or [[]]


def to_epub(
    story: StoryInfo,
    turns: Sequence[TurnView],
    pending: TurnView | None,
    chapter_turns: int = CHAPTER_TURNS,
) -> bytes:
    """An EPUB 3 book: a title page, then one chapter per `chapter_turns` turns."""
    book = epub.EpubBook()
    book.set_identifier(f"talewright-story-{story.id}")
    book.set_title(story.title)
    book.set_language("en")
    book.add_author(story.owner_name)
    style = epub.EpubItem(uid="style", file_name="style.css", media_type="text/css", content=_CSS)
    book.add_item(style)
    title_page = epub.EpubHtml(title=story.title, file_name="title.xhtml", lang="en")
    title_page.content = "".join(_front(story))
    title_page.add_item(style)
    pages = [title_page]
    groups = chapters(turns, chapter_turns)
    for number, group in enumerate(groups, 1):
        page = epub.EpubHtml(title=f"Chapter {number}", file_name=f"chapter-{number}.xhtml")
        body = [f"<h2>Chapter {number}</h2>"] + [_turn(turn) for turn in group]
        if number == len(groups) and pending is not None:
            body.append(_pending(pending))
        if not turns and pending is None:
            body.append("<p><em>No turns yet.</em></p>")
        page.content = "".join(body)
        page.add_item(style)
        pages.append(page)
    for page in pages:
        book.add_item(page)
    book.toc = pages
    book.spine = ["nav", *pages]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    out = io.BytesIO()
    epub.write_epub(out, book, {"raise_exceptions": True})
    return out.getvalue()
