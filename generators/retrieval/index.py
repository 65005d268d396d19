"""The passage index: every training sentence that follows at least two others, keyed by the
content words of the sentences before it.

Each entry is a place in a training document: its key is what the three sentences before it
talk about (TF-IDF over content words, names left out since they are recast anyway), its value
is the next one or two sentences, as a person wrote them. Only the `train` split goes in (the
same hash split as the language model's), so the continuation benchmark's validation stories
never meet their own next sentences.

On disk (one folder, no pickle): `sentences.txt` (one sentence per line), `entries.npz`
(document, first sentence, length and mood of each value; group and source of each document),
`keys.npz` (the sparse key matrix), `vocabulary.json`, `names.json` (name -> pronoun, learnt
from the same text), `stanzas.txt` (the training poetry's stanzas, for poems),
`topics-<group>.npz` and `.json` (each group's measure of topic fit and its words:
`TOPIC_MEASURES`) and `manifest.json` (what was read, which measure each group keeps, and the
format version).
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy import sparse

from generators.evaluation.story_fit import STOPWORDS
from generators.retrieval.recast import NameBook, learn_name_book
from generators.retrieval.topics import TopicEncoder, TopicFit, train_topic_encoder
from generators.retrieval.triggers import TriggerPairs, count_triggers
from generators.schemas import MOODS
from generators.text.corpus import MIN_DOCUMENT_CHARS, iter_raw_documents, split_of
from generators.text.mood import mood_of
from generators.text.normalize import normalize_text
from generators.text.sentences import split_sentences

FORMAT_VERSION = 7
"""3: the recased lower-case TinyStories copy is indexed too (`documents_for_index`).
4: each group's trigger pairs were counted and saved too.
5: books keep a learned topic encoder (`generators.retrieval.topics`) instead (`TOPIC_MEASURES`).
6: places are no longer names (`recast.PLACE_SHARE`), so they stay in the keys."""
GROUPS = ("children", "books")
KEY_WEIGHTS = (1.0, 0.6, 0.4)
"""Weight of the content words of the sentence just before the value, then the two before.
Also keying each passage by the seven sentences before those, at 0.2 (so that a query's story
words could meet its source story's earlier words; the index grew from 74 to 134 MB) raised
name reuse on validation seeds 0-3 (children 0.40 -> 0.47 on seed 0), but two blind readers of
the turns it changed rated them less coherent (children 2.46 against 2.68 on 28 turns, books
1.75 against 1.75 on 42) and kept them 65 times of 140, so keys stay three sentences long."""
TOPIC_MEASURES = {"children": "trigger-pairs", "books": "encoder"}
"""How each group measures a passage's topic fit under a story: children's stories by trigger-pair
counts (`generators.retrieval.triggers`), books by the learned encoder
(`generators.retrieval.topics`), which tells the true next sentences from the passages
retrieved for their moment far more often (74% against 39% of 150 validation book passages;
children's 59% against 50%). For books two blind readers of the 54 turns it changed on
validation seeds 0-3 rated them more coherent than the counts' (1.67 against 1.56) and more
fluent (4.51 against 4.28), keeping them 64 times of 108. For children's stories the same
readers rated the 40 turns it changed less coherent (2.12 against 2.46): its fit runs high for
any text on the story's subject, the model's own broken samples included; at half its weight two
other readers rated the 18 turns it changed 1.86 against 2.75."""
MIN_CONTEXT_SENTENCES = 2
OPENING_SENTENCES = 2
"""Sentences of a document that make an opening (`PassageIndex.opening_sentences`)."""
MAX_VALUE_CHARS = 320
MIN_VALUE_CHARS = 15
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_OPENERS = re.compile(r"^(?:once upon a time|once there was|the end\b)", re.IGNORECASE)
TWIST_OPENERS = re.compile(
    r"[\"'\u201c\u2018]?(?:Suddenly|All of a sudden|All at once|Just then|Then,? suddenly|"
    r"But (?:then|suddenly|just as)|Just as|Without warning|Out of nowhere|"
    r"At that (?:moment|instant)|"
    r"To (?:his|her|their|everyone's|our|my) (?:surprise|horror|amazement|dismay))\b"
)
"""How a passage that turns its story's course begins ("Suddenly, the telephone rang and
scared the dog."): about 2,200 of the children's 120,000 indexed values and 670 of the books'
214,000. A twist is served from these (`twist_entries`)."""


def group_of_genre(genre: str) -> str | None:
    """`children` for TinyStories, `books` for the Gutenberg prose, None for poetry."""
    if genre == "poetry":
        return None
    return "children" if genre == "children" else "books"


def key_words(text: str, names: NameBook) -> list[str]:
    """Lower-cased content words of `text` (three letters or more, no function words), names
    left out: a passage about Lily's kite should answer a story about Sam's kite."""
    out = []
    for word in _WORD.findall(text):
        lowered = word.lower()
        if len(word) < 3 or lowered in STOPWORDS:
            continue
        if word[:1].isupper() and names.is_name(word):
            continue
        out.append(lowered)
    return out


@dataclass
class PassageIndex:
    sentences: list[str]
    entry_doc: np.ndarray
    entry_start: np.ndarray
    entry_length: np.ndarray
    entry_mood: np.ndarray
    """Each value's mood (an index into `generators.schemas.MOODS`) by the mood judge, so a
    story that asks for a mood can be searched among passages in it."""
    doc_first: np.ndarray
    doc_group: np.ndarray
    doc_source: np.ndarray
    sources: list[str]
    keys: sparse.csc_matrix
    vocabulary: dict[str, int]
    idf: np.ndarray
    names: NameBook
    manifest: dict
    topics: dict[str, TopicFit]
    """Each group's measure of how well a passage's words suit the story's (`TOPIC_MEASURES`)."""
    stanzas: list[str] = field(default_factory=list)
    """Stanzas of the corpus's training poetry (`poem_stanzas`), lines joined by newlines: what
    a poem is served from."""

    def __len__(self) -> int:
        return len(self.entry_doc)

    @cached_property
    def twist_entries(self) -> np.ndarray:
        """Which values open with a turn of events (`TWIST_OPENERS`), read from the sentences on
        first use (a twentieth of a second for the whole corpus) rather than stored, so the
        index format stays as it is."""
        firsts = (self.sentences[int(start)] for start in self.entry_start)
        return np.fromiter(
            (bool(TWIST_OPENERS.match(s)) for s in firsts), dtype=bool, count=len(self)
        )

    def value(self, entry: int) -> str:
        return " ".join(self.value_sentences(entry))

    def value_sentences(self, entry: int) -> list[str]:
        start = int(self.entry_start[entry])
        return self.sentences[start : start + int(self.entry_length[entry])]

    def opening_sentences(self, doc: int) -> list[str]:
        """The first `OPENING_SENTENCES` sentences of a document: how its story begins."""
        first = int(self.doc_first[doc])
        end = int(self.doc_first[doc + 1]) if doc + 1 < len(self.doc_first) else len(self.sentences)
        return self.sentences[first : min(end, first + OPENING_SENTENCES)]

    @cached_property
    def opening_keys(self) -> sparse.csr_matrix:
        """Each document's opening as normalised TF-IDF over the keys' vocabulary, built on first
        use (a second or two for the whole corpus) so the index format stays as it is."""
        texts = (" ".join(self.opening_sentences(d)) for d in range(len(self.doc_first)))
        return self._text_keys(texts, len(self.doc_first))

    @cached_property
    def stanza_keys(self) -> sparse.csr_matrix:
        """Each stanza as normalised TF-IDF over the keys' vocabulary, built on first use."""
        return self._text_keys(self.stanzas, len(self.stanzas))

    def _text_keys(self, texts: Iterable[str], count: int) -> sparse.csr_matrix:
        rows, columns, values = [], [], []
        for row, text in enumerate(texts):
            counts = Counter(key_words(text, self.names))
            weights = {
                self.vocabulary[w]: c * float(self.idf[self.vocabulary[w]])
                for w, c in counts.items()
                if w in self.vocabulary
            }
            norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
            for column, value in weights.items():
                rows.append(row)
                columns.append(column)
                values.append(value / norm)
        shape = (count, len(self.vocabulary))
        return sparse.csr_matrix((values, (rows, columns)), shape=shape, dtype=np.float32)

    def search_stanzas(self, query: dict[int, float], top: int) -> list[tuple[int, float]]:
        """The `top` stanzas closest to `query`, best first, as (stanza, closeness)."""
        if not query or not self.stanzas:
            return []
        return _best(self.stanza_keys, query, top, np.ones(len(self.stanzas), dtype=bool))

    def search_openings(
        self,
        query: dict[int, float],
        group: str,
        top: int,
        exclude_source: str | None = None,
        genre: str | None = None,
    ) -> list[tuple[int, float]]:
        """The `top` documents of `group` (and, with `genre`, of that genre) whose openings are
        closest to `query`, best first, as (document, closeness)."""
        if not query:
            return []
        allowed = self.opening_documents(group, genre, exclude_source)
        return _best(self.opening_keys, query, top, allowed)

    def opening_documents(
        self, group: str, genre: str | None = None, exclude_source: str | None = None
    ) -> np.ndarray:
        """Which documents may open a story of `group` (and `genre`): a mask over documents."""
        mask = self.doc_group == GROUPS.index(group)
        if genre is not None:
            genres = np.array([self._genre_of_source(source) for source in self.sources])
            mask &= genres[self.doc_source] == genre
        if exclude_source is not None and exclude_source in self.sources:
            mask &= self.doc_source != self.sources.index(exclude_source)
        return mask

    def context(self, entry: int, sentences: int = 3) -> str:
        """The sentences of the entry's document just before its value."""
        start = int(self.entry_start[entry])
        first = max(int(self.doc_first[self.entry_doc[entry]]), start - sentences)
        return " ".join(self.sentences[first:start])

    def source_of(self, entry: int) -> str:
        return self.sources[int(self.doc_source[self.entry_doc[entry]])]

    def mood_of(self, entry: int) -> str:
        """The mood judge's verdict on the entry's value, as labelled when the index was built."""
        return MOODS[int(self.entry_mood[entry])]

    def genre_of(self, entry: int) -> str:
        """The genre folder of the entry's book (`gutenberg/<genre>/<book>`), `children` for
        TinyStories."""
        return self._genre_of_source(self.source_of(entry))

    @staticmethod
    def _genre_of_source(source: str) -> str:
        parts = source.split("/")
        return parts[1] if parts[0] == "gutenberg" and len(parts) > 2 else "children"

    def query_vector(self, weighted_words: Iterable[tuple[str, float]]) -> dict[int, float]:
        """Column -> weight for words the index knows, each weighted by its idf."""
        query: dict[int, float] = {}
        for word, weight in weighted_words:
            column = self.vocabulary.get(word)
            if column is not None:
                query[column] = query.get(column, 0.0) + weight * float(self.idf[column])
        return query

    def search(
        self,
        query: dict[int, float],
        group: str,
        top: int,
        exclude_source: str | None = None,
        mood: str | None = None,
        twists: bool = False,
    ) -> list[tuple[int, float]]:
        """The `top` entries of `group` whose keys are closest to `query` (dot product of
        normalised TF-IDF), best first; entries of `exclude_source` left out, with a `mood`,
        entries whose value is in another, and with `twists`, entries whose value does not
        open with a turn of events."""
        if not query:
            return []
        allowed = self.doc_group[self.entry_doc] == GROUPS.index(group)
        if mood is not None:
            allowed &= self.entry_mood == MOODS.index(mood)
        if twists:
            allowed &= self.twist_entries
        if exclude_source is not None and exclude_source in self.sources:
            allowed &= self.doc_source[self.entry_doc] != self.sources.index(exclude_source)
        return _best(self.keys, query, top, allowed)


def _best(
    keys: sparse.csr_matrix | sparse.csc_matrix,
    query: dict[int, float],
    top: int,
    allowed: np.ndarray,
) -> list[tuple[int, float]]:
    """The `top` allowed rows of `keys` closest to `query` (dot product), best first."""
    columns = np.fromiter(query.keys(), dtype=np.int64)
    weights = np.fromiter(query.values(), dtype=np.float32)
    norm = float(np.linalg.norm(weights)) or 1.0
    scores = np.asarray(keys[:, columns] @ (weights / norm)).ravel()
    scores[~allowed] = 0.0
    count = min(top, int(np.count_nonzero(scores > 0)))
    if count == 0:
        return []
    best = np.argpartition(-scores, count - 1)[:count]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(int(i), float(scores[i])) for i in best]


STANZA_LINES = (2, 8)
STANZA_LINE_CHARS = 60
_NOT_VERSE = re.compile(r"[\[\]_*{}<>|#=]|\d|Gutenberg|CONTENTS|Contents")


def stanza_of(paragraph: str) -> str | None:
    """A paragraph of a poetry book as a stanza to serve (its lines stripped), or None when it
    is not one: too few or too many lines (`STANZA_LINES`), a line too long for verse
    (`STANZA_LINE_CHARS`: Whitman's long lines read as prose in a chat), a line in capitals
    (a title), a first line that does not start with a capital, a last line that does not end
    a sentence, or notes, numbers and headings."""
    lines = [line.strip() for line in paragraph.split("\n") if line.strip()]
    low, high = STANZA_LINES
    if not low <= len(lines) <= high or _NOT_VERSE.search(paragraph):
        return None
    if any(len(line) > STANZA_LINE_CHARS or line.isupper() for line in lines):
        return None
    if not re.match(r"[\"'\u201c\u2018(]*[A-Z]", lines[0]) or len(" ".join(lines)) < 40:
        return None
    if not re.search(r"[.!?][\"'\u201d\u2019)]*$", lines[-1]):
        return None  # a stanza that runs on into the next reads cut off
    return "\n".join(lines)


def poem_stanzas(data_dir: Path) -> list[str]:
    """The stanzas of the corpus's training poetry (the same hash split as the documents'),
    each once."""
    out: list[str] = []
    seen: set[str] = set()
    for text, genre, _ in iter_raw_documents(data_dir):
        if genre != "poetry" or split_of(normalize_text(text)) != "train":
            continue
        for paragraph in text.split("\n\n"):
            stanza = stanza_of(paragraph)
            if stanza is not None and stanza not in seen:
                seen.add(stanza)
                out.append(stanza)
    return out


def documents_for_index(data_dir: Path) -> list[tuple[str, str, str]]:
    """(text, group, source) of every training document that the index reads: normalised like
    the language model's corpus, poetry left out, validation documents left out.

    The recased copy of the lower-case TinyStories file comes in too (2,676 stories that exist
    nowhere else): a children's story finds its passages among 46% more stories. On the
    validation split (seeds 0 and 1, served settings) that raised the children's content
    overlap 0.373 -> 0.390 and 0.462 -> 0.493, name reuse 0.433 -> 0.500 on seed 0, the words
    shared with the true next sentences 0.070 -> 0.087 on seed 0, and mood control
    (`--mood-only`, 40 stories a seed) 0.725 -> 0.750 on both seeds."""
    out = []
    seen: set[str] = set()
    for text, genre, source in iter_raw_documents(data_dir, include_lowercased=True):
        group = group_of_genre(genre)
        text = normalize_text(text)
        if group is None or len(text) < MIN_DOCUMENT_CHARS or text in seen:
            continue
        seen.add(text)
        if split_of(text) != "train":
            continue
        out.append((text, group, source))
    return out


def build_index(
    documents: Sequence[tuple[str, str, str]],
    progress: Callable[[Iterable], Iterable] | None = None,
    training_progress: Callable[[Iterable, str], Iterable] | None = None,
    stanzas: Sequence[str] = (),
) -> PassageIndex:
    """The index over `documents` ((text, group, source) each; see `documents_for_index`) and
    the poetry's `stanzas` (`poem_stanzas`); `progress` wraps the documents read,
    `training_progress` each group's topic-encoder batches."""
    names = learn_name_book(text for text, _, _ in documents)
    sentences: list[str] = []
    entry_doc: list[int] = []
    entry_start: list[int] = []
    entry_length: list[int] = []
    entry_mood: list[int] = []
    doc_first: list[int] = []
    doc_group: list[int] = []
    doc_source: list[int] = []
    sources: list[str] = []
    source_ids: dict[str, int] = {}
    key_rows: list[dict[str, float]] = []
    topic_documents: dict[str, list[list[tuple[int, list[str]]]]] = {g: [] for g in GROUPS}
    iterator: Iterable = documents if progress is None else progress(documents)
    for text, group, source in iterator:
        doc_sentences = [" ".join(s.split()) for s in split_sentences(text)]
        doc = len(doc_first)
        doc_first.append(len(sentences))
        doc_group.append(GROUPS.index(group))
        doc_source.append(source_ids.setdefault(source, len(source_ids)))
        if source_ids[source] == len(sources):
            sources.append(source)
        base = len(sentences)
        sentences += doc_sentences
        words = [key_words(s, names) for s in doc_sentences]
        topic_documents[group].append(
            [(len(s), w) for s, w in zip(doc_sentences, words, strict=True)]
        )
        for i in range(MIN_CONTEXT_SENTENCES, len(doc_sentences)):
            length = 2 if i + 1 < len(doc_sentences) else 1
            value = " ".join(doc_sentences[i : i + length])
            if len(value) > MAX_VALUE_CHARS:
                length, value = 1, doc_sentences[i]
            if not MIN_VALUE_CHARS <= len(value) <= MAX_VALUE_CHARS or _OPENERS.match(value):
                continue
            key: dict[str, float] = {}
            for back, weight in enumerate(KEY_WEIGHTS, start=1):
                if i - back >= 0:
                    for word in words[i - back]:
                        key[word] = max(key.get(word, 0.0), weight)
            if not key:
                continue
            entry_doc.append(doc)
            entry_start.append(base + i)
            entry_length.append(length)
            entry_mood.append(MOODS.index(mood_of(value)))
            key_rows.append(key)
    vocabulary, idf, keys = _tfidf(key_rows)
    manifest = {
        "format": FORMAT_VERSION,
        "documents": len(doc_first),
        "entries": len(entry_doc),
        "sentences": len(sentences),
        "by_group": dict(Counter(GROUPS[g] for g in doc_group)),
        "sources": len(sources),
        "stanzas": len(stanzas),
        "topic_measures": TOPIC_MEASURES,
    }
    return PassageIndex(
        sentences=sentences,
        entry_doc=np.asarray(entry_doc, dtype=np.int32),
        entry_start=np.asarray(entry_start, dtype=np.int32),
        entry_length=np.asarray(entry_length, dtype=np.int8),
        entry_mood=np.asarray(entry_mood, dtype=np.int8),
        doc_first=np.asarray(doc_first, dtype=np.int32),
        doc_group=np.asarray(doc_group, dtype=np.int8),
        doc_source=np.asarray(doc_source, dtype=np.int32),
        sources=sources,
        keys=keys,
        vocabulary=vocabulary,
        idf=idf,
        names=names,
        manifest=manifest,
        topics={
            group: _topic_measure(group, docs, training_progress)
            for group, docs in topic_documents.items()
        },
        stanzas=list(stanzas),
    )


def _tfidf(rows: list[dict[str, float]]) -> tuple[dict[str, int], np.ndarray, sparse.csc_matrix]:
    """Row-normalised TF-IDF (weights from `KEY_WEIGHTS` in place of counts), by column."""
    frequency: Counter[str] = Counter()
    for row in rows:
        frequency.update(row.keys())
    vocabulary = {word: column for column, word in enumerate(sorted(frequency))}
    total = max(len(rows), 1)
    idf = np.array(
        [math.log(total / (1 + frequency[word])) + 1.0 for word in sorted(frequency)],
        dtype=np.float32,
    )
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for row in rows:
        columns = [vocabulary[w] for w in row]
        values = np.array([row[w] for w in row], dtype=np.float32) * idf[columns]
        values /= float(np.linalg.norm(values)) or 1.0
        indices += columns
        data += values.tolist()
        indptr.append(len(indices))
    matrix = sparse.csr_matrix(  # the matrix (not array) API: `@` with a vector stays 1-D
        (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32), indptr),
        shape=(len(rows), len(vocabulary)),
    )
    return vocabulary, idf, sparse.csc_matrix(matrix)


