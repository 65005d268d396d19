"""`talewright data download` against a loopback HTTP server serving synthetic sources the test
writes itself (never corpus text): download, normalisation, checksums, refusal of a corrupted
file, resume, retries, and the CLI end to end."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.cli.main import main
from generators.data import tinystories
from generators.data.download import DownloadOptions, download_corpus
from generators.data.fetch import Fetcher, FetchError
from generators.data.gutenberg import GutenbergFormatError, normalize_book
from generators.data.manifest import ManifestError, load_manifest
from generators.text.corpus import build_corpus

BOOK_BODY = (
    "THE LANTERN KEEPER\n\nBy Nobody In Particular\n\n\n\n\nCHAPTER I.\n\n"
    "Mira lit the lantern at dusk, as she did every night,   \n"
    "and watched the boats come home across the bay.\n\n"
    "\u201cNot yet,\u201d said the gull. \u201cNot yet.\u201d\n"
)
BOOK_EXPECTED = (
    "THE LANTERN KEEPER\n\nBy Nobody In Particular\n\n\nCHAPTER I.\n\n"
    "Mira lit the lantern at dusk, as she did every night,\n"
    "and watched the boats come home across the bay.\n\n"
    "\u201cNot yet,\u201d said the gull. \u201cNot yet.\u201d\n"
)
POEM_BODY = "SONG OF THE TIN CAN\n\n     A tin can rolled down the hill,\n     caf\u00e9 and all.\n"


def pg_file(body: str, title: str) -> str:
    """A Project Gutenberg style file around `body`: header, credits, footer, CRLF."""
    text = (
        f"The Project Gutenberg EBook of {title}\n\nSee www.gutenberg.org\n\n"
        f"*** START OF THIS PROJECT GUTENBERG EBOOK {title.upper()} ***\n\n\n"
        "Produced by A. Volunteer and the Online Distributed\nProofreading Team\n\n"
        "This file was made from scans at http://example.org/scans\n\n"
        f"{body}\n\n\nEnd of the Project Gutenberg EBook of {title}\n\n"
        "*** END OF THIS PROJECT GUTENBERG EBOOK ***\n\nLicence text.\n"
    )
    return text.replace("\n", "\r\n")


STORY_A = (
    "Once upon a time, a little fox named Pip found a red ball in the park. He rolled it to "
    "his friend the bear, and they played until the sun went down."
)
STORY_B = (
    "Tom had a blue kite. One windy day the kite flew over the tall tree. Tom was sad, but "
    "his sister climbed up and brought it back. They flew it together all afternoon."
)
STORY_C = (
    "Lily liked to bake cookies with her grandma. They made star cookies and moon cookies. "
    "Lily gave the biggest one to her dog, who wagged his tail and barked with joy."
)
STORY_D = (
    "the little duck wanted to swim in the big pond. mom said to wait for her. the duck waited, "
    "and then they swam together to the other side, where the water lilies grew."
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def render(stories: list[str]) -> bytes:
    return "".join(f"{s}\n<|endoftext|>\n" for s in stories).encode()


class Server:
    """Serves `files` by URL path; `failures[path]` requests answer 503 before the file."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.failures: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests[self.path] += 1
                if owner.failures[self.path] > 0:
                    owner.failures[self.path] -= 1
                    self.send_error(503)
                    return
                body = owner.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.close()


C1 = "a" * 40
C2 = "b" * 40


