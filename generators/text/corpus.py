"""Reading the training corpora into tagged documents with a deterministic split.

TinyStories records become `children` documents; each Gutenberg book is cut at paragraph
boundaries into passages of about `passage_chars` characters tagged with the book's genre folder.
The split is decided by a hash of each document's text, so it does not move when files are added
or reordered, and a document never lands in both splits.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from generators.text.mood import mood_of
from generators.text.normalize import normalize_text
from generators.text.recase import learn_names, recase

TINYSTORIES_SEPARATOR = "<|endoftext|>"
RECASED_SOURCE = "tinystories/extra_lowercased_stories.txt (recased)"
"""Extra stories that exist only lower-cased upstream; recased, and always training data, so the
validation split stays the cased stories that a real reader writes."""
MIN_DOCUMENT_CHARS = 100


@dataclass(frozen=True)
class Document:
    text: str
    genre: str
    source: str
    mood: str
    split: str


@dataclass
class CorpusReport:
    """What the pipeline read, kept and dropped; goes into the checkpoint card."""

    documents: int = 0
    dropped_short: int = 0
    dropped_moderation: int = 0
    redacted_moderation: int = 0
    by_genre: dict[str, int] = field(default_factory=dict)
    by_mood: dict[str, int] = field(default_factory=dict)
    by_split: dict[str, int] = field(default_factory=dict)
    characters: dict[str, int] = field(default_factory=dict)
    moderation_by_category: dict[str, int] = field(default_factory=dict)


def split_of(text: str, validation_share: float = 0.05) -> str:
    """`train` or `validation`, from a stable hash of the text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    bucket = int.from_bytes(digest[:8], "big") / 2**64
    return "validation" if bucket < validation_share else "train"


def read_tinystories(path: Path) -> Iterator[str]:
    """Yield stories from a file whose records end with a `<|endoftext|>` line."""
    record: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip() == TINYSTORIES_SEPARATOR:
                if record:
                    yield "".join(record)
                record = []
            else:
                record.append(line)
    if record:
        yield "".join(record)


def book_passages(text: str, passage_chars: int = 2000) -> Iterator[str]:
    """Cut a book into passages of whole paragraphs of at least `passage_chars` characters."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    current: list[str] = []
    size = 0
    for paragraph in paragraphs:
        current.append(paragraph)
        size += len(paragraph) + 2
        if size >= passage_chars:
            yield "\n\n".join(current)
            current, size = [], 0
    if current:
        yield "\n\n".join(current)


def iter_raw_documents(
    data_dir: Path, passage_chars: int = 2000, include_lowercased: bool = False
) -> Iterator[tuple[str, str, str]]:
    """Yield (text, genre, source) for every document under `data_dir`, unnormalized."""
    tiny = data_dir / "tinystories"
    cased = tiny / "stories.txt"
    if cased.exists():
        for story in read_tinystories(cased):
            yield story, "children", "tinystories/stories.txt"
    lowercased = tiny / "extra_lowercased_stories.txt"
    if include_lowercased and lowercased.exists() and cased.exists():
        names = learn_names(read_tinystories(cased))
        for story in read_tinystories(lowercased):
            yield recase(story, names), "children", RECASED_SOURCE
    gutenberg = data_dir / "gutenberg"
    if gutenberg.is_dir():
        for genre_dir in sorted(p for p in gutenberg.iterdir() if p.is_dir()):
            for book in sorted(genre_dir.glob("*.txt")):
                text = book.read_text(encoding="utf-8")
                for passage in book_passages(text, passage_chars):
                    yield passage, genre_dir.name, f"gutenberg/{genre_dir.name}/{book.name}"


TextCheck = Callable[[list[str]], list[tuple[str, str | None, list[str]]]]
"""Moderation hook for cleaning: texts -> (verdict, redacted text or None, categories) each."""


def build_corpus(
    data_dir: Path,
    *,
    passage_chars: int = 2000,
    validation_share: float = 0.05,
    include_lowercased: bool = False,
    genres: list[str] | None = None,
    moderate: TextCheck | None = None,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> tuple[list[Document], CorpusReport]:
    """Read, normalize, clean, tag and split the corpus under `data_dir`."""
    if not data_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {data_dir}")
    report = CorpusReport()
    raw = [
        item
        for item in iter_raw_documents(data_dir, passage_chars, include_lowercased)
        if genres is None or item[1] in genres
    ]
    if not raw:
        raise FileNotFoundError(f"no tinystories/ or gutenberg/ text under {data_dir}")
    normalized = []
    for text, genre, source in raw:
        text = normalize_text(text)
        if len(text) < MIN_DOCUMENT_CHARS:
            report.dropped_short += 1
            continue
        normalized.append((text, genre, source))
    if moderate is not None:
        normalized = _moderate(normalized, moderate, report)
    iterator: Iterable = normalized if progress is None else progress(normalized)
    documents = []
    seen: set[str] = set()
    for text, genre, source in iterator:
        if text in seen:
            continue
        seen.add(text)
        split = "train" if source == RECASED_SOURCE else split_of(text, validation_share)
        documents.append(Document(text, genre, source, mood_of(text), split))
    report.documents = len(documents)
    report.by_genre = dict(Counter(d.genre for d in documents))
    report.by_mood = dict(Counter(d.mood for d in documents))
    report.by_split = dict(Counter(d.split for d in documents))
    chars: Counter[str] = Counter()
    for d in documents:
        chars[d.split] += len(d.text)
    report.characters = dict(chars)
    return documents, report


def _moderate(
    docs: list[tuple[str, str, str]], moderate: TextCheck, report: CorpusReport
) -> list[tuple[str, str, str]]:
    kept = []
    categories: Counter[str] = Counter()
    verdicts = moderate([text for text, _, _ in docs])
    for (text, genre, source), (verdict, redacted, cats) in zip(docs, verdicts, strict=True):
        categories.update(cats)
        if verdict == "block":
            report.dropped_moderation += 1
            continue
        if verdict == "redact" and redacted is not None:
            report.redacted_moderation += 1
            text = redacted
        kept.append((text, genre, source))
    report.moderation_by_category = dict(categories)
    return kept


def save_documents(documents: list[Document], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for doc in documents:
            handle.write(json.dumps(asdict(doc), ensure_ascii=False) + "\n")


def load_documents(path: Path) -> list[Document]:
    with path.open(encoding="utf-8") as handle:
        return [Document(**json.loads(line)) for line in handle if line.strip()]
