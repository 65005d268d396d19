"""`talewright data download DEST`: fetch every pinned source, normalise it, verify, write.

A Gutenberg book must normalise to the reference file's exact bytes (sha256); TinyStories
files are rebuilt and checked by record count, because the reference build removed held-out
stories whose list is not public. Output files are written whole or not at all, a file
already present with the expected checksum is not fetched again, and every file that could
not be made gets one line saying why.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from generators.data import tinystories
from generators.data.fetch import Fetcher, FetchError, file_sha256, sha256_of, write_atomic
from generators.data.gutenberg import GutenbergFormatError, normalize_book
from generators.data.manifest import Book, Manifest, Source, StoryOutput, StorySource

SOURCES_DIR = ".sources"
STATE_FILE = ".corpus-build.json"
"""Checksums of files this tool wrote that differ from the reference by design (rebuilt
TinyStories) or by the user's choice (--accept-mismatch), so a rerun can skip them too."""


class SourceError(RuntimeError):
    """A downloaded source is not what the manifest pins."""


@dataclass(frozen=True)
class FileResult:
    file: str
    status: str
    """present (kept, verified), ok (written, identical to the reference), rebuilt (written,
    checked by record count), differs (written though it differs: --accept-mismatch), failed."""
    detail: str = ""


@dataclass
class DownloadReport:
    results: list[FileResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def lines(self) -> list[str]:
        out = [f"{r.status.upper()} {r.file}: {r.detail}" for r in self.results if r.detail]
        out += [f"note: {note}" for note in self.notes]
        counts = {s: sum(r.status == s for r in self.results) for s in _STATUSES}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        out.append(f"{len(self.results)} files: {summary or 'nothing to do'}")
        return out


_STATUSES = ("present", "ok", "rebuilt", "differs", "failed")


@dataclass
class DownloadOptions:
    base_url: str | None = None
    accept_mismatch: bool = False
    keep_sources: bool = False
    parts: tuple[str, ...] = ("gutenberg", "tinystories")
    progress: bool = True


class CorpusDownload:
    """One run of the download into `dest`."""

    def __init__(self, dest: Path, manifest: Manifest, fetcher: Fetcher, options: DownloadOptions):
        self.dest = dest
        self.manifest = manifest
        self.fetcher = fetcher
        self.options = options
        self.base_url = options.base_url or manifest.base_url
        self.state_path = dest / STATE_FILE
        self.state = _read_state(self.state_path)
        self.report = DownloadReport()

    def run(self) -> DownloadReport:
        books = self.manifest.books if "gutenberg" in self.options.parts else ()
        stories = self.manifest.tinystories if "tinystories" in self.options.parts else None
        total = len(books) + (len(stories.sources) if stories else 0)
        with tqdm(total=total, unit="file", disable=not self.options.progress) as bar:
            for book in books:
                bar.set_postfix_str(book.file, refresh=False)
                self.report.results.append(self._book(book))
                bar.update()
            if stories is not None and stories.sources:
                self._tinystories(bar.update)
        if not self.report.failed and not self.options.keep_sources:
            shutil.rmtree(self.dest / SOURCES_DIR, ignore_errors=True)
        return self.report

    def _book(self, book: Book) -> FileResult:
        recipe = _recipe(asdict(book))
        if self._present(book.file, book.sha256, recipe):
            return FileResult(book.file, "present")
        try:
            raw = self._fetch(book.source, book.raw_sha256, cache=self.options.keep_sources)
            data = normalize_book(raw, book.source.path).encode("utf-8")
        except (FetchError, SourceError) as exc:
            return FileResult(book.file, "failed", str(exc))
        except (GutenbergFormatError, UnicodeDecodeError) as exc:
            return FileResult(book.file, "failed", f"{book.source.label}: {exc}")
        if sha256_of(data) == book.sha256:
            write_atomic(self.dest / book.file, data)
            return FileResult(book.file, "ok")
        difference = (
            f"normalised text is {len(data):,} bytes (sha256 {sha256_of(data)[:12]}), "
            f"the reference is {book.bytes:,} bytes ({book.sha256[:12]})"
        )
        if not self.options.accept_mismatch:
            return FileResult(
                book.file,
                "failed",
                f"{difference}: {book.source.label} changed or arrived corrupted; not written "
                "(--accept-mismatch keeps it)",
            )
        self._write_recorded(book.file, data, recipe)
        return FileResult(book.file, "differs", difference)

    def _tinystories(self, advance: Callable[[int], object]) -> None:
        plan = self.manifest.tinystories
        recipe = plan.recipe()
        if all(self._present(o.file, o.sha256, recipe) for o in plan.outputs):
            advance(len(plan.sources))
            self.report.results += [FileResult(o.file, "present") for o in plan.outputs]
            return
        parsed: dict[str, list[tuple[StorySource, list[str]]]] = {"stories": [], "extra": []}
        errors = []
        for source in plan.sources:
            try:
                raw = self._fetch(source.source, source.raw_sha256, cache=True)
                parsed[source.target].append((source, tinystories.parse(raw, source.layout)))
            except (FetchError, SourceError) as exc:
                errors.append(str(exc))
            except (tinystories.LayoutError, UnicodeDecodeError) as exc:
                errors.append(f"{source.source.label}: {exc}")
            advance(1)
        if errors:
            reason = "; ".join(errors)
            self.report.results += [FileResult(o.file, "failed", reason) for o in plan.outputs]
            return
        dedup = tinystories.Deduplicator()
        for target in ("stories", "extra"):
            if not parsed[target]:
                continue
            items = [(s.source.label, s.target, s.min_chars, r) for s, r in parsed[target]]
            kept, tallies = tinystories.build(items, dedup)
            for (source, _), tally in zip(parsed[target], tallies, strict=True):
                self._note_tally(source, tally)
            output = plan.output(target)
            self.report.results.append(self._story_file(output, kept, recipe))

    def _note_tally(self, source: StorySource, tally: tinystories.SourceTally) -> None:
        if (tally.parsed, tally.kept) != (source.parsed, source.kept):
            self.report.notes.append(
                f"{tally.label}: parsed {tally.parsed:,}, kept {tally.kept:,} "
                f"(reference build: parsed {source.parsed:,}, kept {source.kept:,})"
            )

    def _story_file(self, output: StoryOutput, stories: list[str], recipe: str) -> FileResult:
        data = tinystories.render(stories)
        if sha256_of(data) == output.sha256:
            write_atomic(self.dest / output.file, data)
            return FileResult(output.file, "ok")
        tolerance = self.manifest.tinystories.record_tolerance
        drift = abs(len(stories) - output.records) / max(output.records, 1)
        detail = (
            f"{len(stories):,} records, {len(data):,} bytes (reference {output.records:,} "
            f"records, {output.bytes:,} bytes; not bit-identical: the reference build also "
            "removed held-out stories)"
        )
        if drift > tolerance and not self.options.accept_mismatch:
            return FileResult(
                output.file,
                "failed",
                f"{detail}: record count off by {drift:.1%}, more than {tolerance:.0%}; "
                "not written (--accept-mismatch keeps it)",
            )
        self._write_recorded(output.file, data, recipe)
        return FileResult(output.file, "rebuilt" if drift <= tolerance else "differs", detail)

    def _present(self, file: str, sha256: str, recipe: str) -> bool:
        path = self.dest / file
        if not path.is_file():
            return False
        actual = file_sha256(path)
        return actual == sha256 or self.state.get(file) == {"sha256": actual, "recipe": recipe}

    def _write_recorded(self, file: str, data: bytes, recipe: str) -> None:
        write_atomic(self.dest / file, data)
        self.state[file] = {"sha256": sha256_of(data), "recipe": recipe}
        write_atomic(self.state_path, json.dumps(self.state, indent=1, sort_keys=True).encode())

    def _fetch(self, source: Source, raw_sha256: str | None, *, cache: bool) -> bytes:
        cached = self.dest / SOURCES_DIR / source.repo / source.commit / source.path
        if cached.is_file():
            data = cached.read_bytes()
            if raw_sha256 is None or sha256_of(data) == raw_sha256:
                return data
        data = self.fetcher.get(source.url(self.base_url))
        if raw_sha256 is not None and sha256_of(data) != raw_sha256:
            raise SourceError(
                f"{source.label}: downloaded {len(data):,} bytes with sha256 "
                f"{sha256_of(data)[:12]}, pinned {raw_sha256[:12]}: corrupted or changed"
            )
        if cache:
            write_atomic(cached, data)
        return data


def _recipe(entry: dict) -> str:
    return hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()


def _read_state(path: Path) -> dict[str, dict[str, str]]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def download_corpus(
    dest: Path,
    manifest: Manifest,
    options: DownloadOptions | None = None,
    fetcher: Fetcher | None = None,
) -> DownloadReport:
    """Build the corpus folder `dest` (tinystories/, gutenberg/<genre>/) from `manifest`."""
    options = options or DownloadOptions()
    dest.mkdir(parents=True, exist_ok=True)
    if fetcher is not None:
        return CorpusDownload(dest, manifest, fetcher, options).run()
    with Fetcher() as own:
        return CorpusDownload(dest, manifest, own, options).run()
