"""Restoring capitals to the all-lowercase TinyStories copy, so its stories can train a model
that writes (and is scored on) normally cased text.

Rules, in order: names, the pronoun "I" and its contractions, sentence and paragraph starts
(also an opening quote's first word), and the word after a closing quote that ends a sentence
unless a speech verb follows (`"Stop!" she said` stays lower case). A name is a word that the
cased corpus writes with a capital in the middle of a sentence at least 80% of the time, or a
word introduced in the story itself as a name ("named wilbur", "my name is annie").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"[A-Za-z][a-z']*")
_INTRODUCED = re.compile(r"\b(?:named|called|name is|name was)\s+([a-z]+)")
_SENTENCE_START = re.compile(r"(^|[.!?]\s+|\n|(?:^|\s)\")([a-z])")
_AFTER_QUOTE = re.compile(r"([.!?][\"\u201d]\s+)([a-z][a-z']*)((?:\s+[a-z']+){0,2})")
_SPEECH = re.compile(
    r"\b(?:said|says|asked|cried|replied|shouted|whispered|answered|exclaimed|yelled|called|"
    r"laughed|added|giggled|sighed|agreed|explained|screamed|squealed|told)\b"
)
_PRONOUN_I = re.compile(r"\bi\b(?=('m|'ll|'ve|'d)?\b)")
_NOT_NAMES = frozenset({"mom", "dad", "mommy", "daddy", "the", "a", "an", "and"})


def learn_names(cased_texts: Iterable[str], min_count: int = 3, share: float = 0.8) -> set[str]:
    """Lower-case forms of words the cased corpus capitalizes mid-sentence."""
    upper: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for text in cased_texts:
        for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
            words = _WORD.findall(sentence)
            for word in words[1:]:
                key = word.lower()
                total[key] += 1
                if word[0].isupper():
                    upper[key] += 1
    return {
        word
        for word, count in total.items()
        if len(word) > 1
        and count >= min_count
        and upper[word] / count >= share
        and word not in _NOT_NAMES
    }


def recase(text: str, names: set[str]) -> str:
    story_names = set(names) | {m.group(1) for m in _INTRODUCED.finditer(text)}
    story_names -= _NOT_NAMES

    def name(match: re.Match[str]) -> str:
        word = match.group(0)
        return word.capitalize() if word in story_names else word

    text = re.sub(r"(?<!['\w])[a-z]+\b", name, text)
    text = _PRONOUN_I.sub("I", text)
    text = _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)
    return _AFTER_QUOTE.sub(_after_quote, text)


def _after_quote(match: re.Match[str]) -> str:
    """`"...!" she said` stays lower case (an attribution); `"...!" They ran` starts anew."""
    gap, word, rest = match.groups()
    if _SPEECH.match(word) or _SPEECH.search(rest):
        return match.group(0)
    return gap + word[0].upper() + word[1:] + rest
