"""`talewright train vae`: the sentence VAE on sentences cut from the story corpus.

The corpus and its split are the language model's (prepare_corpus, cached in the run folder);
the tokenizer is the language model's too (`[tokenizer] path`), so VAE latents and LSTM text
share token ids and their likelihoods compare like for like. The objective carries the three
defences against posterior collapse, each a setting in `[objective]` so its effect can be
measured by switching it off: cyclical KL annealing, word dropout and free bits.
"""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from generators.checkpoint import save_checkpoint
from generators.evaluation.vae import posterior_stats
from generators.models.vae import SentenceVAE, VAEConfig, make_batch
from generators.text.names import name_lexicon
from generators.text.sentences import SentenceSet, document_sentences
from generators.text.tokenizer import TextTokenizer
from generators.train.cards import data_section
from generators.train.prepare import data_config, prepare_corpus
from generators.train.trainer import Callback, TrainConfig, Trainer, configure_threads


@dataclass
class Objective:
    """What is minimised: recon + beta(step) * sum_d max(free_bits, mean KL_d).

    beta follows `kl_cycles` cycles of `kl_cycle_steps` steps, rising linearly from 0 to 1 over
    the first `kl_rise` share of each cycle (Fu et al. 2019), then stays at 1. free_bits is a
    floor in nats per latent dimension on the batch-mean KL (Kingma et al. 2016).
    """

    word_dropout: float = 0.2
    free_bits: float = 0.15
    kl_cycles: int = 4
    kl_cycle_steps: int = 800
    kl_rise: float = 0.5

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Objective:
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown [objective] keys: {', '.join(sorted(unknown))}")
        return cls(**values)

    def beta(self, step: int) -> float:
        if self.kl_cycles <= 0 or step >= self.kl_cycles * self.kl_cycle_steps:
            return 1.0
        position = (step % self.kl_cycle_steps) / self.kl_cycle_steps
        return min(1.0, position / self.kl_rise) if self.kl_rise > 0 else 1.0

    def kl_term(self, kl: torch.Tensor) -> torch.Tensor:
        """Batch-mean KL summed over dimensions, each dimension floored at `free_bits`."""
        per_dim = kl.mean(dim=0)
        if self.free_bits > 0:
            per_dim = per_dim.clamp_min(self.free_bits)
        return per_dim.sum()