@pytest.fixture
def corpus_site(server: Server, tmp_path: Path) -> Path:
    """Serves two books and three TinyStories sources; returns the manifest that pins them."""
    book = pg_file(BOOK_BODY, "The Lantern Keeper").encode("utf-8")
    poem = pg_file(POEM_BODY, "Song").encode("cp1252")
    server.files[f"/GITenberg/Lantern_1/{C1}/1-0.txt"] = book
    server.files[f"/GITenberg/Song_2/{C2}/2-8.txt"] = poem
    sample = (  # byte-truncated: the last story is partial; mojibake quotes as upstream
        f"{STORY_A}\n<|endoftext|>\n{STORY_B.replace('Tom was sad', 'Tom  was sad')}\n"
        "<|endoftext|>\nShort one.\n<|endoftext|>\nHalf a sto"
    )
    sample = sample.replace("red ball", "\u00e2\u20ac\u0153red\u00e2\u20ac\u009d ball", 1)
    server.files[f"/someone/sample/{C1}/sample.txt"] = sample.encode("utf-8")
    texts = {"texts": [STORY_A.upper().lower(), STORY_C, STORY_B[:120]]}
    server.files[f"/other/app/{C2}/tiny.json"] = json.dumps(texts).encode()
    lower = f"{STORY_A.lower()}\n<|endoftext|>\n{STORY_D}\n<|endoftext|>\n"
    server.files[f"/third/lower/{C1}/lower.txt"] = lower.encode()

    stories = render([STORY_A.replace("red ball", "\u201cred\u201d ball"), STORY_B, STORY_C])
    stories = stories.replace("\u201cred\u201d".encode(), b'"red"')
    extra = render([STORY_D])
    manifest = tmp_path / "sources.toml"
    manifest.write_text(
        f"""
base_url = "{server.url}"

[tinystories]
record_tolerance = 0.05

[[tinystories.outputs]]
file = "tinystories/stories.txt"
bytes = {len(stories)}
sha256 = "{sha(stories)}"
records = 3

[[tinystories.outputs]]
file = "tinystories/extra_lowercased_stories.txt"
bytes = {len(extra)}
sha256 = "{sha(extra)}"
records = 1

[[tinystories.sources]]
repo = "someone/sample"
path = "sample.txt"
commit = "{C1}"
layout = "endoftext_truncated"
parsed = 3
kept = 2
target = "stories"

[[tinystories.sources]]
repo = "other/app"
path = "tiny.json"
commit = "{C2}"
layout = "json_texts"
parsed = 3
kept = 1
target = "stories"

[[tinystories.sources]]
repo = "third/lower"
path = "lower.txt"
commit = "{C1}"
layout = "endoftext"
parsed = 2
kept = 1
target = "extra"

[[gutenberg]]
file = "gutenberg/tales/lantern_keeper_pg1.txt"
repo = "GITenberg/Lantern_1"
path = "1-0.txt"
commit = "{C1}"
bytes = {len(BOOK_EXPECTED.encode())}
sha256 = "{sha(BOOK_EXPECTED.encode())}"

[[gutenberg]]
file = "gutenberg/poetry/song_pg2.txt"
repo = "GITenberg/Song_2"
path = "2-8.txt"
commit = "{C2}"
bytes = {len(POEM_BODY.encode())}
sha256 = "{sha(POEM_BODY.encode())}"
""",
        encoding="utf-8",
    )
    return manifest


def held_out_reference(manifest: str, records: int) -> str:
    """The manifest as if the reference stories.txt had other bytes and `records` records."""
    head, tail = manifest.split('file = "tinystories/stories.txt"', 1)
    tail = re.sub(r'sha256 = "[0-9a-f]+"', f'sha256 = "{"f" * 64}"', tail, count=1)
    tail = tail.replace("records = 3", f"records = {records}", 1)
    return head + 'file = "tinystories/stories.txt"' + tail


def quiet(**kwargs: object) -> DownloadOptions:
    return DownloadOptions(progress=False, **kwargs)  # type: ignore[arg-type]


def fast_fetcher() -> Fetcher:
    return Fetcher(attempts=3, backoff_s=0.0, timeout_s=10)


def test_downloads_normalises_and_verifies(corpus_site: Path, tmp_path: Path) -> None:
    dest = tmp_path / "corpus"
    with fast_fetcher() as fetcher:
        report = download_corpus(dest, load_manifest(corpus_site), quiet(), fetcher)
    statuses = {r.file: r.status for r in report.results}
    assert statuses == {
        "gutenberg/tales/lantern_keeper_pg1.txt": "ok",
        "gutenberg/poetry/song_pg2.txt": "ok",
        "tinystories/stories.txt": "ok",
        "tinystories/extra_lowercased_stories.txt": "ok",
    }
    assert (dest / "gutenberg/tales/lantern_keeper_pg1.txt").read_text() == BOOK_EXPECTED
    assert (dest / "gutenberg/poetry/song_pg2.txt").read_text() == POEM_BODY
    stories = (dest / "tinystories/stories.txt").read_text()
    assert stories.count("<|endoftext|>") == 3
    assert '"red" ball' in stories and "Tom was sad" in stories
    assert (dest / "tinystories/extra_lowercased_stories.txt").read_bytes() == render([STORY_D])
    assert not (dest / ".sources").exists()
    assert report.notes == []
    assert report.lines()[-1] == "4 files: 4 ok"
    documents, _ = build_corpus(dest, include_lowercased=True)
    assert {d.genre for d in documents} == {"children", "tales"}  # the poem is too short


