"""Turn a training run's best export into a bundled checkpoint with a complete card.

The card gets the full validation figures (bits per character per part and per genre, over every
validation document, not the sample the run monitored) and the sample figures (variety and
control accuracy at the default sampling settings).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generators.checkpoint import load_checkpoint, save_checkpoint
from generators.evaluation.bits_per_char import score_texts
from generators.evaluation.language_model import evaluate_samples
from generators.text.corpus import CorpusReport, load_documents
from generators.train.cards import lstm_card


def validation_figures(run_dir: Path, model, tokenizer) -> dict[str, float]:
    documents = [d for d in load_documents(run_dir / "documents.jsonl") if d.split == "validation"]
    figures: dict[str, float] = {}
    parts = {
        "children": [d for d in documents if d.genre == "children"],
        "books": [d for d in documents if d.genre != "children"],
    }
    for name, docs in parts.items():
        score = score_texts(model, tokenizer, [d.text for d in docs], [d.genre for d in docs])
        figures[f"val_bpc_{name}"] = score.bits_per_char
        figures[f"val_chars_{name}"] = score.characters
    for genre in sorted({d.genre for d in documents}):
        docs = [d for d in documents if d.genre == genre]
        score = score_texts(model, tokenizer, [d.text for d in docs], [genre] * len(docs))
        figures[f"val_bpc_{genre}"] = score.bits_per_char
    plain = parts["children"]
    score = score_texts(model, tokenizer, [d.text for d in plain], None)
    figures["val_bpc_children_no_genre_token"] = score.bits_per_char
    return figures


def finalize_lstm(
    run_dir: Path, dest: Path, samples_per_condition: int = 3, data_dir: Path | None = None
) -> dict[str, Any]:
    best = run_dir / "best"
    loaded = load_checkpoint(best)
    figures = validation_figures(run_dir, loaded.model, loaded.tokenizer)
    if samples_per_condition:
        figures.update(evaluate_samples(best, samples_per_condition, data_dir))
    report = CorpusReport(**json.loads((run_dir / "corpus_report.json").read_text()))
    config = loaded.config.get("training", {})
    card = lstm_card(
        dest.name,
        report,
        config,
        loaded.config.get("validation", {}),
        int(loaded.config.get("parameters", 0)),
        evaluation=figures,
    )
    card += (
        "\n## Files\n\n`model.safetensors` (float16), `tokenizer.json` (byte-level BPE), "
        "`config.json` (architecture, training config, checksums). Loss curve of the run: "
        "`loss_curve.png`.\n"
    )
    save_checkpoint(
        dest,
        loaded.model,
        family="lstm",
        model_config=loaded.config["model"],
        tokenizer=loaded.tokenizer,
        card=card,
        info={
            "training": config,
            "validation": loaded.config.get("validation", {}),
            "evaluation": figures,
            "source_run": str(run_dir),
        },
    )
    curve = run_dir / "loss_curve.png"
    if curve.exists():
        (dest / "loss_curve.png").write_bytes(curve.read_bytes())
    return figures
