"""How good a sentence VAE is, and whether its latent space is used at all.

Figures, all per sentence in nats unless named otherwise:
- recon_nll and kl: the two halves of the negative ELBO (z sampled once from q(z|x));
- active_units: dimensions whose posterior mean varies across sentences, Cov_x(E_q[z]) > 0.01
  (Burda et al. 2016) - a collapsed posterior has none;
- mutual_info: I(x; z) under the aggregate posterior (Hoffman & Johnson 2016, with the
  minibatch estimator of Dieng et al. 2019), at most log(number of sentences);
- iw_nll: -log p(x) from k importance samples (Burda et al.), a tighter bound than the ELBO;
  iw_nll_text leaves out the end-of-sentence token, so it scores exactly the tokens the LSTM
  language model scores (lm_nll, read from `<|endoftext|>` + genre token) and the two compare
  like for like.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from generators.checkpoint import LoadedCheckpoint, load_checkpoint
from generators.evaluation.bits_per_char import score_texts
from generators.models.vae import SentenceVAE, gaussian_log_density, make_batch
from generators.text.corpus import iter_raw_documents, split_of
from generators.text.normalize import normalize_text, split_documents
from generators.text.sentences import SentenceSet, encode_sentences, split_sentences
from generators.text.tokenizer import TextTokenizer

ACTIVE_THRESHOLD = 0.01


def length_batches(
    sentences: SentenceSet, batch_size: int
) -> Iterator[tuple[list[int], list[list[int]]]]:
    """(indices, token lists) in batches of similar length, so little compute goes to padding."""
    order = sorted(
        range(len(sentences)), key=lambda i: int(sentences.offsets[i + 1] - sentences.offsets[i])
    )
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        yield chunk, [sentences.tokens(i) for i in chunk]


@torch.no_grad()
def posterior_stats(
    model: SentenceVAE, sentences: SentenceSet, batch_size: int = 128, seed: int = 0
) -> dict[str, float]:
    """Negative ELBO parts, active units and mutual information on `sentences`.

    The z samples come from `seed` in a forked random state, so the figures are repeatable and
    a training run's own random sequence is left as it was."""
    model.eval()
    cfg = model.config
    recon = kl = 0.0
    tokens = 0
    mus, logvars = [], []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _, batch in length_batches(sentences, batch_size):
            inputs, targets = make_batch(batch, cfg.bos_id, cfg.pad_id)
            parts = model.loss_parts(inputs, targets)
            recon += float(parts.recon.sum())
            kl += float(parts.kl.sum())
            tokens += parts.tokens
            mus.append(parts.mu)
            logvars.append(parts.logvar)
    n = max(len(sentences), 1)
    mu, logvar = torch.cat(mus), torch.cat(logvars)
    return {
        "recon_nll": recon / n,
        "kl": kl / n,
        "elbo_nll": (recon + kl) / n,
        "nll_per_token": (recon + kl) / max(tokens, 1),
        "active_units": float(active_units(mu)),
        "mutual_info": mutual_information(mu, logvar, seed),
    }


def active_units(mu: torch.Tensor, threshold: float = ACTIVE_THRESHOLD) -> int:
    """Number of latent dimensions whose posterior mean varies across sentences."""
    if mu.size(0) < 2:
        return 0
    return int((mu.float().var(dim=0) > threshold).sum())


def mutual_information(mu: torch.Tensor, logvar: torch.Tensor, seed: int = 0) -> float:
    """I(x; z) = E_x E_q(z|x)[log q(z|x)] - E_q(z)[log q(z)], with q(z) the mixture of the given
    posteriors and one z drawn from each."""
    n, dim = mu.shape
    if n < 2:
        return 0.0
    generator = torch.Generator().manual_seed(seed)
    mu, logvar = mu.float(), logvar.float()
    z = mu + torch.randn(mu.shape, generator=generator) * (0.5 * logvar).exp()
    neg_entropy = float((-0.5 * dim * math.log(2 * math.pi) - 0.5 * (1 + logvar).sum(-1)).mean())
    log_qz = []
    for start in range(0, n, 256):
        chunk = z[start : start + 256].unsqueeze(1)
        density = gaussian_log_density(chunk, mu.unsqueeze(0), logvar.unsqueeze(0))
        log_qz.append(torch.logsumexp(density, dim=1) - math.log(n))
    return neg_entropy - float(torch.cat(log_qz).mean())