_MEASURE_TYPES: dict[str, type[TriggerPairs] | type[TopicEncoder]] = {
    "trigger-pairs": TriggerPairs,
    "encoder": TopicEncoder,
}


def _topic_measure(
    group: str,
    documents: list[list[tuple[int, list[str]]]],
    training_progress: Callable[[Iterable, str], Iterable] | None,
) -> TopicFit:
    if TOPIC_MEASURES[group] != "encoder":
        return count_triggers(documents)
    if training_progress is None:
        return train_topic_encoder(documents)
    return train_topic_encoder(documents, progress=lambda steps: training_progress(steps, group))


def save_index(index: PassageIndex, folder: Path) -> None:
    """Write the index to `folder` atomically: a reader never sees half of one."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    (staging / "sentences.txt").write_text("\n".join(index.sentences) + "\n", encoding="utf-8")
    np.savez(
        staging / "entries.npz",
        entry_doc=index.entry_doc,
        entry_start=index.entry_start,
        entry_length=index.entry_length,
        entry_mood=index.entry_mood,
        doc_first=index.doc_first,
        doc_group=index.doc_group,
        doc_source=index.doc_source,
        idf=index.idf,
    )
    sparse.save_npz(staging / "keys.npz", index.keys, compressed=False)
    vocabulary = sorted(index.vocabulary, key=index.vocabulary.__getitem__)
    (staging / "vocabulary.json").write_text(json.dumps(vocabulary), encoding="utf-8")
    (staging / "sources.json").write_text(json.dumps(index.sources), encoding="utf-8")
    (staging / "names.json").write_text(json.dumps(index.names.to_json()), encoding="utf-8")
    (staging / "stanzas.txt").write_text("\n\n".join(index.stanzas), encoding="utf-8")
    for group, measure in index.topics.items():
        measure.save(staging / f"topics-{group}.npz")
        (staging / f"topics-{group}.json").write_text(json.dumps(measure.words()), encoding="utf-8")
    (staging / "manifest.json").write_text(json.dumps(index.manifest, indent=2), encoding="utf-8")
    if folder.exists():
        old = folder.with_name(f".{folder.name}-old-{os.getpid()}")
        folder.rename(old)
        staging.rename(folder)
        for path in old.iterdir():
            path.unlink()
        old.rmdir()
    else:
        staging.rename(folder)


class IndexUnavailable(ValueError):
    """The folder holds no index, or one this code cannot read."""


def load_index(folder: Path) -> PassageIndex:
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        raise IndexUnavailable(
            f"no passage index in {folder} (build one: python -m generators.retrieval build)"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexUnavailable(
            f"the passage index in {folder} has format {manifest.get('format')}; this version "
            f"reads format {FORMAT_VERSION}: rebuild it"
        )
    arrays = np.load(folder / "entries.npz", allow_pickle=False)
    sentences = (folder / "sentences.txt").read_text(encoding="utf-8").split("\n")[:-1]
    vocabulary = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
    return PassageIndex(
        sentences=sentences,
        entry_doc=arrays["entry_doc"],
        entry_start=arrays["entry_start"],
        entry_length=arrays["entry_length"],
        entry_mood=arrays["entry_mood"],
        doc_first=arrays["doc_first"],
        doc_group=arrays["doc_group"],
        doc_source=arrays["doc_source"],
        sources=json.loads((folder / "sources.json").read_text(encoding="utf-8")),
        keys=sparse.load_npz(folder / "keys.npz").tocsc(),
        vocabulary={word: column for column, word in enumerate(vocabulary)},
        idf=arrays["idf"],
        names=NameBook.from_json(json.loads((folder / "names.json").read_text(encoding="utf-8"))),
        manifest=manifest,
        topics={
            group: _MEASURE_TYPES[manifest["topic_measures"][group]].load(
                folder / f"topics-{group}.npz",
                json.loads((folder / f"topics-{group}.json").read_text(encoding="utf-8")),
            )
            for group in GROUPS
        },
        stanzas=[
            s for s in (folder / "stanzas.txt").read_text(encoding="utf-8").split("\n\n") if s
        ],
    )
