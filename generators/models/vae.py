"""A sentence VAE (Bowman et al. 2016) with the defences against posterior collapse exposed.

A bidirectional LSTM reads a sentence into a diagonal Gaussian q(z|x); an LSTM decoder, started
from a state computed from z and fed z at every step next to the previous token, writes the
sentence back, ending with `<|endoftext|>`. The input embedding is tied to the output layer.

`forward` returns the plain negative ELBO (what validation and checkpoints are judged by).
Training uses `loss_parts` instead, so the task can apply word dropout to the decoder inputs,
a KL weight (cyclical annealing) and a per-dimension KL floor (free bits); the model itself
stays the honest likelihood model that evaluation measures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

LOG_2PI = math.log(2 * math.pi)


@dataclass
class VAEConfig:
    vocab_size: int
    embed_dim: int = 256
    encoder_dim: int = 192
    decoder_dim: int = 512
    latent_dim: int = 32
    dropout: float = 0.1
    bos_id: int = 0
    pad_id: int = 1
    max_tokens: int = 40

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LossParts:
    """Per-sentence pieces of the objective: reconstruction NLL (nats, summed over tokens) and
    KL(q(z|x) || N(0, I)) per latent dimension, plus the posterior that produced them."""

    recon: torch.Tensor
    kl: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    tokens: int


def make_batch(
    sentences: Sequence[Sequence[int]], bos_id: int, pad_id: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decoder inputs `[bos, t1..tn, pad..]` and targets `[t1..tn, bos, -100..]` (the end of a
    sentence is the same `<|endoftext|>` token that starts it)."""
    width = max(len(s) for s in sentences) + 1
    inputs = torch.full((len(sentences), width), pad_id, dtype=torch.long)
    targets = torch.full((len(sentences), width), -100, dtype=torch.long)
    for row, tokens in enumerate(sentences):
        seq = torch.as_tensor(list(tokens), dtype=torch.long)
        n = len(seq)
        inputs[row, 0] = bos_id
        inputs[row, 1 : n + 1] = seq
        targets[row, :n] = seq
        targets[row, n] = bos_id
    return inputs, targets


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) for every sentence and dimension, in nats."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, exp(logvar)) summed over the last dimension (broadcasts)."""
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)


