"""Mood labels from a lexicon sentiment analyzer that runs offline.

VADER's compound score gives the valence; three small hand-made lexicons separate the negative
moods (tense, sad, eerie) that valence alone cannot tell apart. The labels condition the model
(`<|mood:...|>` tokens) and score control accuracy of generated samples.
"""

from __future__ import annotations

import re
from functools import lru_cache

_EERIE = frozenset(
    """ghost ghosts ghostly haunted haunt haunting phantom spectre specter spectral shadow shadows
    shadowy strange stranger eerie weird uncanny whisper whispered whispering whispers moonlight
    mist misty fog foggy gloom gloomy grave graves tomb tombs crypt coffin corpse skeleton skull
    midnight silent silence hollow pale vampire witch witches spirit spirits curse cursed darkness
    dark creaking creaked candle unseen mysterious mystery ancient ruin ruins raven howl howled
    howling moan moaned wraith goblin dread dreadful unearthly""".split()
)
_TENSE = frozenset(
    """danger dangerous afraid fear feared fearful run ran running escape fled flee chase chased
    hurry hurried quick quickly suddenly scream screamed shout shouted fight fought attack attacked
    sword gun pistol shot fire blood panic trembling trembled heart pounding threat enemy enemies
    trap trapped caught struggle struggled desperate alarm alarmed terror terrified storm battle
    hunt hunted hide hid hiding police murder murderer kill killed""".split()
)
_SAD = frozenset(
    """sad sadly sorrow sorrowful cry cried crying tears tear weep wept weeping alone lonely lost
    miss missed missing grief grieve grieved mourn mourned mourning died death dead funeral sick
    broken heartbroken unhappy misery miserable poor goodbye farewell regret regretted sigh sighed
    gloomy melancholy despair""".split()
)
_WORD = re.compile(r"[a-z']+")


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


CHEERFUL_VALENCE = 1.8
"""VADER valence from which a word counts as a cheerful word for steering."""


def lexicon(mood: str) -> frozenset[str]:
    """The words that make the judge file a text under `mood` (empty for calm, which is the
    absence of the others)."""
    if mood == "cheerful":
        return _cheerful_words()
    return {"eerie": _EERIE, "tense": _TENSE, "sad": _SAD}.get(mood, frozenset())


@lru_cache(maxsize=1)
def _cheerful_words() -> frozenset[str]:
    return frozenset(
        word
        for word, valence in _analyzer().lexicon.items()
        if word.isalpha() and len(word) >= 3 and valence >= CHEERFUL_VALENCE
    )


def mood_scores(text: str) -> dict[str, float]:
    """Per-mood evidence: VADER valence (share of positive minus negative words) plus lexicon hit
    rates per 100 words. Valence uses VADER's proportions, not its compound score, which saturates
    at +-1 on anything longer than a paragraph."""
    words = _WORD.findall(text.lower())
    n = max(len(words), 1)
    polarity = _analyzer().polarity_scores(text[:4000])
    return {
        "valence": polarity["pos"] - polarity["neg"],
        "eerie": 100.0 * sum(w in _EERIE for w in words) / n,
        "tense": 100.0 * sum(w in _TENSE for w in words) / n,
        "sad": 100.0 * sum(w in _SAD for w in words) / n,
    }


def mood_of(text: str) -> str:
    """Bucket a text into one of `generators.schemas.MOODS`."""
    s = mood_scores(text)
    negatives = {"eerie": s["eerie"] * 1.5, "tense": s["tense"], "sad": s["sad"] * 1.2}
    strongest = max(negatives, key=negatives.__getitem__)
    if negatives[strongest] >= 1.6 or (s["valence"] <= 0.0 and negatives[strongest] >= 0.6):
        return strongest
    if s["valence"] >= 0.08:
        return "cheerful"
    return "calm"