def test_a_corrupted_book_is_refused_with_one_clear_line(
    corpus_site: Path, server: Server, tmp_path: Path
) -> None:
    path = f"/GITenberg/Lantern_1/{C1}/1-0.txt"
    server.files[path] = server.files[path].replace(b"the gull", b"the gulp")
    dest = tmp_path / "corpus"
    with fast_fetcher() as fetcher:
        report = download_corpus(dest, load_manifest(corpus_site), quiet(), fetcher)
    [failed] = report.failed
    assert failed.file == "gutenberg/tales/lantern_keeper_pg1.txt"
    assert "changed or arrived corrupted; not written" in failed.detail
    assert "GITenberg/Lantern_1@aaaaaaaaaaaa:1-0.txt" in failed.detail
    assert not (dest / failed.file).exists()
    assert not list(dest.rglob("*.part"))
    assert (dest / "gutenberg/poetry/song_pg2.txt").exists()
    assert any(line.startswith("FAILED gutenberg/tales/") for line in report.lines())


def test_accept_mismatch_keeps_the_differing_book_and_says_so(
    corpus_site: Path, server: Server, tmp_path: Path
) -> None:
    path = f"/GITenberg/Lantern_1/{C1}/1-0.txt"
    server.files[path] = server.files[path].replace(b"the gull", b"the gulp")
    dest = tmp_path / "corpus"
    manifest = load_manifest(corpus_site)
    with fast_fetcher() as fetcher:
        report = download_corpus(dest, manifest, quiet(accept_mismatch=True), fetcher)
        [differs] = [r for r in report.results if r.status == "differs"]
        assert "the reference is" in differs.detail
        assert "the gulp" in (dest / differs.file).read_text()
        again = download_corpus(dest, manifest, quiet(accept_mismatch=True), fetcher)
    assert {r.status for r in again.results} == {"present"}


def test_a_rerun_skips_verified_files_and_refetches_a_damaged_one(
    corpus_site: Path, server: Server, tmp_path: Path
) -> None:
    dest = tmp_path / "corpus"
    manifest = load_manifest(corpus_site)
    with fast_fetcher() as fetcher:
        download_corpus(dest, manifest, quiet(), fetcher)
        first = sum(server.requests.values())
        again = download_corpus(dest, manifest, quiet(), fetcher)
        assert {r.status for r in again.results} == {"present"}
        assert sum(server.requests.values()) == first
        (dest / "gutenberg/poetry/song_pg2.txt").write_text("truncated")
        third = download_corpus(dest, manifest, quiet(), fetcher)
    assert [r.status for r in third.results].count("ok") == 1
    assert sum(server.requests.values()) == first + 1
    assert (dest / "gutenberg/poetry/song_pg2.txt").read_text() == POEM_BODY


def test_rebuilt_stories_within_tolerance_are_kept_and_reported(
    corpus_site: Path, tmp_path: Path
) -> None:
    """The reference build removed held-out stories: a rebuild that differs only within the
    record tolerance is written, reported as rebuilt, and skipped on the next run."""
    corpus_site.write_text(held_out_reference(corpus_site.read_text(), records=3))
    dest = tmp_path / "corpus"
    manifest = load_manifest(corpus_site)
    with fast_fetcher() as fetcher:
        report = download_corpus(dest, manifest, quiet(), fetcher)
        [rebuilt] = [r for r in report.results if r.status == "rebuilt"]
        assert rebuilt.file == "tinystories/stories.txt"
        assert "3 records" in rebuilt.detail and "reference 3 records" in rebuilt.detail
        again = download_corpus(dest, manifest, quiet(), fetcher)
    assert {r.status for r in again.results} == {"present"}


