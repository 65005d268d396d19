"""Corpus and tokenizer preparation shared by every training entry point.

The cleaned, tagged, split corpus is cached under the run folder (documents.jsonl + report), and
the tokenizer is trained once per run on the training split, so a resumed run sees exactly the
same data and vocabulary.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from generators.text.corpus import (
    CorpusReport,
    Document,
    TextCheck,
    build_corpus,
    load_documents,
    save_documents,
)
from generators.text.tokenizer import TextTokenizer

log = logging.getLogger(__name__)


@dataclass
class PreparedCorpus:
    train: list[Document]
    validation: list[Document]
    report: CorpusReport
    tokenizer: TextTokenizer


def corpus_moderation_hook(level: str) -> TextCheck:
    """The moderation pipeline as build_corpus's cleaning hook: a document is dropped when it has
    a category that corpus cleaning drops (slurs, sexual content); everything else is kept as is,
    since public-domain fiction is full of violence and old oaths that a story model should know.
    """
    from generators.moderation import DROP_CATEGORIES, Moderator
    from generators.moderation.levels import check_level

    moderator = Moderator(use_classifier=False)
    checked = check_level(level)

    def check(texts: list[str]) -> list[tuple[str, str | None, list[str]]]:
        results = []
        for verdict in moderator.check_many(texts, checked, classify=False):
            dropped = DROP_CATEGORIES.intersection(verdict.categories)
            results.append(("block" if dropped else "allow", None, list(verdict.categories)))
        return results

    return check


def data_config(config: dict[str, Any], data_dir: Path | str | None) -> dict[str, Any]:
    """The run's [data] table, with the corpus folder a command line named (--data) in place
    of the configured one."""
    data_cfg = dict(config.get("data", {}))
    if data_dir is not None:
        data_cfg["path"] = str(data_dir)
    return data_cfg


def prepare_corpus(
    data_cfg: dict[str, Any], tokenizer_cfg: dict[str, Any], out_dir: Path
) -> PreparedCorpus:
    out_dir.mkdir(parents=True, exist_ok=True)
    docs_path = out_dir / "documents.jsonl"
    report_path = out_dir / "corpus_report.json"
    if docs_path.exists() and report_path.exists():
        documents = load_documents(docs_path)
        report = CorpusReport(**json.loads(report_path.read_text()))
    else:
        data_dir = Path(data_cfg.get("path", "../shared/data"))
        moderation_level = data_cfg.get("moderation_level", "teen")
        moderate = corpus_moderation_hook(moderation_level) if moderation_level != "off" else None
        documents, report = build_corpus(
            data_dir,
            passage_chars=data_cfg.get("passage_chars", 2000),
            validation_share=data_cfg.get("validation_share", 0.05),
            include_lowercased=data_cfg.get("include_lowercased", False),
            genres=data_cfg.get("genres"),
            moderate=moderate,
            progress=lambda items: tqdm(items, desc="tag moods", mininterval=5.0),
        )
        save_documents(documents, docs_path)
        report_path.write_text(json.dumps(asdict(report), indent=2) + "\n")
    tokenizer_path = out_dir / "tokenizer.json"
    train = [d for d in documents if d.split == "train"]
    validation = [d for d in documents if d.split == "validation"]
    if tokenizer_path.exists():
        tokenizer = TextTokenizer.load(tokenizer_path)
    else:
        tokenizer = TextTokenizer.train(
            (d.text for d in train),
            vocab_size=tokenizer_cfg.get("vocab_size", 8192),
            min_frequency=tokenizer_cfg.get("min_frequency", 2),
        )
        tokenizer.save(tokenizer_path)
    log.info("corpus: %d train, %d validation documents", len(train), len(validation))
    return PreparedCorpus(train, validation, report, tokenizer)
