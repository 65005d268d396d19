"""The data SeqGAN trains on: an oracle LSTM's samples (the paper's synthetic experiment) or
sentences cut from the story corpus, both as fixed-length id tensors.

Sentences keep rollouts affordable on a CPU: a reward needs `num_rollouts` completions of every
prefix, so the cost grows with the square of the length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F

from generators.models.lstm import LSTMConfig, LSTMLanguageModel
from generators.models.seqgan import SequenceSpec, sample_sequences, sequence_mask
from generators.text.corpus import Document
from generators.text.sentences import split_sentences
from generators.text.tokenizer import TextTokenizer

_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*$")
_SENTENCE_START = re.compile(r"^[\"'\u201c\u2018(]?[A-Z]")
_WORD = re.compile(r"[A-Za-z]+")


def make_oracle(vocab_size: int, embed_dim: int, hidden_dim: int, seed: int) -> LSTMLanguageModel:
    """A randomly initialised LSTM with every parameter drawn from N(0, 1), as in the paper."""
    config = LSTMConfig(
        vocab_size=vocab_size,
        embed_dim=embed_dim,
        hidden_dim=hidden_dim,
        num_layers=1,
        dropout=0.0,
        embed_dropout=0.0,
    )
    oracle = LSTMLanguageModel(config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in oracle.parameters():
            param.copy_(torch.randn(param.shape, generator=generator))
    return oracle.eval()


@torch.no_grad()
def row_nll(
    model: LSTMLanguageModel,
    sequences: torch.Tensor,
    spec: SequenceSpec,
    temperatures: Sequence[float] = (1.0,),
    batch_size: int = 512,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed negative log-likelihood (nats) of each row at each temperature, (temperatures,
    rows), and each row's token count (tokens after the end token do not count). One forward
    pass serves every temperature."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    mask = sequence_mask(sequences, spec)
    counts = mask.sum(dim=1)
    order = counts.argsort()  # similar lengths together, so padding columns can be cut
    sums = torch.zeros(len(temperatures), len(sequences))
    for index in order.split(batch_size):
        width = int(counts[index].max())
        chunk = sequences[index, :width].to(device)
        start = torch.full((len(chunk), 1), spec.start_id, dtype=torch.long, device=device)
        logits, _ = model.run(torch.cat([start, chunk[:, :-1]], dim=1))
        chunk_mask = mask[index, :width].to(device)
        for i, temperature in enumerate(temperatures):
            logp = F.log_softmax(logits.float() / temperature, dim=-1)
            token_logp = logp.gather(2, chunk.unsqueeze(2)).squeeze(2)
            sums[i, index] = -(token_logp * chunk_mask).sum(dim=1).cpu()
    model.train(was_training)
    return sums, counts


def mean_nll(
    model: LSTMLanguageModel, sequences: torch.Tensor, spec: SequenceSpec, temperature: float = 1.0
) -> float:
    """Mean per-token negative log-likelihood (nats) of `sequences` under `model`."""
    sums, counts = row_nll(model, sequences, spec, (temperature,))
    return float(sums.sum() / counts.sum().clamp_min(1.0))


def nll_oracle(
    oracle: LSTMLanguageModel,
    model: LSTMLanguageModel,
    spec: SequenceSpec,
    samples: int,
    generator: torch.Generator,
) -> float:
    """The paper's quality measure: mean NLL under the oracle of the model's own samples."""
    return mean_nll(oracle, sample_sequences(model, samples, spec, generator=generator), spec)


def cut_sentences(text: str) -> list[str]:
    """Whole sentences of a text (see `generators.text.sentences`): those that start with a
    capital (or an opening quote and a capital) and end with sentence punctuation (and any
    closing quotes); fragments such as verse lines and headings are left out."""
    return [
        s for s in split_sentences(text) if _SENTENCE_START.match(s) and _SENTENCE_END.search(s)
    ]


def sentence_ids(
    documents: Iterable[Document],
    tokenizer: TextTokenizer,
    seq_len: int,
    min_words: int = 3,
) -> torch.Tensor:
    """Distinct sentences of at least `min_words` words whose tokens plus the end token fit
    `seq_len`, as (count, seq_len) ids padded after the end token, in corpus order."""
    seen: set[str] = set()
    texts = []
    for doc in documents:
        for sentence in cut_sentences(doc.text):
            if sentence not in seen and len(_WORD.findall(sentence)) >= min_words:
                seen.add(sentence)
                texts.append(sentence)
    rows = []
    for ids in tokenizer.encode_batch(texts):
        if len(ids) + 1 <= seq_len:
            rows.append(ids + [tokenizer.eos_id] + [tokenizer.pad_id] * (seq_len - len(ids) - 1))
    return torch.tensor(rows, dtype=torch.long).view(-1, seq_len)


def sentence_spec(tokenizer: TextTokenizer, seq_len: int) -> SequenceSpec:
    """Story sentences are read after `<|endoftext|>` and end with it, as documents do."""
    return SequenceSpec(seq_len, tokenizer.eos_id, tokenizer.eos_id, tokenizer.pad_id)


def decode_sentences(sequences: torch.Tensor, tokenizer: TextTokenizer) -> list[str]:
    return [tokenizer.decode(row.tolist()).strip() for row in sequences]