def test_stories_outside_tolerance_are_refused(corpus_site: Path, tmp_path: Path) -> None:
    corpus_site.write_text(held_out_reference(corpus_site.read_text(), records=60))
    dest = tmp_path / "corpus"
    with fast_fetcher() as fetcher:
        report = download_corpus(dest, load_manifest(corpus_site), quiet(), fetcher)
    [failed] = report.failed
    assert failed.file == "tinystories/stories.txt"
    assert "more than 5%" in failed.detail
    assert not (dest / "tinystories/stories.txt").exists()
    assert (dest / ".sources").is_dir(), "raw downloads stay for the rerun after a failure"


def test_per_source_counts_that_differ_are_noted(corpus_site: Path, tmp_path: Path) -> None:
    corpus_site.write_text(
        corpus_site.read_text().replace("parsed = 3\nkept = 1", "parsed = 4\nkept = 1")
    )
    with fast_fetcher() as fetcher:
        report = download_corpus(tmp_path / "c", load_manifest(corpus_site), quiet(), fetcher)
    assert report.notes == [
        f"other/app@{C2[:12]}:tiny.json: parsed 3, kept 1 (reference build: parsed 4, kept 1)"
    ]


def test_a_missing_source_fails_its_files_and_not_the_others(
    corpus_site: Path, server: Server, tmp_path: Path
) -> None:
    del server.files[f"/other/app/{C2}/tiny.json"]
    dest = tmp_path / "corpus"
    with fast_fetcher() as fetcher:
        report = download_corpus(dest, load_manifest(corpus_site), quiet(), fetcher)
    failed = {r.file: r.detail for r in report.failed}
    assert set(failed) == {"tinystories/stories.txt", "tinystories/extra_lowercased_stories.txt"}
    assert all(f"HTTP 404 for {server.url}/other/app/" in d for d in failed.values())
    assert (dest / "gutenberg/poetry/song_pg2.txt").exists()
    server.files[f"/other/app/{C2}/tiny.json"] = json.dumps({"texts": [STORY_C]}).encode()
    before = server.requests[f"/someone/sample/{C1}/sample.txt"]
    with fast_fetcher() as fetcher:
        resumed = download_corpus(dest, load_manifest(corpus_site), quiet(), fetcher)
    assert not resumed.failed
    assert server.requests[f"/someone/sample/{C1}/sample.txt"] == before, "cached raw reused"


def test_a_pinned_raw_checksum_refuses_a_corrupted_download(
    corpus_site: Path, tmp_path: Path
) -> None:
    text = corpus_site.read_text().replace(
        'path = "2-8.txt"', f'path = "2-8.txt"\nraw_sha256 = "{"0" * 64}"'
    )
    corpus_site.write_text(text)
    with fast_fetcher() as fetcher:
        report = download_corpus(
            tmp_path / "c", load_manifest(corpus_site), quiet(parts=("gutenberg",)), fetcher
        )
    [failed] = report.failed
    assert "pinned 000000000000: corrupted or changed" in failed.detail


def test_transient_errors_are_retried_with_doubling_backoff(server: Server) -> None:
    server.files["/f.txt"] = b"hello"
    server.failures["/f.txt"] = 2
    sleeps: list[float] = []
    with Fetcher(attempts=3, backoff_s=0.5, sleep=sleeps.append) as fetcher:
        assert fetcher.get(f"{server.url}/f.txt") == b"hello"
    assert sleeps == [0.5, 1.0]


def test_giving_up_says_why_in_one_line(server: Server) -> None:
    server.files["/f.txt"] = b"hello"
    server.failures["/f.txt"] = 5
    with Fetcher(attempts=2, backoff_s=0.0) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(f"{server.url}/f.txt")
    assert str(caught.value) == f"HTTP 503 for {server.url}/f.txt (gave up after 2 tries)"


def test_a_refused_connection_is_a_clear_error() -> None:
    with (
        Fetcher(attempts=2, backoff_s=0.0, timeout_s=5) as fetcher,
        pytest.raises(FetchError) as caught,
    ):
        fetcher.get("http://127.0.0.1:9/none.txt")
    assert "ConnectError" in str(caught.value) and "gave up after 2 tries" in str(caught.value)