class SentenceVAE(nn.Module):
    family = "vae"

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim)
        self.encoder = nn.LSTM(c.embed_dim, c.encoder_dim, batch_first=True, bidirectional=True)
        self.to_posterior = nn.Linear(2 * c.encoder_dim, 2 * c.latent_dim)
        self.to_state = nn.Linear(c.latent_dim, 2 * c.decoder_dim)
        self.decoder = nn.LSTM(c.embed_dim + c.latent_dim, c.decoder_dim, batch_first=True)
        self.drop = nn.Dropout(c.dropout)
        self.proj = nn.Linear(c.decoder_dim, c.embed_dim, bias=False)
        self.output_bias = nn.Parameter(torch.zeros(c.vocab_size))
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.normal_(self.embedding.weight, std=0.05)
        for lstm, hidden in (
            (self.encoder, self.config.encoder_dim),
            (self.decoder, self.config.decoder_dim),
        ):
            for name, param in lstm.named_parameters():
                if "weight" in name:
                    nn.init.orthogonal_(param)
                else:
                    nn.init.zeros_(param)
                    param.data[hidden : 2 * hidden] = 1.0
        nn.init.zeros_(self.to_posterior.bias)
        nn.init.normal_(self.to_posterior.weight, std=0.01)

    # -- encoder ---------------------------------------------------------------------------

    def encode(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance (batch, latent) of sentences `ids` (batch, time),
        right-padded, each `lengths[i]` tokens long (no start or end token)."""
        x = self.embedding(ids)
        packed = pack_padded_sequence(
            x, lengths.clamp_min(1).cpu(), batch_first=True, enforce_sorted=False
        )
        _, (h, _) = self.encoder(packed)
        summary = torch.cat([h[0], h[1]], dim=-1)
        mu, logvar = self.to_posterior(summary).float().chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 8.0)

    # -- decoder ---------------------------------------------------------------------------

    def initial_state(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = self.to_state(z).chunk(2, dim=-1)
        return torch.tanh(h).unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous()

    def decoder_logits(
        self,
        inputs: torch.Tensor,
        z: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Logits (batch, time, vocab) for decoder `inputs` given latents `z` (batch, latent);
        the state defaults to the one computed from z."""
        x = self.embedding(inputs)
        z_steps = z.to(x.dtype).unsqueeze(1).expand(-1, inputs.size(1), -1)
        out, new_state = self.decoder(
            torch.cat([x, z_steps], dim=-1), state or self.initial_state(z)
        )
        logits = F.linear(self.proj(self.drop(out)), self.embedding.weight, self.output_bias)
        return logits, new_state

    def sentence_nll(
        self, inputs: torch.Tensor, targets: torch.Tensor, z: torch.Tensor
    ) -> torch.Tensor:
        """-log p(x|z) per sentence (nats), summed over the target positions that are not -100."""
        logits, _ = self.decoder_logits(inputs, z)
        nll = F.cross_entropy(
            logits.float().transpose(1, 2), targets, ignore_index=-100, reduction="none"
        )
        return nll.sum(dim=1)

    # -- objective -------------------------------------------------------------------------

    @staticmethod
    def encoder_view(
        inputs: torch.Tensor, targets: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The sentence tokens and lengths inside a `make_batch` pair."""
        lengths = (targets != -100).sum(dim=1) - 1
        return inputs[:, 1:], lengths

    def loss_parts(
        self,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        word_dropout: float = 0.0,
        sample: bool = True,
    ) -> LossParts:
        """Reconstruction NLL and per-dimension KL for a `make_batch` pair.

        word_dropout: share of decoder input tokens (never the start token) replaced by the pad
        token, so the decoder must lean on z instead of the previous words (Bowman et al.).
        """
        tokens, lengths = self.encoder_view(inputs, targets)
        mu, logvar = self.encode(tokens, lengths)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if sample else mu
        decoder_inputs = inputs
        if word_dropout > 0:
            drop = torch.rand(inputs.shape, device=inputs.device) < word_dropout
            drop[:, 0] = False
            decoder_inputs = inputs.masked_fill(drop, self.config.pad_id)
        recon = self.sentence_nll(decoder_inputs, targets, z)
        return LossParts(recon, kl_per_dim(mu, logvar), mu, logvar, int((targets != -100).sum()))

    def forward(
        self, ids: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits for decoder inputs `ids`; with targets, also the negative ELBO per sentence
        (mean over the batch). Without targets z is the posterior mean."""
        if targets is None:
            lengths = (ids != self.config.pad_id).sum(dim=1) - 1
            mu, _ = self.encode(ids[:, 1:], lengths)
            logits, _ = self.decoder_logits(ids, mu)
            return logits, None
        tokens, lengths = self.encoder_view(ids, targets)
        mu, logvar = self.encode(tokens, lengths)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        logits, _ = self.decoder_logits(ids, z)
        recon = F.cross_entropy(
            logits.float().transpose(1, 2), targets, ignore_index=-100, reduction="none"
        ).sum(dim=1)
        loss = (recon + kl_per_dim(mu, logvar).sum(dim=1)).mean()
        return logits, loss

    # -- generation ------------------------------------------------------------------------

    @torch.no_grad()
    def decode(
        self,
        z: torch.Tensor,
        greedy: bool = True,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        max_tokens: int | None = None,
        banned: Sequence[int] = (),
    ) -> list[list[int]]:
        """Token ids of one sentence per latent, stopping at `<|endoftext|>` (not included).

        banned: token ids never produced (control tokens other than the end of sentence).
        """
        limit = max_tokens or self.config.max_tokens
        batch = z.size(0)
        z = z.to(self.embedding.weight.dtype)
        token = torch.full((batch, 1), self.config.bos_id, dtype=torch.long, device=z.device)
        state = self.initial_state(z)
        outputs: list[list[int]] = [[] for _ in range(batch)]
        done = torch.zeros(batch, dtype=torch.bool)
        banned_ids = torch.tensor(list(banned), dtype=torch.long, device=z.device)
        for _ in range(limit):
            logits, state = self.decoder_logits(token, z, state)
            step = logits[:, -1].float()
            if banned_ids.numel():
                step[:, banned_ids] = float("-inf")
            if greedy:
                chosen = step.argmax(dim=-1)
            else:
                probs = (step / temperature).softmax(dim=-1)
                chosen = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            for row, value in enumerate(chosen.tolist()):
                if done[row]:
                    continue
                if value == self.config.bos_id:
                    done[row] = True
                else:
                    outputs[row].append(value)
            if bool(done.all()):
                break
            token = chosen.unsqueeze(1)
        return outputs

    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
        banned: Sequence[int] = (),
    ) -> tuple[torch.Tensor, list[list[int]]]:
        """`n` sentences decoded (sampled) from latents drawn from the prior; returns both."""
        device = self.embedding.weight.device
        z = torch.randn(n, self.config.latent_dim, generator=generator).to(device)
        return z, self.decode(
            z, greedy=False, temperature=temperature, generator=generator, banned=banned
        )

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
