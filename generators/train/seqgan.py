"""`talewright train seqgan`: SeqGAN's phases in order, resumable at every phase.

1. MLE pretraining of the generator with the generic Trainer (or start from an LSTM checkpoint).
2. Discriminator pretraining on real sequences against the generator's samples.
3. Adversarial rounds: g-steps (policy gradient with rollout rewards), a lagging-rollout update,
   then d-steps on fresh samples.

Mode "oracle" is the paper's synthetic experiment (an N(0,1) LSTM writes the data, and the
generator is judged by the oracle's NLL of its samples); mode "story" trains on sentences of the
story corpus and exports a servable checkpoint with the discriminator beside the generator.
Metrics go to `metrics.jsonl`, curves to `loss_curve.png`, resumable state to `state/`.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm import tqdm

from generators.checkpoint import load_checkpoint, save_checkpoint
from generators.models.lstm import LSTMConfig, LSTMLanguageModel
from generators.models.seqgan import (
    Discriminator,
    DiscriminatorConfig,
    SequenceSpec,
    discriminator_loss,
    policy_gradient_loss,
    rollout_rewards,
    sample_sequences,
    sequence_log_probs,
    sequence_mask,
    update_rollout,
)
from generators.text.corpus import CorpusReport
from generators.text.tokenizer import TextTokenizer
from generators.train import state_folder
from generators.train.cards import seqgan_card, seqgan_summary
from generators.train.curves import plot_seqgan, read_metrics
from generators.train.prepare import data_config, prepare_corpus
from generators.train.seqgan_data import make_oracle, mean_nll, nll_oracle, sentence_ids
from generators.train.seqgan_data import sentence_spec as story_spec
from generators.train.trainer import (
    TrainConfig,
    Trainer,
    _flatten_optimizer,
    _restore_optimizer,
    pick_device,
)

log = logging.getLogger(__name__)


@dataclass
class AdversarialConfig:
    """Phase 2 and 3 settings; the paper's values are noted where these differ."""

    num_rollouts: int = 16
    rollout_rate: float = 0.8
    batch_size: int = 64
    rounds: int = 200
    g_steps: int = 1
    g_lr: float = 0.01
    g_grad_clip: float = 5.0
    baseline: str = "mean"  # per-position batch mean; "none" is the original code's REINFORCE
    start_from: str = "best"  # the MLE model with the best validation NLL, or "last" (the paper)
    d_pretrain_steps: int = 10  # paper: 50
    d_pretrain_samples: int = 5000  # paper: 10,000
    d_pretrain_epochs: int = 1  # paper: 3
    d_steps: int = 3  # paper: 5 per round
    d_samples: int = 1024  # paper: 10,000
    d_epochs: int = 1  # paper: 3
    d_batch_size: int = 64
    d_lr: float = 1e-4
    d_weight_decay: float = 0.0
    eval_every: int = 10
    eval_samples: int = 2000
    final_eval_samples: int = 10000
    checkpoint_every: int = 5
    seed: int = 0
    threads: int = 1
    device: str = "cpu"

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> AdversarialConfig:
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown [adversarial] keys: {', '.join(sorted(unknown))}")
        config = cls(**values)
        if config.baseline not in ("mean", "none"):
            raise ValueError(
                f"[adversarial] baseline {config.baseline!r}: expected 'mean' or 'none'"
            )
        if config.start_from not in ("best", "last"):
            raise ValueError(
                f"[adversarial] start_from {config.start_from!r}: expected 'best' or 'last'"
            )
        return config


@dataclass
class SeqGANData:
    train: torch.Tensor
    validation: torch.Tensor
    spec: SequenceSpec
    tokenizer: TextTokenizer | None = None
    oracle: LSTMLanguageModel | None = None
    report: CorpusReport | None = None

    def story_tokenizer(self) -> TextTokenizer:
        """The tokenizer of a story run; ValueError for an oracle run, which has none."""
        if self.tokenizer is None:
            raise ValueError("this SeqGAN run is on oracle samples: it has no text tokenizer")
        return self.tokenizer

    def the_oracle(self) -> LSTMLanguageModel:
        """The oracle of a synthetic run; ValueError for a story run, which has none."""
        if self.oracle is None:
            raise ValueError("this SeqGAN run is on story sentences: it has no oracle")
        return self.oracle