@torch.no_grad()
def importance_weighted_nll(
    model: SentenceVAE,
    sentences: SentenceSet,
    samples: int = 100,
    seed: int = 0,
    chunk: int = 25,
) -> tuple[list[float], list[float]]:
    """-log p(x) per sentence from `samples` importance samples of q(z|x): with the end token,
    and for the sentence's own tokens only (the language model's view)."""
    model.eval()
    cfg = model.config
    generator = torch.Generator().manual_seed(seed)
    full = [0.0] * len(sentences)
    text_only = [0.0] * len(sentences)
    for indices, batch in length_batches(sentences, 4):
        inputs, targets = make_batch(batch, cfg.bos_id, cfg.pad_id)
        tokens, lengths = model.encoder_view(inputs, targets)
        mu, logvar = model.encode(tokens, lengths)
        ends = targets == cfg.bos_id
        weights_full, weights_text = [], []
        for start in range(0, samples, chunk):
            k = min(chunk, samples - start)
            eps = torch.randn((k, *mu.shape), generator=generator)
            z = mu.unsqueeze(0) + eps * (0.5 * logvar).exp().unsqueeze(0)
            log_prior = gaussian_log_density(z, torch.zeros_like(mu), torch.zeros_like(logvar))
            log_q = gaussian_log_density(z, mu.unsqueeze(0), logvar.unsqueeze(0))
            flat_z = z.reshape(-1, cfg.latent_dim)
            rep_inputs = inputs.repeat(k, 1)
            logits, _ = model.decoder_logits(rep_inputs, flat_z)
            logp = torch.log_softmax(logits.float(), dim=-1)
            rep_targets = targets.repeat(k, 1)
            mask = rep_targets != -100
            picked = logp.gather(2, rep_targets.clamp_min(0).unsqueeze(2)).squeeze(2) * mask
            end_lp = (picked * ends.repeat(k, 1)).sum(1)
            log_px_full = picked.sum(1).reshape(k, -1)
            log_px_text = log_px_full - end_lp.reshape(k, -1)
            weights_full.append(log_px_full + log_prior - log_q)
            weights_text.append(log_px_text + log_prior - log_q)
        for name, weights in (("full", weights_full), ("text", weights_text)):
            estimate = torch.logsumexp(torch.cat(weights), dim=0) - math.log(samples)
            target = full if name == "full" else text_only
            for index, value in zip(indices, estimate.tolist(), strict=True):
                target[index] = -value
    return full, text_only


def lm_sentence_nll(
    lm: LoadedCheckpoint, texts: Sequence[str], genres: Sequence[str | None]
) -> list[float]:
    """The LSTM language model's -log p of each sentence's tokens, from `<|endoftext|>` + genre."""
    return [
        score_texts(lm.model, lm.tokenizer, [text], [genre]).nll_nats
        for text, genre in zip(texts, genres, strict=True)
    ]


@torch.no_grad()
def interpolate(
    checkpoint: LoadedCheckpoint | Path | str, a: str, b: str, steps: int = 5
) -> list[str]:
    """Greedy decodings along the straight line between the posterior means of `a` and `b`
    (the homotopy of Bowman et al.): a smooth latent space changes the sentence gradually."""
    loaded = checkpoint if isinstance(checkpoint, LoadedCheckpoint) else load_checkpoint(checkpoint)
    model, tokenizer = loaded.model_as(SentenceVAE), loaded.tokenizer
    ends = encode_texts(model, tokenizer, [a, b])
    weights = torch.linspace(0, 1, steps).unsqueeze(1)
    z = ends[0] * (1 - weights) + ends[1] * weights
    banned = sorted(tokenizer.special_ids - {tokenizer.eos_id})
    return [tokenizer.decode(ids).strip() for ids in model.decode(z, banned=banned)]


@torch.no_grad()
def encode_texts(
    model: SentenceVAE, tokenizer: TextTokenizer, texts: Sequence[str]
) -> torch.Tensor:
    """Posterior means (len(texts), latent) of single sentences, cut to the model's length."""
    model.eval()
    ids = [tokenizer.encode(t)[: model.config.max_tokens] or [tokenizer.pad_id] for t in texts]
    width = max(len(i) for i in ids)
    batch = torch.full((len(ids), width), tokenizer.pad_id, dtype=torch.long)
    for row, tokens in enumerate(ids):
        batch[row, : len(tokens)] = torch.tensor(tokens)
    lengths = torch.tensor([len(i) for i in ids])
    mu, _ = model.encode(batch.to(model.embedding.weight.device), lengths)
    return mu.cpu()


