"""Model cards: what a checkpoint was trained on, how, and how well it does."""

from __future__ import annotations

import json
from typing import Any

from generators.text.corpus import CorpusReport


def _table(rows: dict[str, Any]) -> str:
    lines = ["| | |", "|---|---|"]
    for key, value in rows.items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    return "\n".join(lines)


def data_section(report: CorpusReport) -> str:
    return (
        "## Data\n\n"
        "TinyStories (CDLA-Sharing-1.0; `tinystories/stories.txt`) as genre `children`, and "
        "public-domain Project Gutenberg books (`gutenberg/<genre>/`) cut into passages of about "
        "2,000 characters at paragraph boundaries, tagged with their folder as genre. Sources and "
        "licenses: `shared/data/README.md`. Split by a SHA-256 hash of each document's text "
        "(5% validation). Mood labels from VADER valence plus small mood lexicons.\n\n"
        f"- documents: {report.documents} ({json.dumps(report.by_split)})\n"
        f"- characters: {json.dumps(report.characters)}\n"
        f"- by genre: {json.dumps(report.by_genre)}\n"
        f"- by mood: {json.dumps(report.by_mood)}\n"
        f"- dropped: {report.dropped_short} too short, {report.dropped_moderation} by moderation "
        f"(redacted {report.redacted_moderation}; categories "
        f"{json.dumps(report.moderation_by_category)})\n"
    )


def lstm_card(
    model_id: str,
    report: CorpusReport,
    config: dict[str, Any],
    metrics: dict[str, Any],
    parameters: int,
    evaluation: dict[str, Any] | None = None,
) -> str:
    model = config.get("model", {})
    summary = (
        f"A {model.get('num_layers', 2)}-layer LSTM (embedding {model.get('embed_dim')}, hidden "
        f"{model.get('hidden_dim')}, tied output embedding), {parameters / 1e6:.2f}M parameters, "
        f"byte-level BPE vocabulary of {config.get('tokenizer', {}).get('vocab_size')} with "
        "control tokens for genre, mood, kind of turn, speaker and premise. Weights stored as "
        "float16 safetensors."
    )
    return _language_model_card(
        f"{model_id}: LSTM language model", summary, report, config, metrics, evaluation
    )


def transformer_card(
    model_id: str,
    report: CorpusReport,
    config: dict[str, Any],
    metrics: dict[str, Any],
    parameters: int,
    evaluation: dict[str, Any] | None = None,
) -> str:
    model = config.get("model", {})
    summary = (
        f"A decoder-only transformer in the Hugging Face Llama layout ({model.get('num_layers')} "
        f"layers, width {model.get('hidden_size')}, {model.get('num_heads')} heads, feed-forward "
        f"{model.get('intermediate_size')}, rotary positions up to {model.get('max_positions')}, "
        f"tied output embedding), {parameters / 1e6:.2f}M parameters, byte-level BPE vocabulary "
        f"of {config.get('tokenizer', {}).get('vocab_size', 8192)} with control tokens for genre, "
        "mood, kind of turn, speaker and premise. Weights stored as float16 safetensors; the "
        "folder loads with `AutoModelForCausalLM.from_pretrained` and "
        "`PreTrainedTokenizerFast(tokenizer_file=...)`; the project's record is talewright.json."
    )
    return _language_model_card(
        f"{model_id}: transformer language model", summary, report, config, metrics, evaluation
    )


def _language_model_card(
    title: str,
    summary: str,
    report: CorpusReport,
    config: dict[str, Any],
    metrics: dict[str, Any],
    evaluation: dict[str, Any] | None,
) -> str:
    sections = [
        f"# {title}\n",
        summary + "\n",
        data_section(report),
        "## Training run\n\n```json\n" + json.dumps(config, indent=2) + "\n```\n",
        "## Validation at export\n\n" + _table(metrics) + "\n",
    ]
    if evaluation:
        sections.append("## Evaluation\n\n" + _table(evaluation) + "\n")
    return "\n".join(sections)


PAPER_NLL_ORACLE = {"mle": 9.038, "seqgan": 8.736}
"""Yu et al. 2017, Table 1 (vocabulary 5,000, length 20, 10,000 training sequences)."""


def seqgan_summary(metrics: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    """Validation figures before (round 0: MLE-pretrained) and after adversarial training, from
    a SeqGAN run's metrics rows."""
    rows = [r for r in metrics if r.get("kind") == "validation"]
    first, last = rows[0], rows[-1]
    keys = [k for k in first if k not in ("kind", "round", "samples", "time")]
    summary: dict[str, Any] = {
        "mode": mode,
        "rounds": last["round"],
        "pretrained": {k: first[k] for k in keys},
        "adversarial": {k: last[k] for k in keys},
    }
    if mode == "oracle":
        summary["paper"] = PAPER_NLL_ORACLE
    return summary


def seqgan_card(
    model_id: str,
    config: dict[str, Any],
    summary: dict[str, Any],
    report: CorpusReport | None,
    comparison: str = "",
) -> str:
    gen = config.get("generator", {})
    disc = config.get("discriminator", {})
    adv = config.get("adversarial", {})
    sections = [
        f"# {model_id}: SeqGAN-tuned sentence LSTM with its discriminator\n",
        f"Generator: a {gen.get('num_layers', 2)}x{gen.get('hidden_dim')} LSTM (embedding "
        f"{gen.get('embed_dim')}, tied output) over the main model's byte-level BPE vocabulary, "
        "trained on single sentences of at most "
        f"{config.get('data', {}).get('seq_len', 32)} tokens (read after `<|endoftext|>`, ended "
        "by it). It was pretrained by maximum likelihood and then tuned by SeqGAN (Yu et al. "
        "2017): REINFORCE with a per-position batch-mean baseline, rewards from "
        f"{adv.get('num_rollouts', 16)} Monte Carlo rollouts of a lagging copy (rate "
        f"{adv.get('rollout_rate', 0.8)}), {adv.get('rounds')} adversarial rounds. The same "
        "MLE-pretrained generator is the MLE baseline of the comparison below, so the two "
        "differ only by the adversarial phase.\n",
        "Discriminator (`discriminator.safetensors`, `LoadedCheckpoint.extras['discriminator']`"
        f"): CNN over {disc.get('embed_dim', 64)}-dimensional embeddings, filter widths "
        f"{disc.get('filter_sizes')} with {disc.get('num_filters')} filters (the paper's "
        "widths; counts as configured), max-over-time pooling, a highway layer, dropout "
        f"{disc.get('dropout', 0.25)}; it outputs P(real). It serves as the `discriminator` "
        "reranker.\n",
        "Serving note: the generator knows sentences, not stories: it ignores the prompt's "
        "context beyond its last tokens and ends after one sentence.\n",
        "## Adversarial training\n\n```json\n" + json.dumps(summary, indent=2) + "\n```\n",
    ]
    if report is not None:
        sections.append(
            f"## Data\n\nSentences cut from the training split of the story corpus "
            f"({report.documents} documents: {json.dumps(report.by_genre)}), deduplicated; "
            "validation sentences from the validation split.\n"
        )
    if comparison:
        sections.append(comparison)
    sections.append(
        "## Training configuration\n\n```json\n" + json.dumps(config, indent=2) + "\n```\n"
    )
    return "\n".join(sections)