# ---------------------------------------------------------------------------------------------
# Data


def oracle_data(config: dict[str, Any], out_dir: Path) -> SeqGANData:
    """The oracle and its samples; cached so that a resumed run sees the same data."""
    cfg = config.get("oracle", {})
    vocab, seq_len = cfg.get("vocab_size", 5000), cfg.get("seq_len", 20)
    oracle = make_oracle(
        vocab, cfg.get("embed_dim", 32), cfg.get("hidden_dim", 32), cfg.get("seed", 88)
    )
    spec = SequenceSpec(seq_len, start_id=0)
    path = out_dir / "oracle_data.safetensors"
    if path.exists():
        tensors = load_file(str(path))
    else:
        generator = torch.Generator().manual_seed(cfg.get("seed", 88) + 1)
        count = cfg.get("train_samples", 10000) + cfg.get("validation_samples", 1000)
        data = sample_sequences(oracle, count, spec, generator=generator)
        split = cfg.get("train_samples", 10000)
        tensors = {"train": data[:split].contiguous(), "validation": data[split:].contiguous()}
        save_file(tensors, str(path))
    return SeqGANData(tensors["train"], tensors["validation"], spec, oracle=oracle)


def story_data(config: dict[str, Any], out_dir: Path, data_dir: Path | None) -> SeqGANData:
    """Sentences of the training and validation splits, tokenized with the main model's
    tokenizer (copied, with the prepared corpus, from `reuse_from` when it is there)."""
    data_cfg = data_config(config, data_dir)
    source = data_cfg.pop("reuse_from", None)
    seq_len, min_words = data_cfg.pop("seq_len", 32), data_cfg.pop("min_words", 3)
    out_dir.mkdir(parents=True, exist_ok=True)
    if source:
        for name in ("documents.jsonl", "corpus_report.json", "tokenizer.json"):
            if (Path(source) / name).exists() and not (out_dir / name).exists():
                shutil.copy2(Path(source) / name, out_dir / name)
    corpus = prepare_corpus(data_cfg, config.get("tokenizer", {}), out_dir)
    spec = story_spec(corpus.tokenizer, seq_len)
    path = out_dir / "sentences.safetensors"
    if path.exists():
        tensors = load_file(str(path))
    else:
        tensors = {
            "train": sentence_ids(corpus.train, corpus.tokenizer, seq_len, min_words),
            "validation": sentence_ids(corpus.validation, corpus.tokenizer, seq_len, min_words),
        }
        save_file(tensors, str(path))
    return SeqGANData(
        tensors["train"], tensors["validation"], spec, corpus.tokenizer, report=corpus.report
    )


# ---------------------------------------------------------------------------------------------
# Phase 1: maximum likelihood


