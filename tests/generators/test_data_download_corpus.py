"""The pinned manifest and the normalisers against the reference corpus in ../shared/data
(skipped where it is absent). The sources themselves cannot be fetched here (no network), so
the Gutenberg check wraps each reference book in a Project Gutenberg licence header and footer,
CRLF line ends, a BOM, trailing spaces and the source file's encoding, and asks for the reference
bytes back; the TinyStories check feeds the reference records through the story pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from tinydata import SHARED_DATA

from generators.data import tinystories
from generators.data.fetch import file_sha256, sha256_of
from generators.data.gutenberg import normalize_book
from generators.data.manifest import load_manifest

pytestmark = pytest.mark.corpus


def test_the_manifest_pins_every_reference_file_with_its_size_and_checksum() -> None:
    manifest = load_manifest()
    pinned = {b.file: (b.bytes, b.sha256) for b in manifest.books}
    pinned |= {o.file: (o.bytes, o.sha256) for o in manifest.tinystories.outputs}
    on_disk = {
        str(p.relative_to(SHARED_DATA))
        for p in SHARED_DATA.rglob("*.txt")
        if p.parts[len(SHARED_DATA.parts)] in {"gutenberg", "tinystories"}
    }
    assert set(pinned) == on_disk
    for file, (size, digest) in pinned.items():
        assert (SHARED_DATA / file).stat().st_size == size, file
        assert file_sha256(SHARED_DATA / file) == digest, file


def as_gutenberg_download(body: str, title: str, path: str) -> bytes:
    header = (
        f"\ufeffThe Project Gutenberg EBook of {title}\n\nSee www.gutenberg.org\n\n"
        f"*** START OF THIS PROJECT GUTENBERG EBOOK {title.upper()} ***\n\n\n\n\n"
        "Produced by A. Volunteer, and the Online Distributed\n"
        "Proofreading Team at http://www.pgdp.net\n\n\n\n"
    )
    footer = (
        f"\n\n\n\nEnd of the Project Gutenberg EBook of {title}\n\n"
        "*** END OF THIS PROJECT GUTENBERG EBOOK ***\n\nLicence.\n"
    )
    text = (header + body.replace("\n", "  \n") + footer).replace("\n", "\r\n")
    if path.endswith("-8.txt"):
        return text.removeprefix("\ufeff").encode("cp1252")
    return text.encode("utf-8")


def test_every_reference_book_survives_the_gutenberg_normaliser_byte_for_byte() -> None:
    for book in load_manifest().books:
        body = (SHARED_DATA / book.file).read_text(encoding="utf-8")
        raw = as_gutenberg_download(body, Path(book.file).stem, book.source.path)
        out = normalize_book(raw, book.source.path).encode("utf-8")
        assert sha256_of(out) == book.sha256, book.file


def test_reference_stories_pass_the_story_pipeline_unchanged() -> None:
    """Normalisation is idempotent on the reference records, dedup drops none of them, the
    extra file shares no story with stories.txt, and rendering gives the reference bytes."""
    plan = load_manifest().tinystories
    dedup = tinystories.Deduplicator()
    for target in ("stories", "extra"):
        output = plan.output(target)
        records = tinystories.parse((SHARED_DATA / output.file).read_bytes(), "endoftext")
        kept, [tally] = tinystories.build([(output.file, target, 100, records)], dedup)
        assert tally.kept == tally.parsed == output.records
        assert sha256_of(tinystories.render(kept)) == output.sha256
