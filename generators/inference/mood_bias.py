"""Steering a turn toward the story's mood while it is sampled.

The mood token alone barely moves a small model (control at chance on the validation split):
the model has seen too little text per mood to tie the token to its words. A fixed offset on
the logits of the mood's own vocabulary does what the token cannot: the eerie, tense and sad
lexicons of `generators.text.mood` for those moods, VADER's strongly positive words for
cheerful; and the words of the opposite moods are made less likely (a calm turn loses the
negative lexicons, a cheerful one too, a dark one loses the cheerful words). Only words whose
first token is a whole word piece (three letters or more, most of the word) are touched, so a
common syllable never becomes likelier everywhere.

Steering only applies where the story sets a mood and its recent turns do not already read that
way (`mood_to_steer`): a story that is already eerie is continued eerie by the model alone, and
pushing its words toward a lexicon there only pulled turns away from the story (books: content
overlap 0.14 -> 0.11 with steering everywhere, on the validation split). Where the asked mood is
new to the text (a story's first turns, a change of mood), steering is what carries it. Tuned
with `bench/continuations.py --mood-boost / --mood-weight`.
"""

from __future__ import annotations

from functools import lru_cache

from generators.schemas import GenerateRequest
from generators.text.mood import lexicon, mood_of
from generators.text.tokenizer import TextTokenizer

MOOD_BOOST = 1.0
AGAINST_SHARE = 0.5
"""How much of the boost is taken away from the opposite moods' words."""
BIASED_KINDS = frozenset({"opening", "continue", "dialogue", "twist"})


def mood_token_bias(
    request: GenerateRequest, tokenizer: TextTokenizer, boost: float | None = None
) -> tuple[tuple[int, float], ...]:
    """(token id, offset) pairs steering toward the request's mood; empty when it sets none."""
    boost = MOOD_BOOST if boost is None else boost
    mood = mood_to_steer(request)
    if not boost or not mood or request.kind not in BIASED_KINDS:
        return ()
    return _bias_for(mood, tokenizer, boost)


RECENT_CHARS = 1500
"""How much of the story's end the mood judge reads to decide whether it already has the mood."""


def mood_to_steer(request: GenerateRequest) -> str | None:
    """The story's mood when its recent turns do not already read that way, else None."""
    mood = request.context.mood
    if not mood:
        return None
    recent = "\n".join(t.text for t in request.context.turns)[-RECENT_CHARS:]
    if recent.strip() and _reads_as(recent) == mood:
        return None
    return mood


@lru_cache(maxsize=256)
def _reads_as(text: str) -> str:
    """The judge's mood of a story's end; cached, since the sampler's bias and the reranker's
    mood term both ask it of the same request."""
    return mood_of(text)


@lru_cache(maxsize=64)
def _bias_for(mood: str, tokenizer: TextTokenizer, boost: float) -> tuple[tuple[int, float], ...]:
    negative = ("eerie", "tense", "sad")
    toward = lexicon(mood) if mood != "calm" else frozenset()
    against: frozenset[str] = frozenset()
    if mood in ("cheerful", "calm"):
        against = frozenset().union(*(lexicon(m) for m in negative))
    elif mood in negative:
        against = lexicon("cheerful")
    bias: dict[int, float] = {}
    for words, offset in ((against, -boost * AGAINST_SHARE), (toward, boost)):
        for token in _word_tokens(words, tokenizer):
            bias[token] = offset
    return tuple(sorted(bias.items()))


def _word_tokens(words: frozenset[str], tokenizer: TextTokenizer) -> set[int]:
    tokens = set()
    for word in words:
        for form in (" " + word, " " + word.capitalize()):
            ids = tokenizer.encode(form)
            piece = tokenizer.decode(ids[:1]).strip() if ids else ""
            if len(piece) >= 3 and len(piece) >= 0.6 * len(word):
                tokens.add(ids[0])
    return tokens
