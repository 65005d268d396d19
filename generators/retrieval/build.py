"""Building the passage index from a corpus folder, for `talewright data index` and
`python -m generators.retrieval build` (and `make retrieval-index`, which runs the latter)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tqdm import tqdm

from generators.paths import RETRIEVAL_INDEX_ENV, retrieval_index
from generators.retrieval.index import (
    FORMAT_VERSION,
    build_index,
    documents_for_index,
    poem_stanzas,
    save_index,
)


def build_from_corpus(data: Path, out: Path | None = None, if_missing: bool = False) -> int:
    """Build the index of `data`'s training documents into `out` (default: where the generators
    read it); an exit status, with what happened printed."""
    if out is None:
        out = retrieval_index()
        if out is None:
            print(f"retrieval is switched off (${RETRIEVAL_INDEX_ENV} is empty)")
            return 0
    if if_missing and _current(out):
        print(f"passage index already in {out}")
        return 0
    if not data.is_dir():
        print(f"error: corpus folder not found: {data}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    documents = documents_for_index(data)
    if not documents:
        print(f"error: no tinystories/ or gutenberg/ prose under {data}", file=sys.stderr)
        return 2
    index = build_index(
        documents,
        stanzas=poem_stanzas(data),
        progress=lambda d: tqdm(d, desc="indexing", unit="doc"),
        training_progress=lambda steps, group: tqdm(
            steps, desc=f"topic encoder ({group})", unit="batch"
        ),
    )
    save_index(index, out)
    manifest = index.manifest
    print(
        f"passage index: {manifest['entries']:,} passages from {manifest['documents']:,} "
        f"training documents and {manifest['stanzas']:,} stanzas "
        f"in {time.perf_counter() - started:.0f} s -> {out}"
    )
    return 0


def _current(folder: Path) -> bool:
    """Whether `folder` holds an index this version reads (an older one is rebuilt)."""
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return False
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("format") == FORMAT_VERSION
    except (OSError, ValueError):
        return False