def test_cli_end_to_end(corpus_site: Path, server: Server, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "corpus"
    args = ["data", "download", str(dest), "--manifest", str(corpus_site), "--no-progress"]
    assert main([*args, "--backoff", "0"]) == 0
    assert "4 files: 4 ok" in capsys.readouterr().out
    assert (dest / "gutenberg/tales/lantern_keeper_pg1.txt").read_text() == BOOK_EXPECTED
    path = f"/GITenberg/Song_2/{C2}/2-8.txt"
    server.files[path] = server.files[path].replace(b"hill", b"hull")
    (dest / "gutenberg/poetry/song_pg2.txt").unlink()
    assert main([*args, "--backoff", "0"]) == 1
    captured = capsys.readouterr()
    assert "FAILED gutenberg/poetry/song_pg2.txt:" in captured.err
    assert "3 present, 1 failed" in captured.out


def test_cli_base_url_overrides_the_manifest(
    corpus_site: Path, server: Server, tmp_path: Path
) -> None:
    corpus_site.write_text(corpus_site.read_text().replace(server.url, "http://127.0.0.1:9"))
    dest = tmp_path / "corpus"
    args = ["data", "download", str(dest), "--manifest", str(corpus_site), "--no-progress"]
    assert main([*args, "--base-url", server.url, "--only", "gutenberg"]) == 0
    assert sorted(p.name for p in dest.rglob("*.txt")) == ["lantern_keeper_pg1.txt", "song_pg2.txt"]


def test_cli_bad_manifest_is_one_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("base_url = ")
    assert main(["data", "download", str(tmp_path / "d"), "--manifest", str(bad)]) == 2
    assert "cannot read corpus manifest" in capsys.readouterr().err
    assert main(["data", "download", str(tmp_path / "d"), "--retries", "-1"]) == 2
    assert "--retries must be 0 or more" in capsys.readouterr().err
    with pytest.raises(ManifestError, match="missing or malformed field"):
        bad.write_text('[[gutenberg]]\nfile = "x"\n')
        load_manifest(bad)


def test_gutenberg_without_markers_is_refused() -> None:
    with pytest.raises(GutenbergFormatError, match="START OF"):
        normalize_book(b"Just a text.\n", "1.txt")


def test_small_print_era_files_start_after_the_small_print() -> None:
    raw = (
        b"**The Project Gutenberg Etext**\n\nlegal words\n\n"
        b"*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\n\n"
        b"The Tale\n\nIt began.\n\nEnd of the Project Gutenberg Etext\n"
    )
    assert normalize_book(raw, "9.txt") == "The Tale\n\nIt began.\n"


def test_stories_are_normalised_as_the_data_readme_says() -> None:
    raw = (
        "\u00e2\u20ac\u0153Hi,\u00e2\u20ac\u009d   said Ana\u2026\n\n  \u2018Bye\u2019\r\ncaf\u00e9"
    )
    assert tinystories.normalize_story(raw) == "\"Hi,\" said Ana...\n'Bye'\ncaf\u00e9"


def test_dedup_drops_variants_and_fragments_of_kept_stories() -> None:
    dedup = tinystories.Deduplicator()
    assert dedup.add(STORY_A)
    assert not dedup.add(STORY_A.upper().replace(",", " ,"))
    assert not dedup.add(STORY_A[30:130])
    assert not dedup.add(STORY_A[:40])
    assert dedup.add(STORY_B)


@pytest.mark.parametrize(
    ("layout", "raw", "records"),
    [
        ("hf_export", "p1\n\np2\nq1\n\nq2\n", ["p1\np2", "q1\nq2"]),
        ("lines", "one\n\ntwo\n", ["one", "two"]),
        ("json_list", '[{"story": "a"}, "b"]', ["a", "b"]),
        ("hf_rows", '{"rows": [{"row": {"text": "a"}}]}', ["a"]),
        (
            "resegment",
            "tail of a lost story\nOnce upon a time, x.\nmore\nOne day, a little girl y.\n",
            ["Once upon a time, x.\nmore", "One day, a little girl y."],
        ),
    ],
)
def test_source_layouts(layout: str, raw: str, records: list[str]) -> None:
    assert tinystories.parse(raw.encode(), layout) == records


def test_a_source_in_the_wrong_layout_is_a_clear_error() -> None:
    with pytest.raises(tinystories.LayoutError, match="not json_texts layout"):
        tinystories.parse(b"plain text", "json_texts")