class VAETask:
    """Length-bucketed sentence batches in a seeded order per epoch; resumes at the exact batch."""

    monitor = "val_elbo"
    loss_unit = "nats/sentence"

    def __init__(
        self,
        train: SentenceSet,
        validation: SentenceSet,
        tokenizer: TextTokenizer,
        model_config: VAEConfig,
        objective: Objective,
        batch_size: int,
        seed: int,
        card_info: dict[str, Any],
    ):
        if len(train) == 0:
            raise ValueError("no training sentences")
        self.train = train
        self.validation = validation
        self.tokenizer = tokenizer
        self.model_config = model_config
        self.objective = objective
        self.batch_size = batch_size
        self.seed = seed
        self.card_info = card_info
        self.epoch = 0
        self.position = 0

    def epoch_plan(self, epoch: int) -> list[np.ndarray]:
        """Batches of sentence indices: shuffled, sorted by length within pools of 50 batches,
        and the batches shuffled again, all from (seed, epoch)."""
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.train))
        lengths = self.train.lengths()
        pool = self.batch_size * 50
        batches = []
        for start in range(0, len(order), pool):
            chunk = order[start : start + pool]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches += [
                chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size)
            ]
        return [batches[i] for i in rng.permutation(len(batches))]

    def batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        cfg = self.model_config
        while True:
            plan = self.epoch_plan(self.epoch)
            while self.position < len(plan):
                indices = plan[self.position]
                self.position += 1
                yield make_batch(
                    [self.train.tokens(int(i)) for i in indices], cfg.bos_id, cfg.pad_id
                )
            self.epoch += 1
            self.position = 0

    def loss(self, model: SentenceVAE, batch, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        device = next(model.parameters()).device
        inputs, targets = (t.to(device) for t in batch)
        parts = model.loss_parts(inputs, targets, word_dropout=self.objective.word_dropout)
        beta = self.objective.beta(step)
        recon = parts.recon.mean()
        loss = recon + beta * self.objective.kl_term(parts.kl)
        return loss, {
            "tokens": parts.tokens,
            "recon": float(recon.detach()),
            "kl": float(parts.kl.detach().sum(dim=1).mean()),
            "beta": beta,
            "epoch": self.epoch,
        }

    def validate(self, model: SentenceVAE) -> dict[str, float]:
        stats = posterior_stats(model, self.validation, seed=self.seed)
        model.train()
        return {
            "val_elbo": stats["elbo_nll"],
            "val_recon": stats["recon_nll"],
            "val_kl": stats["kl"],
            "val_nll_per_token": stats["nll_per_token"],
            "val_active_units": stats["active_units"],
            "val_mutual_info": stats["mutual_info"],
        }

    def state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        return {"epoch": self.epoch, "position": self.position}, {}

    def load_state(self, values: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        self.epoch = values["epoch"]
        self.position = values["position"]

    def export(self, model: SentenceVAE, folder: Path, metrics: dict[str, Any]) -> None:
        card = vae_card(folder.name, self.card_info, metrics, model.num_parameters())
        save_checkpoint(
            folder,
            model,
            family="vae",
            model_config=self.model_config.to_dict(),
            tokenizer=self.tokenizer,
            card=card,
            info={
                "training": self.card_info["config"],
                "validation": metrics,
                "names": self.card_info["names"],
            },
        )


def vae_card(
    model_id: str,
    info: dict[str, Any],
    metrics: dict[str, Any],
    parameters: int,
    figures: dict[str, Any] | None = None,
) -> str:
    """The checkpoint's card.md: architecture, data, run configuration, validation, figures."""
    config = info["config"]
    model = config.get("model", {})
    sections = [
        f"# {model_id}: sentence VAE\n",
        f"A sentence VAE (Bowman et al. 2016): bidirectional LSTM encoder "
        f"({model.get('encoder_dim')} per direction) -> diagonal Gaussian latent of "
        f"{model.get('latent_dim')} dimensions -> LSTM decoder ({model.get('decoder_dim')}) fed "
        f"z at every step and as its initial state; embedding {model.get('embed_dim')} tied with "
        f"the output layer; {parameters / 1e6:.2f}M parameters, float16 safetensors. Tokenizer: "
        "the LSTM language model's byte-level BPE (same ids). Defences against posterior "
        "collapse: cyclical KL annealing, word dropout, free bits (see the run configuration). "
        "Uses: plot twists (decode away from the story's recent sentences), style vectors "
        "(mean posterior mean of a writer's sentences).\n",
        data_section(info["report"]),
        f"Sentences: every document cut into sentences of 4..40 tokens; "
        f"{info['sentences']['train']} training and {info['sentences']['validation']} "
        f"validation sentences (by genre: {json.dumps(info['sentences']['by_genre'])}).\n",
        "## Training run\n\n```json\n" + json.dumps(config, indent=2) + "\n```\n",
        "## Validation at export (nats per sentence)\n\n" + _table(metrics) + "\n",
    ]
    if figures:
        sections.append(figures_section(figures))
    return "\n".join(sections)


def figures_section(figures: dict[str, Any]) -> str:
    return "## Measured targets (bench/vae_targets.py)\n\n" + _table(figures) + "\n"


def _table(rows: dict[str, Any]) -> str:
    lines = ["| | |", "|---|---|"]
    for key, value in rows.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    return "\n".join(lines)


def _validation_sample(sentences: SentenceSet, limit: int, seed: int) -> SentenceSet:
    if limit <= 0 or limit >= len(sentences):
        return sentences
    return sentences.subset(sorted(random.Random(seed).sample(range(len(sentences)), limit)))


def train_vae(
    config: dict[str, Any],
    out_dir: Path,
    data_dir: Path | None,
    resume: bool,
    callbacks: list[Callback] | None = None,
) -> Path:
    """Run (or resume) a training run; return the folder of the best checkpoint.

    `[tokenizer] path` names an existing tokenizer.json (normally the language model's run's),
    copied into the run folder before the corpus is prepared so it is used as is.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data_cfg = data_config(config, data_dir)
    tokenizer_cfg = config.get("tokenizer", {})
    run_tokenizer = out_dir / "tokenizer.json"
    if tokenizer_cfg.get("path") and not run_tokenizer.exists():
        shutil.copyfile(tokenizer_cfg["path"], run_tokenizer)
    corpus = prepare_corpus(data_cfg, tokenizer_cfg, out_dir)
    tokenizer = corpus.tokenizer
    sentence_cfg = config.get("sentences", {})
    limits = {
        "min_tokens": sentence_cfg.get("min_tokens", 4),
        "max_tokens": sentence_cfg.get("max_tokens", 40),
    }
    train = document_sentences(corpus.train, tokenizer, **limits)
    validation = document_sentences(corpus.validation, tokenizer, **limits)
    model_config = VAEConfig(
        vocab_size=tokenizer.vocab_size,
        bos_id=tokenizer.eos_id,
        pad_id=tokenizer.pad_id,
        max_tokens=limits["max_tokens"],
        **config.get("model", {}),
    )
    train_cfg = TrainConfig.from_dict(config.get("train", {}))
    configure_threads(train_cfg)
    torch.manual_seed(train_cfg.seed)
    model = SentenceVAE(model_config)
    card_info = {
        "config": config,
        "report": corpus.report,
        "sentences": {
            "train": len(train),
            "validation": len(validation),
            "by_genre": dict(sorted(Counter(train.genres).items())),
        },
        "names": name_lexicon(corpus.train),
    }
    task = VAETask(
        train,
        _validation_sample(
            validation, config.get("eval", {}).get("validation_sentences", 2000), train_cfg.seed
        ),
        tokenizer,
        model_config,
        Objective.from_dict(config.get("objective", {})),
        batch_size=config.get("batch", {}).get("batch_size", 128),
        seed=train_cfg.seed,
        card_info=card_info,
    )
    run_info = {"config": config, "objective": asdict(task.objective)}
    trainer = Trainer(model, task, train_cfg, out_dir, callbacks, run_info=run_info)
    trainer.fit(resume=resume)
    return trainer.best_dir
