"""The pinned list of corpus sources (corpus_sources.toml), read into typed records.

The manifest is data, not code, so a new pin is a one-line edit that the tests check against the
reference corpus wherever it is present.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_MANIFEST = Path(__file__).with_name("corpus_sources.toml")
TINYSTORIES_LAYOUTS = frozenset(
    {"endoftext", "endoftext_truncated", "json_texts", "json_list", "hf_rows", "hf_export", "lines"}
    | {"resegment"}
)


class ManifestError(ValueError):
    """The manifest file is missing, not TOML, or lacks a field."""


@dataclass(frozen=True)
class Source:
    """One file of a public repository at a pinned commit."""

    repo: str
    path: str
    commit: str

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/{self.repo}/{self.commit}/{self.path}"

    @property
    def label(self) -> str:
        return f"{self.repo}@{self.commit[:12]}:{self.path}"


@dataclass(frozen=True)
class Book:
    """A Gutenberg output file and the raw text it is normalised from."""

    file: str
    source: Source
    bytes: int
    sha256: str
    raw_sha256: str | None = None


@dataclass(frozen=True)
class StorySource:
    source: Source
    layout: str
    parsed: int
    kept: int
    target: str
    min_chars: int = 100
    raw_sha256: str | None = None


@dataclass(frozen=True)
class StoryOutput:
    file: str
    bytes: int
    sha256: str
    records: int


@dataclass(frozen=True)
class TinyStoriesPlan:
    sources: tuple[StorySource, ...]
    outputs: tuple[StoryOutput, ...]
    record_tolerance: float

    def output(self, target: str) -> StoryOutput:
        name = "stories.txt" if target == "stories" else "extra_lowercased_stories.txt"
        return next(o for o in self.outputs if o.file.endswith(name))

    def recipe(self) -> str:
        """A fingerprint of every pin: a rebuilt file is only reused for the same recipe."""
        text = json.dumps([asdict(s) for s in self.sources], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Manifest:
    base_url: str
    books: tuple[Book, ...]
    tinystories: TinyStoriesPlan


def _source(entry: dict) -> Source:
    return Source(repo=entry["repo"], path=entry["path"], commit=entry["commit"])


def load_manifest(path: Path = DEFAULT_MANIFEST) -> Manifest:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"cannot read corpus manifest {path}: {exc}") from exc
    try:
        books = tuple(
            Book(
                file=b["file"],
                source=_source(b),
                bytes=b["bytes"],
                sha256=b["sha256"],
                raw_sha256=b.get("raw_sha256"),
            )
            for b in data.get("gutenberg", [])
        )
        tiny = data.get("tinystories", {})
        sources = tuple(
            StorySource(
                source=_source(s),
                layout=s["layout"],
                parsed=s["parsed"],
                kept=s["kept"],
                target=s["target"],
                min_chars=s.get("min_chars", 100),
                raw_sha256=s.get("raw_sha256"),
            )
            for s in tiny.get("sources", [])
        )
        outputs = tuple(
            StoryOutput(file=o["file"], bytes=o["bytes"], sha256=o["sha256"], records=o["records"])
            for o in tiny.get("outputs", [])
        )
        plan = TinyStoriesPlan(sources, outputs, float(tiny.get("record_tolerance", 0.05)))
        manifest = Manifest(data["base_url"], books, plan)
    except (KeyError, TypeError) as exc:
        raise ManifestError(f"corpus manifest {path}: missing or malformed field {exc}") from exc
    _validate(manifest, path)
    return manifest


def _validate(manifest: Manifest, path: Path) -> None:
    for story in manifest.tinystories.sources:
        if story.layout not in TINYSTORIES_LAYOUTS:
            raise ManifestError(f"corpus manifest {path}: unknown layout {story.layout!r}")
        if story.target not in {"stories", "extra"}:
            raise ManifestError(f"corpus manifest {path}: unknown target {story.target!r}")
    if manifest.tinystories.sources:
        targets = {s.target for s in manifest.tinystories.sources}
        for target in targets:
            try:
                manifest.tinystories.output(target)
            except StopIteration:
                raise ManifestError(f"corpus manifest {path}: no output for {target}") from None