class SentenceTask:
    """Teacher-forced MLE on fixed-length sequences, for the generic Trainer."""

    monitor = "val_nll"
    loss_unit = "nats/token"

    def __init__(
        self,
        data: SeqGANData,
        batch_size: int,
        seed: int,
        exporter,
        oracle_samples: int,
        validation_sentences: int,
    ):
        self.data = data
        self.validation = data.validation[:validation_sentences]
        self.batch_size = batch_size
        self.seed = seed
        self.exporter = exporter
        self.oracle_samples = oracle_samples
        self.epoch = 0
        self.index = 0

    def epoch_batches(self, epoch: int) -> list[torch.Tensor]:
        """Row indices of every batch of `epoch`: a seeded shuffle, sorted by length within
        pools of 50 batches so that a batch carries little padding, then the batches shuffled."""
        generator = torch.Generator().manual_seed(self.seed * 7919 + epoch)
        order = torch.randperm(len(self.data.train), generator=generator)
        lengths = sequence_mask(self.data.train, self.data.spec).sum(dim=1)
        pool, size = 50 * self.batch_size, self.batch_size
        batches = []
        for start in range(0, len(order), pool):
            chunk = order[start : start + pool]
            chunk = chunk[lengths[chunk].argsort(stable=True)]
            batches += [chunk[i : i + size] for i in range(0, len(chunk), size)]
        if not batches:
            raise ValueError("no training sequences")
        return [batches[i] for i in torch.randperm(len(batches), generator=generator)]

    def batches(self):
        while True:
            plan = self.epoch_batches(self.epoch)
            while self.index < len(plan):
                self.index += 1
                yield self.data.train[plan[self.index - 1]]
            self.epoch += 1
            self.index = 0

    def loss(self, model: LSTMLanguageModel, batch: torch.Tensor, step: int):
        device = next(model.parameters()).device
        mask = sequence_mask(batch, self.data.spec)
        width = int(mask.sum(dim=1).max())  # no compute on columns that are padding everywhere
        batch, mask = batch[:, :width].to(device), mask[:, :width].to(device)
        start = torch.full(
            (len(batch), 1), self.data.spec.start_id, dtype=torch.long, device=device
        )
        logits, _ = model.run(torch.cat([start, batch[:, :-1]], dim=1))
        targets = batch.masked_fill(mask == 0, -100)
        loss = F.cross_entropy(
            logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100
        )
        return loss, {"tokens": int((targets != -100).sum()), "epoch": self.epoch}

    def validate(self, model: LSTMLanguageModel) -> dict[str, float]:
        metrics = {"val_nll": mean_nll(model, self.validation, self.data.spec)}
        if self.data.oracle is not None:
            generator = torch.Generator().manual_seed(self.seed)
            metrics["nll_oracle"] = nll_oracle(
                self.data.oracle, model, self.data.spec, self.oracle_samples, generator
            )
        model.train()
        return metrics

    def state(self):
        return {"epoch": self.epoch, "index": self.index}, {}

    def load_state(self, values, tensors) -> None:
        self.epoch, self.index = values["epoch"], values["index"]

    def export(self, model: LSTMLanguageModel, folder: Path, metrics: dict[str, Any]) -> None:
        self.exporter(model, folder, metrics)


def generator_config(config: dict[str, Any], data: SeqGANData) -> LSTMConfig:
    values = {k: v for k, v in config.get("generator", {}).items() if k != "init"}
    return LSTMConfig(vocab_size=_vocab_size(data), **values)


def _vocab_size(data: SeqGANData) -> int:
    if data.tokenizer is not None:
        return data.tokenizer.vocab_size
    if data.oracle is not None:
        return data.oracle.config.vocab_size
    raise ValueError("SeqGAN data has neither a tokenizer nor an oracle to size a vocabulary by")