def evaluate_vae(
    checkpoint_dir: Path | str,
    sentences: Sequence[str],
    genres: Sequence[str | None] | None = None,
    lm_checkpoint: Path | str | None = None,
    samples_iw: int = 100,
    iw_sentences: int = 300,
    seed: int = 0,
) -> dict[str, Any]:
    """Every figure of the module docstring on `sentences` (kept when 4..40 tokens long);
    importance sampling and the language model run on a seeded subset of `iw_sentences`."""
    loaded = load_checkpoint(checkpoint_dir)
    if loaded.family != "vae":
        raise ValueError(f"{checkpoint_dir} is a {loaded.family} checkpoint, not a sentence VAE")
    model, tokenizer = loaded.model_as(SentenceVAE), loaded.tokenizer
    genres = list(genres) if genres is not None else [None] * len(sentences)
    texts, kept_genres = _within_limits(tokenizer, sentences, genres, model.config.max_tokens)
    if len(texts) < 2:
        raise ValueError("need at least two sentences of 4..40 tokens to evaluate")
    encoded = encode_sentences(
        tokenizer, texts, [g or "" for g in kept_genres], max_tokens=model.config.max_tokens
    )
    result: dict[str, Any] = {
        "checkpoint": str(checkpoint_dir),
        "sentences": len(texts),
        "tokens_per_sentence": float(encoded.lengths().mean()),
        "latent_dim": model.config.latent_dim,
        **posterior_stats(model, encoded, seed=seed),
    }
    subset = sorted(random.Random(seed).sample(range(len(texts)), min(iw_sentences, len(texts))))
    full, text_only = importance_weighted_nll(model, encoded.subset(subset), samples_iw, seed)
    result.update(
        iw_samples=samples_iw,
        iw_sentences=len(subset),
        iw_nll=_mean(full),
        iw_nll_text=_mean(text_only),
    )
    if lm_checkpoint is not None:
        lm = load_checkpoint(lm_checkpoint)
        if lm.tokenizer.to_json() != tokenizer.to_json():
            raise ValueError("the language model and the VAE use different tokenizers")
        lm_nll = lm_sentence_nll(lm, [texts[i] for i in subset], [kept_genres[i] for i in subset])
        result.update(
            lm_checkpoint=str(lm_checkpoint),
            lm_step=lm.config.get("validation", {}).get("step"),
            lm_nll=_mean(lm_nll),
            iw_gap_to_lm=_mean(text_only) - _mean(lm_nll),
        )
    result["interpolation"] = interpolate(loaded, texts[0], texts[len(texts) // 2], steps=6)
    return result


def _within_limits(
    tokenizer: TextTokenizer, texts: Sequence[str], genres: Sequence[str | None], max_tokens: int
) -> tuple[list[str], list[str | None]]:
    lengths = [len(ids) for ids in tokenizer.encode_batch(list(texts))]
    kept = [i for i, n in enumerate(lengths) if 4 <= n <= max_tokens]
    return [texts[i] for i in kept], [genres[i] for i in kept]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / max(len(values), 1)


def validation_sentences(
    data_dir: Path, limit: int = 2000, seed: int = 0, validation_share: float = 0.05
) -> tuple[list[str], list[str]]:
    """A seeded sample of sentences from the corpus's validation documents (the same hash split
    as training), with their genres; no moderation or mood tagging, so it is quick."""
    texts: list[str] = []
    genres: list[str] = []
    for raw, genre, _ in iter_raw_documents(data_dir):
        text = normalize_text(raw)
        if split_of(text, validation_share) == "validation":
            for sentence in split_sentences(text):
                texts.append(sentence)
                genres.append(genre)
    order = random.Random(seed).sample(range(len(texts)), min(limit, len(texts)))
    return [texts[i] for i in order], [genres[i] for i in order]


def evaluate_vae_cli(
    checkpoint: Path | str,
    text_file: Path | None = None,
    data_dir: Path | None = None,
    lm_checkpoint: Path | str | None = None,
) -> dict[str, Any]:
    """`talewright eval` for a VAE checkpoint: sentences from a UTF-8 file (documents separated
    by blank lines) or from the validation split under `data_dir`; print with `format_report`."""
    if text_file is not None:
        documents = split_documents(Path(text_file).read_text(encoding="utf-8"))
        sentences = [s for doc in documents for s in split_sentences(doc)]
        genres: list[str | None] = [None] * len(sentences)
    elif data_dir is not None:
        sentences, found = validation_sentences(Path(data_dir))
        genres = list(found)
    else:
        raise ValueError("give a text file or a data folder to evaluate on")
    return evaluate_vae(checkpoint, sentences, genres, lm_checkpoint)


def format_report(result: dict[str, Any]) -> str:
    """Figures as `name: value` lines, then the interpolation one sentence per line."""
    lines = []
    for key, value in result.items():
        if key == "interpolation":
            continue
        lines.append(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    lines.append("interpolation:")
    lines += [f"  {i}. {text}" for i, text in enumerate(result.get("interpolation", []))]
    return "\n".join(lines)
