"""Batched sampling from language models (the LSTM, the transformer: generators.models.protocol).

A `Sequence` is one candidate being written: its tokens, its own random generator (so a seed
gives the same text whatever else shares the batch), its sampling settings and its stop rule.
`decode_step` advances any set of live sequences by one token with a single model call; the
in-process generator and the service's continuous-batching scheduler both drive it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import torch
import torch.nn.functional as F

from generators.models.protocol import max_positions
from generators.text.tokenizer import TextTokenizer

State = Any
"""A model's state after reading some tokens; only the model's own operations look inside."""

_SENTENCE_END = re.compile(r"[.!?](?:[\"'\u201d\u2019)]+)?(?=\s|$)")


@dataclass(frozen=True)
class SamplingSettings:
    temperature: float = 0.8
    top_k: int = 0
    top_p: float = 0.95
    repetition_penalty: float = 1.1
    repetition_window: int = 96
    no_repeat_ngram: int = 4
    max_tokens: int = 60
    min_tokens: int = 8
    token_bias: tuple[tuple[int, float], ...] = ()
    """(token id, logit offset) pairs added before any other rule: the story's own names are
    made likelier (`generators.inference.name_bias`)."""


@dataclass(frozen=True)
class StopRule:
    """When a candidate is finished, and how its text is cut.

    paragraph: the separator that ends a turn ("\\n" in TinyStories style, "\\n\\n" in books).
    closing_quote: dialogue ends when a quote closes on a sentence end.
    inside_quote: the text starts inside a quotation already open (a continue that finishes the
    story's unfinished speech), so the first closing quote on a sentence end ends it.
    min_lines / stanza: poems end at a stanza break once they have `min_lines` lines.
    """

    paragraph: str | None = "\n"
    closing_quote: bool = False
    inside_quote: bool = False
    stanza: bool = False
    min_lines: int = 4
    trim_to_sentence: bool = True


@dataclass
class Sequence:
    prompt: list[int]
    settings: SamplingSettings
    stop: StopRule
    generator: torch.Generator
    prefix_text: str = ""
    tokens: list[int] = field(default_factory=list)
    logprob: float = 0.0
    opening_logprob: float = 0.0
    """Summed model log-prob of the opening a `sample_after` row was made to start with."""
    finished: bool = False
    stop_reason: str = ""
    text: str = ""

    @property
    def mean_logprob(self) -> float:
        return self.logprob / max(len(self.tokens), 1)


class TokenTables:
    """Per-vocabulary facts computed once per tokenizer: special tokens, newline tokens."""

    def __init__(self, tokenizer: TextTokenizer, device: torch.device | str = "cpu"):
        vocab = tokenizer.vocab_size
        self.tokenizer = tokenizer
        self.eos_id = tokenizer.eos_id
        special = torch.zeros(vocab, dtype=torch.bool)
        special[list(tokenizer.special_ids)] = True
        special[self.eos_id] = False
        self.special_mask = special.to(device)
        self.special_ids = special.nonzero().squeeze(1).to(device)
        newline = torch.zeros(vocab, dtype=torch.bool)
        for token_id in range(vocab):
            if token_id not in tokenizer.special_ids and "\n" in tokenizer.token_text(token_id):
                newline[token_id] = True
        self.newline_mask = newline.to(device)
        self.pad_id = tokenizer.pad_id


NUCLEUS_WIDTHS = (64, 512)
"""How many of each row's likeliest tokens are ranked before a full sort: most nuclei fit in
the first 64, so a step ranks B x 64 tokens instead of sorting B x vocabulary (the sort was
most of a batched step's time on CPU). A row whose nucleus is wider goes on to the next width,
then to the whole vocabulary: the result is the same as one full sort."""


def filter_top_k_top_p(
    logits: torch.Tensor, top_k: torch.Tensor, top_p: torch.Tensor
) -> torch.Tensor:
    """Mask (to -inf) every token outside each row's top-k and nucleus; rows may differ.

    `top_k` 0 and `top_p` 1 mean no limit. The most likely token always survives, so a row is
    never empty.
    """
    vocab = logits.size(-1)
    probs = logits.softmax(dim=-1)
    limit = torch.where(top_k > 0, top_k, torch.full_like(top_k, vocab))
    # top_p 1 cuts nothing (a sum of float32 probabilities may reach 1 before the last token).
    nucleus = torch.where(top_p >= 1.0, float("inf"), top_p.float())
    # Built by writing the kept logits into a row of -inf: a boolean mask over the whole
    # vocabulary and a masked_fill cost more than the ranking itself at batch 128.
    filtered = torch.full_like(logits, float("-inf"))
    rows = torch.arange(logits.size(0), device=logits.device)
    everyone = True  # the first pass reads whole tensors, not copies of their rows
    for width in (*(w for w in NUCLEUS_WIDTHS if w < vocab), vocab):
        values, index = (logits if everyone else logits[rows]).topk(width, dim=-1)
        ranked = (probs if everyone else probs[rows]).gather(1, index)
        ranks = torch.arange(width, device=logits.device).unsqueeze(0)
        remove = ranks >= limit[rows].unsqueeze(1)
        remove |= (ranked.cumsum(dim=-1) - ranked) >= nucleus[rows].unsqueeze(1)
        remove[:, 0] = False
        kept = values.masked_fill(remove, float("-inf"))
        # Both rules only grow along a sorted row: once the last ranked token is out, every
        # unranked one is out too, and the row is settled.
        settled = remove[:, -1] if width < vocab else torch.ones_like(remove[:, -1])
        if everyone and bool(settled.all()):
            filtered.scatter_(1, index, kept)
            break
        filtered[rows[settled]] = filtered.new_full(
            (int(settled.sum()), vocab), float("-inf")
        ).scatter(1, index[settled], kept[settled])
        rows, everyone = rows[~settled], False
        if rows.numel() == 0:
            break
    return filtered


def _recent_window(sequences: list[Sequence], pad_id: int, device) -> torch.Tensor:
    width = max(s.settings.repetition_window for s in sequences)
    rows = []
    for s in sequences:
        recent = (s.prompt + s.tokens)[-s.settings.repetition_window :]
        rows.append(recent + [pad_id] * (width - len(recent)))
    return torch.tensor(rows, dtype=torch.long, device=device)


def _banned_ngram_tokens(seq: Sequence) -> list[int]:
    n = seq.settings.no_repeat_ngram
    history = seq.tokens
    if n <= 1 or len(history) < n - 1:
        return []
    context = tuple(history[-(n - 1) :]) if n > 1 else ()
    banned = []
    for i in range(len(history) - n + 1):
        if tuple(history[i : i + n - 1]) == context:
            banned.append(history[i + n - 1])
    return banned


def next_token_logits(
    raw_logits: torch.Tensor, sequences: list[Sequence], tables: TokenTables
) -> torch.Tensor:
    """Apply every per-row rule to raw logits: specials, min length, repetition, temperature,
    n-gram bans, top-k / top-p."""
    logits = raw_logits.float().clone()
    device = logits.device
    for row, s in enumerate(sequences):
        if s.settings.token_bias:
            ids, offsets = zip(*s.settings.token_bias, strict=True)
            logits[row, list(ids)] += torch.tensor(offsets, device=device)
    logits.index_fill_(1, tables.special_ids, float("-inf"))
    for row, s in enumerate(sequences):
        if len(s.tokens) < s.settings.min_tokens:
            logits[row, tables.eos_id] = float("-inf")
            logits[row, tables.newline_mask] = float("-inf")
        banned = _banned_ngram_tokens(s)
        if banned:
            logits[row, banned] = float("-inf")
    penalties = torch.tensor([s.settings.repetition_penalty for s in sequences], device=device)
    if bool((penalties > 1.0).any()):
        # Only the recent tokens change, so the penalty is applied to them alone (a token seen
        # twice is written twice with the same value).
        window = _recent_window(sequences, tables.pad_id, device)
        window = torch.where(tables.newline_mask[window], tables.pad_id, window)
        recent = logits.gather(1, window)
        p = penalties.unsqueeze(1)
        penalized = torch.where(recent > 0, recent / p, recent * p)
        penalized = torch.where(window == tables.pad_id, recent, penalized)
        logits.scatter_(1, window, penalized)
    temperature = torch.tensor([s.settings.temperature for s in sequences], device=device)
    logits = logits / temperature.unsqueeze(1)
    top_k = torch.tensor([s.settings.top_k for s in sequences], device=device)
    top_p = torch.tensor([s.settings.top_p for s in sequences], device=device)
    return filter_top_k_top_p(logits, top_k, top_p)


def choose_tokens(filtered: torch.Tensor, sequences: list[Sequence]) -> torch.Tensor:
    """Sample one token per row, each row with its own generator (inverse-CDF on a uniform)."""
    probs = filtered.softmax(dim=-1)
    uniforms = torch.stack([torch.rand((), generator=s.generator) for s in sequences])
    cdf = probs.cumsum(dim=-1)
    cdf = cdf / cdf[:, -1:].clamp_min(1e-12)
    picks = torch.searchsorted(cdf, uniforms.to(cdf.device).unsqueeze(1)).squeeze(1)
    picks = picks.clamp_max(probs.size(-1) - 1)
    # searchsorted may land on a zero-probability slot through rounding; fall back to the argmax.
    chosen_prob = probs.gather(1, picks.unsqueeze(1)).squeeze(1)
    return torch.where(chosen_prob > 0, picks, probs.argmax(dim=-1))


def update_sequences(
    sequences: list[Sequence],
    chosen: torch.Tensor,
    raw_logits: torch.Tensor,
    tables: TokenTables,
) -> None:
    """Append chosen tokens, add their model log-probability, apply stop rules."""
    logprobs = F.log_softmax(raw_logits.float(), dim=-1).gather(1, chosen.unsqueeze(1)).squeeze(1)
    for s, token, lp in zip(sequences, chosen.tolist(), logprobs.tolist(), strict=True):
        if token == tables.eos_id:
            s.finished, s.stop_reason = True, "end_of_story"
            s.text = finish_text(s, tables.tokenizer, natural=True)
            continue
        s.tokens.append(token)
        s.logprob += lp
        check_stop(s, tables.tokenizer)


def check_stop(s: Sequence, tokenizer: TextTokenizer) -> None:
    text = s.prefix_text + tokenizer.decode(s.tokens)
    rule = s.stop
    if rule.stanza:
        lines = [ln for ln in text.split("\n") if ln.strip()]
        if "\n\n" in text.lstrip("\n") and len(lines) >= rule.min_lines:
            cut = text.lstrip("\n").index("\n\n")
            _finish(s, text.lstrip("\n")[:cut], "stanza")
            return
    elif rule.paragraph and len(s.tokens) >= s.settings.min_tokens:
        body = text.lstrip("\n")
        if rule.paragraph in body:
            _finish(s, body[: body.index(rule.paragraph)], "paragraph")
            return
    if rule.closing_quote:
        end = closing_quote_end(text, rule.inside_quote)
        if end is not None and len(s.tokens) >= min(s.settings.min_tokens, 3):
            _finish(s, text[:end], "closing_quote")
            return
    if len(s.tokens) >= s.settings.max_tokens:
        s.finished, s.stop_reason = True, "max_tokens"
        s.text = finish_text(s, tokenizer, natural=False)


def _finish(s: Sequence, text: str, reason: str) -> None:
    s.finished, s.stop_reason = True, reason
    s.text = text.strip()


def closing_quote_end(text: str, inside: bool = False) -> int | None:
    """End offset of the first spoken sentence that closes its quote (`"...!"`), if any;
    `inside`: the text starts inside a quote already open (`...you!" `)."""
    if inside:
        match = re.search(r"[.!?]+[\"\u201d]", text)
        return match.end() if match else None
    match = re.search(r"[.!?]+[\"\u201d]", text[1:]) if text[:1] in '"\u201c' else None
    return match.end() + 1 if match else None


def finish_text(s: Sequence, tokenizer: TextTokenizer, natural: bool) -> str:
    text = (s.prefix_text + tokenizer.decode(s.tokens)).strip()
    if s.stop.stanza:
        lines = text.split("\n")
        if not natural and len(lines) > 1:
            text = "\n".join(lines[:-1])
        return text.strip()
    if s.stop.paragraph and s.stop.paragraph in text:
        text = text[: text.index(s.stop.paragraph)]
    if not natural and s.stop.trim_to_sentence:
        text = trim_to_sentence(text)
    return text.strip()


def trim_to_sentence(text: str) -> str:
    """Cut after the last complete sentence; keep the text whole if it has none."""
    ends = list(_SENTENCE_END.finditer(text))
    return text[: ends[-1].end()] if ends else text


def fit_to_context(
    model, prompt: list[int], settings: SamplingSettings
) -> tuple[list[int], SamplingSettings]:
    """`prompt` and `settings` cut so that prompt and text fit the model's context (a model
    without a limit, like the LSTM, keeps both).

    Prompts are built to a budget that leaves the text its room (`ServedModel.prompt_budget`),
    but a budget cannot shorten the control tokens of a very long premise, and a twist's
    opening sentence lengthens its row's prompt afterwards. So the prompt's oldest tokens go
    first (as old turns do), keeping at least half the context; then `max_tokens` is cut to
    what is left."""
    limit = max_positions(model)
    if limit is None or len(prompt) + settings.max_tokens <= limit:
        return prompt, settings
    keep = max(limit - settings.max_tokens, limit // 2)
    prompt = prompt[-keep:]
    room = limit - len(prompt)
    if room < settings.max_tokens:
        settings = replace(settings, max_tokens=room, min_tokens=min(settings.min_tokens, room))
    return prompt, settings


@torch.no_grad()
def prefill(model, prompt: list[int], device) -> tuple[torch.Tensor, State]:
    """Read a prompt once; return the logits for the next token and the state after it."""
    ids = torch.tensor([prompt], dtype=torch.long, device=device)
    logits, state = model.run(ids, last_only=True)
    return logits[:, -1, :], state


@torch.no_grad()
def decode_step(
    model,
    sequences: list[Sequence],
    logits: torch.Tensor,
    tables: TokenTables,
) -> torch.Tensor:
    """Pick the next token of every sequence from `logits` (one row each); return the tokens."""
    filtered = next_token_logits(logits, sequences, tables)
    chosen = choose_tokens(filtered, sequences)
    update_sequences(sequences, chosen, logits, tables)
    return chosen


@torch.no_grad()
def sample(
    model,
    tables: TokenTables,
    prompt: list[int],
    settings: SamplingSettings,
    stop: StopRule,
    n: int,
    seed: int | None,
    prefix_text: str = "",
) -> list[Sequence]:
    """`n` candidates continuing one prompt, read once and then decoded as one batch."""
    device = next(model.parameters()).device
    prompt, settings = fit_to_context(model, prompt, settings)
    last_logits, state = prefill(model, prompt, device)
    base = seed if seed is not None else int(torch.randint(0, 2**62, ()).item())
    sequences = [
        Sequence(prompt, settings, stop, torch.Generator().manual_seed(base + i), prefix_text)
        for i in range(n)
    ]
    logits = last_logits.expand(n, -1)
    return decode(model, tables, sequences, logits, model.expand_state(state, n))


@torch.no_grad()
def sample_after(
    model,
    tables: TokenTables,
    prompt: list[int],
    openings: list[list[int]],
    settings: list[SamplingSettings],
    stop: StopRule,
    seeds: list[int],
    prefix_texts: list[str],
) -> list[Sequence]:
    """One candidate per opening, each continuing `prompt` + its opening: the prompt is read
    once, each opening from the prompt's state, then all are decoded as one batch (the latent-
    led candidates of twists and style). Row i has `settings[i]`, `seeds[i]` and
    `prefix_texts[i]`, so it writes what it would alone; its `opening_logprob` is what the
    model gives its opening after the prompt (read on the way, not in a second pass)."""
    device = next(model.parameters()).device
    rows_need = [len(ids) + rule.max_tokens for ids, rule in zip(openings, settings, strict=True)]
    prompt, _ = fit_to_context(
        model, prompt, SamplingSettings(max_tokens=max(rows_need, default=0))
    )
    prompt_logits, prompt_state = prefill(model, prompt, device)
    first = F.log_softmax(prompt_logits[0].float(), dim=-1)
    rows, states, opening_logprobs = [], [], []
    for ids in openings:
        if ids:
            tensor = torch.tensor([ids], dtype=torch.long, device=device)
            out, state = model.run(tensor, prompt_state)
            later = F.log_softmax(out[0, :-1].float(), dim=-1).gather(1, tensor[0, 1:, None])
            opening_logprobs.append(float(first[ids[0]]) + float(later.sum()))
            rows.append(out[:, -1, :])
        else:
            opening_logprobs.append(0.0)
            rows.append(prompt_logits)
            state = prompt_state
        states.append(state)
    sequences = [
        Sequence(
            prompt + ids,
            fit_to_context(model, prompt + ids, rule)[1],
            stop,
            torch.Generator().manual_seed(seed),
            prefix,
        )
        for ids, rule, seed, prefix in zip(openings, settings, seeds, prefix_texts, strict=True)
    ]
    for sequence, opening_logprob in zip(sequences, opening_logprobs, strict=True):
        sequence.opening_logprob = opening_logprob
    if not sequences:
        return []
    return decode(model, tables, sequences, torch.cat(rows), model.cat_states(states))


def decode(
    model, tables: TokenTables, sequences: list[Sequence], logits: torch.Tensor, state: State
) -> list[Sequence]:
    """Advance every sequence (one row of `logits` and `state` each) until all have finished."""
    device = logits.device
    live = list(range(len(sequences)))
    while live:
        active = [sequences[i] for i in live]
        chosen = decode_step(model, active, logits, tables)
        still = [j for j, s in enumerate(active) if not s.finished]
        if not still:
            break
        if len(still) < len(active):
            index = torch.tensor(still, device=device)
            state = model.select_state(state, index)
            chosen = chosen[index]
        step_logits, state = model.run(chosen.unsqueeze(1), state)
        logits = step_logits[:, -1, :]
        live = [live[j] for j in still]
    return sequences