def save_plain(folder: Path, model: nn.Module, model_config: dict, info: dict[str, Any]) -> None:
    """A weights-and-config folder for models without a text tokenizer (the oracle runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(
        json.dumps({"model": model_config, **info}, indent=2) + "\n"
    )


def load_generator(folder: Path) -> LSTMLanguageModel:
    """The generator exported by phase 1 (either folder kind)."""
    if (folder / "tokenizer.json").exists():
        return load_checkpoint(folder).model_as(LSTMLanguageModel).float()
    config = json.loads((folder / "config.json").read_text())
    model = LSTMLanguageModel(LSTMConfig(**config["model"]))
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    return model


MLE_ROLE = "the MLE baseline of the SeqGAN comparison and SeqGAN's starting point"


def pretrain_generator(
    config: dict[str, Any],
    data: SeqGANData,
    out_dir: Path,
    resume: bool,
    name: str = "mle",
    role: str = MLE_ROLE,
    start_from: str = "best",
) -> LSTMLanguageModel:
    """Phase 1: MLE with the generic Trainer in `out_dir/<name>` (skipped with
    `generator.init`); the best model by validation NLL is exported to `<name>/best`. Returns
    that model, or with `start_from="last"` the weights at the end of pretraining (the paper
    pretrains for a fixed number of epochs; on the oracle, validation NLL turns up long before
    NLL-oracle stops falling)."""
    init = config.get("generator", {}).get("init")
    if init:
        model = load_checkpoint(Path(init)).model_as(LSTMLanguageModel).float()
        if model.config.vocab_size != _vocab_size(data):
            raise ValueError(f"{init}: vocabulary {model.config.vocab_size} does not fit the data")
        return model
    model_config = generator_config(config, data)
    pretrain = dict(config.get("pretrain", {}))
    batch_size = pretrain.pop("batch_size", 64)
    train_cfg = TrainConfig.from_dict({"threads": 1, **pretrain})
    mle_dir = out_dir / name
    done = mle_dir / "best" / "model.safetensors"
    if not (resume and done.exists() and _mle_finished(mle_dir, train_cfg)):
        torch.manual_seed(train_cfg.seed)
        task = SentenceTask(
            data,
            batch_size,
            train_cfg.seed,
            lambda model, folder, metrics: export_mle(config, data, model, folder, metrics, role),
            config.get("eval", {}).get("oracle_samples", 2000),
            config.get("eval", {}).get("validation_sentences", 2000),
        )
        trainer = Trainer(
            LSTMLanguageModel(model_config), task, train_cfg, mle_dir, run_info={"config": config}
        )
        trainer.fit(resume=resume)
    model = load_generator(mle_dir / "best")
    if start_from == "last":
        model.load_state_dict(load_file(str(mle_dir / "last" / "model.safetensors")))
    return model


def _mle_finished(mle_dir: Path, train_cfg: TrainConfig) -> bool:
    rows = read_metrics(mle_dir / "metrics.jsonl")
    return any(r.get("kind") == "validation" and r["step"] >= train_cfg.max_steps for r in rows)


def export_mle(
    config, data: SeqGANData, model: LSTMLanguageModel, folder: Path, metrics: dict, role: str
) -> None:
    info = {"training": config, "validation": metrics, "phase": "mle"}
    if data.tokenizer is None:
        save_plain(folder, model, model.config.to_dict(), info)
        return
    card = (
        f"# {folder.parent.name}: sentence-level LSTM, maximum likelihood\n\n"
        f"A {model.config.num_layers}x{model.config.hidden_dim} LSTM trained by maximum "
        "likelihood on single sentences of the story corpus (read after `<|endoftext|>`, ended "
        f"by it). It is {role}.\n\n"
        "## Validation at export\n\n"
        + "\n".join(f"- {k}: {v:.4f}" for k, v in metrics.items() if k != "step")
        + "\n"
    )
    save_checkpoint(
        folder,
        model,
        family="lstm",
        model_config=model.config.to_dict(),
        tokenizer=data.tokenizer,
        card=card,
        info=info,
    )


# ---------------------------------------------------------------------------------------------
# Phases 2 and 3: adversarial training


class AdversarialRun:
    """Generator, lagging rollout copy, discriminator, optimizers and the run's position."""

    def __init__(
        self,
        generator: LSTMLanguageModel,
        discriminator: Discriminator,
        data: SeqGANData,
        cfg: AdversarialConfig,
        out_dir: Path,
    ):
        self.device = pick_device(cfg.device)
        self.generator = generator.to(self.device)
        self.rollout = LSTMLanguageModel(generator.config).to(self.device)
        self.rollout.load_state_dict(generator.state_dict())
        self.discriminator = discriminator.to(self.device)
        self.data = data
        self.spec = data.spec
        self.cfg = cfg
        self.out_dir = out_dir
        self.real = data.train.to(self.device)
        self.g_opt = torch.optim.Adam(generator.parameters(), lr=cfg.g_lr)
        self.d_opt = torch.optim.Adam(
            discriminator.parameters(), lr=cfg.d_lr, weight_decay=cfg.d_weight_decay
        )
        self.rng = torch.Generator(device=self.device).manual_seed(cfg.seed)
        self.progress = {"d_pretrain_step": 0, "round": 0}
        self.metrics_path = out_dir / "metrics.jsonl"
        self.state_dir = out_dir / "state"

    # -- steps ------------------------------------------------------------------------------

    def d_step(self, samples: int, epochs: int) -> dict[str, float]:
        """Fresh generated sequences against as many real ones, `epochs` passes."""
        fake = sample_sequences(self.generator, samples, self.spec, generator=self.rng)
        pick = torch.randint(len(self.real), (samples,), generator=self.rng, device=self.device)
        real = self.real[pick]
        self.discriminator.train()
        losses, accuracies = [], []
        size = self.cfg.d_batch_size // 2
        for _ in range(epochs):
            order = torch.randperm(samples, generator=self.rng, device=self.device)
            for start in range(0, samples, size):
                index = order[start : start + size]
                loss, accuracy = discriminator_loss(self.discriminator, real[index], fake[index])
                self.d_opt.zero_grad(set_to_none=True)
                loss.backward()
                self.d_opt.step()
                losses.append(float(loss.detach()))
                accuracies.append(accuracy)
        return {"d_loss": sum(losses) / len(losses), "d_acc": sum(accuracies) / len(accuracies)}

    def g_step(self) -> dict[str, float]:
        """One policy-gradient update on a batch of the generator's own samples."""
        sequences = sample_sequences(
            self.generator, self.cfg.batch_size, self.spec, generator=self.rng
        )
        rewards = rollout_rewards(
            self.rollout, self.discriminator, sequences, self.spec, self.cfg.num_rollouts, self.rng
        )
        mask = sequence_mask(sequences, self.spec)
        if self.cfg.baseline == "none":
            baseline = 0.0
        else:
            baseline = (rewards * mask).sum(0) / mask.sum(0).clamp_min(1.0)
        self.generator.eval()
        with torch.backends.cudnn.flags(enabled=False):
            log_probs = sequence_log_probs(self.generator, sequences, self.spec)
            loss = policy_gradient_loss(log_probs, rewards, baseline, mask)
            self.g_opt.zero_grad(set_to_none=True)
            loss.backward()
        grad_norm = float(
            nn.utils.clip_grad_norm_(self.generator.parameters(), self.cfg.g_grad_clip)
        )
        self.g_opt.step()
        return {
            "pg_loss": float(loss.detach()),
            "mean_reward": float((rewards * mask).sum() / mask.sum()),
            "final_reward": float(rewards[:, -1].mean()),
            "grad_norm": grad_norm,
            "sample_tokens": float(mask.sum(1).mean()),
        }

    @torch.no_grad()
    def validate(self, samples: int) -> dict[str, float]:
        metrics = {"val_nll": mean_nll(self.generator, self.data.validation, self.spec)}
        generator = torch.Generator(device=self.device).manual_seed(self.cfg.seed + 1)
        if self.data.oracle is not None:
            metrics["nll_oracle"] = nll_oracle(
                self.data.oracle, self.generator, self.spec, samples, generator
            )
        real = self.data.validation[:1000].to(self.device)
        fake = sample_sequences(self.generator, len(real), self.spec, generator=generator)
        metrics["d_acc_val"] = float(
            torch.cat(
                [
                    self.discriminator.prob_real(real) > 0.5,
                    self.discriminator.prob_real(fake) <= 0.5,
                ]
            )
            .float()
            .mean()
        )
        return metrics

    # -- phases -----------------------------------------------------------------------------

    def pretrain_discriminator(self) -> None:
        cfg = self.cfg
        bar = tqdm(
            total=cfg.d_pretrain_steps,
            initial=self.progress["d_pretrain_step"],
            desc="pretrain discriminator",
            dynamic_ncols=True,
            mininterval=5.0,
        )
        while self.progress["d_pretrain_step"] < cfg.d_pretrain_steps:
            metrics = self.d_step(cfg.d_pretrain_samples, cfg.d_pretrain_epochs)
            self.progress["d_pretrain_step"] += 1
            self.write({"kind": "d_pretrain", "step": self.progress["d_pretrain_step"], **metrics})
            bar.update(1)
            bar.set_postfix(d_acc=f"{metrics['d_acc']:.3f}")
            self.save()
        bar.close()

    def adversarial(self) -> None:
        cfg = self.cfg
        if self.progress["round"] == 0 and not self._has_row("validation", 0):
            self.evaluate(0, cfg.final_eval_samples)
        bar = tqdm(
            total=cfg.rounds,
            initial=self.progress["round"],
            desc="adversarial",
            dynamic_ncols=True,
            mininterval=5.0,
        )
        while self.progress["round"] < cfg.rounds:
            round_ = self.progress["round"] + 1
            began = time.perf_counter()
            for _ in range(cfg.g_steps):
                g_metrics = self.g_step()
                self.write({"kind": "g_step", "round": round_, **g_metrics})
            update_rollout(self.rollout, self.generator, cfg.rollout_rate)
            for _ in range(cfg.d_steps):
                d_metrics = self.d_step(cfg.d_samples, cfg.d_epochs)
                self.write({"kind": "d_step", "round": round_, **d_metrics})
            self.progress["round"] = round_
            bar.update(1)
            bar.set_postfix(
                reward=f"{g_metrics['mean_reward']:.3f}",
                d_acc=f"{d_metrics['d_acc']:.3f}",
                s=f"{time.perf_counter() - began:.1f}",
            )
            if round_ == cfg.rounds:
                self.evaluate(round_, cfg.final_eval_samples)
            elif round_ % cfg.eval_every == 0:
                self.evaluate(round_, cfg.eval_samples)
            if round_ % cfg.checkpoint_every == 0 or round_ == cfg.rounds:
                self.save()
        bar.close()

    def evaluate(self, round_: int, samples: int) -> None:
        metrics = self.validate(samples)
        self.write({"kind": "validation", "round": round_, "samples": samples, **metrics})
        tqdm.write(f"round {round_}: " + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items()))
        plot_seqgan(self.out_dir)

    # -- bookkeeping ------------------------------------------------------------------------

    def write(self, row: dict[str, Any]) -> None:
        with self.metrics_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({**row, "time": time.time()}) + "\n")

    def _has_row(self, kind: str, round_: int) -> bool:
        return any(
            r.get("kind") == kind and r.get("round") == round_
            for r in read_metrics(self.metrics_path)
        )

    def save(self) -> None:
        """Models, optimizers, random generators and position, swapped in crash-safely
        (`state_folder`): a run killed while saving resumes from the previous state. The
        manifest's step is the save time in nanoseconds, so the newest complete save wins."""
        tmp = state_folder.staging(self.state_dir)
        tensors: dict[str, torch.Tensor] = {}
        for prefix, module in (
            ("generator", self.generator),
            ("rollout", self.rollout),
            ("discriminator", self.discriminator),
        ):
            tensors.update(
                {
                    f"{prefix}.{k}": v.detach().cpu().contiguous()
                    for k, v in module.state_dict().items()
                }
            )
        meta: dict[str, Any] = {"progress": self.progress}
        for name, optimizer in (("g_opt", self.g_opt), ("d_opt", self.d_opt)):
            opt_tensors, opt_meta = _flatten_optimizer(optimizer)
            tensors.update({f"{name}.{k}": v for k, v in opt_tensors.items()})
            meta[name] = opt_meta
        tensors["rng.sampler"] = self.rng.get_state().cpu()
        tensors["rng.torch"] = torch.get_rng_state()
        save_file(tensors, str(tmp / "state.safetensors"))
        (tmp / "state.json").write_text(json.dumps(meta))
        state_folder.write_manifest(tmp, time.time_ns())
        state_folder.publish(tmp, self.state_dir)

    def load(self) -> bool:
        state_folder.recover(self.state_dir)
        if not (self.state_dir / "state.json").exists():
            return False
        meta = json.loads((self.state_dir / "state.json").read_text())
        tensors = load_file(str(self.state_dir / "state.safetensors"))

        def part(prefix: str) -> dict[str, torch.Tensor]:
            return {
                k.removeprefix(prefix + "."): v
                for k, v in tensors.items()
                if k.startswith(prefix + ".")
            }

        self.generator.load_state_dict(part("generator"))
        self.rollout.load_state_dict(part("rollout"))
        self.discriminator.load_state_dict(part("discriminator"))
        _restore_optimizer(self.g_opt, part("g_opt"), meta["g_opt"])
        _restore_optimizer(self.d_opt, part("d_opt"), meta["d_opt"])
        self.rng.set_state(tensors["rng.sampler"])
        torch.set_rng_state(tensors["rng.torch"])
        self.progress = meta["progress"]
        return True


def discriminator_config(config: dict[str, Any], data: SeqGANData) -> DiscriminatorConfig:
    spec = data.spec
    return DiscriminatorConfig(
        vocab_size=_vocab_size(data),
        seq_len=spec.seq_len,
        pad_id=spec.pad_id,
        end_id=spec.end_id,
        **config.get("discriminator", {}),
    )


def train_seqgan(
    config: dict[str, Any], out_dir: Path, data_dir: Path | None, resume: bool
) -> Path:
    """Run (or resume) every phase; return the exported SeqGAN folder (`out_dir/seqgan`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not resume:
        for name in ("metrics.jsonl", "state", "seqgan", "summary.json", "mle"):
            path = out_dir / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    (out_dir / "run.json").write_text(json.dumps({"config": config}, indent=2) + "\n")
    cfg = AdversarialConfig.from_dict(config.get("adversarial", {}))
    torch.set_num_threads(cfg.threads)
    mode = config.get("mode", "story")
    if mode == "oracle":
        data = oracle_data(config, out_dir)
    elif mode == "story":
        data = story_data(config, out_dir, data_dir)
    else:
        raise ValueError(f"unknown SeqGAN mode {mode!r}; expected 'oracle' or 'story'")
    generator = pretrain_generator(config, data, out_dir, resume, start_from=cfg.start_from)
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    run = AdversarialRun(
        generator, Discriminator(discriminator_config(config, data)), data, cfg, out_dir
    )
    if resume and run.load():
        log.info("resumed SeqGAN at %s", run.progress)
    run.pretrain_discriminator()
    run.adversarial()
    plot_seqgan(out_dir)
    summary = seqgan_summary(read_metrics(out_dir / "metrics.jsonl"), mode)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return export(run, config, summary, out_dir / "seqgan")


def export(run: AdversarialRun, config: dict[str, Any], summary: dict, folder: Path) -> Path:
    disc_config = run.discriminator.config.to_dict()
    info = {"training": config, "summary": summary, "phase": "seqgan"}
    if run.data.tokenizer is None:
        save_plain(folder, run.generator, run.generator.config.to_dict(), info)
        save_file(
            {k: v.contiguous() for k, v in run.discriminator.state_dict().items()},
            str(folder / "discriminator.safetensors"),
        )
        return folder
    save_checkpoint(
        folder,
        run.generator,
        family="lstm",
        model_config=run.generator.config.to_dict(),
        tokenizer=run.data.tokenizer,
        card=seqgan_card(folder.name, config, summary, run.data.report),
        info=info,
        extra_weights={"discriminator": ("discriminator", disc_config, run.discriminator)},
    )
    return folder
