"""The moderation pipeline: evasions, innocent words, guild policies, levels, spans, cleaning."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from generators.moderation import (
    CATEGORIES,
    LEVELS,
    MASK,
    GuildPolicy,
    Moderator,
    clean_corpus_documents,
    default_moderator,
    normalize,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def moderator() -> Moderator:
    return Moderator(use_classifier=False)


@pytest.fixture(scope="module")
def classified() -> Moderator:
    pytest.importorskip("profanity_check")
    return Moderator()


def flagged(moderator: Moderator, text: str, level: str = "family") -> list[str]:
    verdict = moderator.check(text, level)
    assert verdict.verdict != "allow", text
    return verdict.categories


# --- evasions ---------------------------------------------------------------------------------

EVASIONS = {
    "plain": "what the fuck",
    "nfkc fullwidth": "what the ｆｕｃｋ",
    "nfkc math bold": "what the 𝐟𝐮𝐜𝐤",
    "nfkc circled": "what the ⓕⓤⓒⓚ",
    "upper case": "WHAT THE FUCK",
    "zero-width space": "what the f\u200bu\u200bc\u200bk",
    "zero-width joiner and word joiner": "what the f\u200du\u2060ck",
    "soft hyphen": "what the fu\u00adck",
    "bidi override": "what the \u202efuck\u202c",
    "bidi isolates": "what the f\u2066u\u2069c\u200fk",
    "cyrillic homoglyphs": "what the fuсk",  # Cyrillic с
    "greek and cyrillic homoglyphs": "this is ѕһіt",
    "small capitals": "what the ꜰᴜᴄᴋ",
    "combining marks": "what the f̸u̸c̸k̸",
    "accents": "what the fück",
    "leetspeak digits": "this is 5h17",
    "leetspeak symbols": "this is $h!t",
    "leetspeak at": "what a b@stard",
    "leetspeak 1 read as l": "what a s1ut",
    "leetspeak 1 read as i": "this is sh1t",
    "repeated letters": "what the fuuuuuuck",
    "repeated letters, doubled term": "kiss my asssss",
    "repeated and leet": "sh1111t",
    "dot separators": "what the f.u.c.k",
    "space separators": "what the f u c k",
    "hyphen separators": "what the f-u-c-k",
    "underscore separators": "what the f_u_c_k",
    "mixed separators": "what the f. u - c _ k",
    "pipes": "what the f|u|c|k",
    "self-censored": "what the f*ck",
    "inflected": "the shittiest day",
}


@pytest.mark.parametrize("text", EVASIONS.values(), ids=EVASIONS.keys())
def test_each_evasion_is_caught(moderator: Moderator, text: str) -> None:
    assert flagged(moderator, text) == ["profanity"]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("k.y.s", "self_harm"),
        ("Kill... YOURSELF", "self_harm"),
        ("killyourself", "self_harm"),
        ("k1ll y0urs3lf", "self_harm"),
        ("n1gg3r", "slurs"),
        ("ƅl0wj0b", "sexual"),
        ("ѕеху", "sexual"),
        ("d i s e m b o w e l e d", "violence"),
    ],
)
def test_evasions_work_for_every_category_and_phrases(
    moderator: Moderator, text: str, category: str
) -> None:
    assert category in flagged(moderator, text)


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("ＦＵＣＫ", "fuck"),
        ("f\u200bu\u200bc\u200bk", "fuck"),
        ("f.u.c.k", "fuck"),
        ("5h1t", "shit"),
        ("fuuuuck", "fuck"),
        ("Ѕһіt", "shit"),
        ("I'm a sea shell", "i'm a sea shell"),
        ("Café 2024", "cafe 2024"),
    ],
)
def test_normalize(moderator: Moderator, text: str, normalized: str) -> None:
    assert moderator.normalize(text) == normalized
    assert normalize(text) == normalized


# --- innocent words ---------------------------------------------------------------------------

INNOCENT = [
    "Scunthorpe", "assassin", "class", "cocktail", "grape", "therapist", "Dickens", "shitake",
    "shiitake", "cockpit", "analysis", "Essex", "Sussex", "Middlesex", "title", "button", "bass",
    "pass", "hello", "spice", "arsenal", "document", "execute", "skillet", "assess", "rapped",
    "rapier", "sniggered", "Niger", "cumin", "sextant", "Penistone", "cockatoo", "spicy",
    "clatter", "pussycat", "Japan", "cocoon", "as",
]  # fmt: skip


@pytest.mark.parametrize("word", INNOCENT)
def test_innocent_words_pass_at_family(moderator: Moderator, word: str) -> None:
    verdict = moderator.check(f"The {word} was mentioned in the story.", "family")
    assert verdict.verdict == "allow", verdict


@pytest.mark.parametrize(
    "text",
    [
        "I'm a sea shell, said the crab.",
        "They listed a, b, c and d.",
        "The tombstone read R.I.P.",
        "The rooster went cock-a-doodle-doo.",
        "Pass the b4ss, I l0ve it.",
        "Call 455 or 5318008.",
        "**Bold** and *italic* text.",
        "She played honky-tonk piano.",
    ],
)
def test_innocent_sentences_pass_at_family(moderator: Moderator, text: str) -> None:
    assert moderator.check(text, "family").verdict == "allow"


@pytest.mark.parametrize("level", ["family", "teen", "mature"])
def test_dark_fiction_passes_at_every_level(moderator: Moderator, level: str) -> None:
    text = (
        "The ghost screamed as the murderer raised his knife; blood ran down the stairs, "
        "and by dawn the dead man's brother swore to kill him."
    )
    assert moderator.check(text, level).verdict == "allow"


@pytest.mark.parametrize(
    "text",
    [
        "🎉🔥👻 The party was fun! 👨‍👩‍👧‍👦",
        "مرحبا بالعالم، هذه قصة جميلة.",
        "שלום עולם, זה סיפור יפה.",
        "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇ is spooky but harmless.",
        "Привет, мир! Это хорошая история.",
        "これは短い物語です。",
        "\u202eRTL override\u202c and \ufeffBOM",
        "e\u0301\u0301\u0301\u0301 \u0300 lone marks",
        "\x00\x1f control chars",
    ],
)
def test_odd_unicode_does_not_crash_or_flag(moderator: Moderator, text: str) -> None:
    verdict = moderator.check(text, "family")
    assert verdict.verdict == "allow"
    assert verdict.spans == []


# --- word lists -------------------------------------------------------------------------------


def test_list_markers_prefix_infix_and_inflections(moderator: Moderator) -> None:
    assert flagged(moderator, "pornographic") == ["sexual"]  # porn*
    assert flagged(moderator, "motherfucker") == ["profanity"]  # *fuck*
    assert flagged(moderator, "bullshitting") == ["profanity"]  # bullshit+
    assert moderator.check("shitake risotto", "family").verdict == "allow"  # shit+ is no prefix


def test_masked_words_need_enough_letters(moderator: Moderator) -> None:
    assert flagged(moderator, "a**hole") == ["profanity"]
    assert moderator.check("f*** and s**", "family").verdict == "allow"


def test_sexual_terms_near_words_about_children_are_sexual_minors(moderator: Moderator) -> None:
    near = moderator.check("sexy pictures of kids", "mature")
    assert near.verdict == "block"
    assert near.categories == ["sexual", "sexual_minors"]
    far = moderator.check("sexy " + "and so on " * 30 + "kids", "mature")
    assert far.verdict == "allow"
    assert far.categories == ["sexual"]
    assert moderator.check("The kids played in the park.", "family").verdict == "allow"


def test_custom_wordlist_dir(tmp_path: Path) -> None:
    (tmp_path / "profanity.txt").write_text("# comment\nfrak+  # inline comment\n\n")
    moderator = Moderator(use_classifier=False, wordlist_dir=tmp_path)
    assert moderator.check("fr4kking hell", "family").categories == ["profanity"]
    assert moderator.check("fuck", "family").verdict == "allow"


def test_a_doubled_letter_reads_as_one_but_never_the_reverse(tmp_path: Path) -> None:
    (tmp_path / "profanity.txt").write_text("tosser\nrape\n")
    (tmp_path / "allow.txt").write_text("rapper\n")
    moderator = Moderator(use_classifier=False, wordlist_dir=tmp_path)
    assert moderator.check("ttosser", "family").verdict == "block"
    assert moderator.check("tosser", "family").verdict == "block"
    assert moderator.check("tttosssser", "family").verdict == "block"
    assert moderator.check("toser", "family").verdict == "allow"  # one s is never two
    assert moderator.check("rappe", "family").verdict == "block"
    assert moderator.check("a rapper", "family").verdict == "allow"  # the allow list


@pytest.mark.parametrize("bad", ["f*ck", "sh1t", "two words*", "*"])
def test_bad_terms_are_rejected(tmp_path: Path, bad: str) -> None:
    (tmp_path / "profanity.txt").write_text(bad + "\n")
    with pytest.raises(ValueError, match="bad profanity term"):
        Moderator(use_classifier=False, wordlist_dir=tmp_path)


def test_missing_wordlist_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Moderator(use_classifier=False, wordlist_dir=tmp_path / "nope")
    with pytest.raises(FileNotFoundError):
        Moderator(use_classifier=False, wordlist_dir=tmp_path)


# --- guild policies ---------------------------------------------------------------------------


def test_guild_additions(moderator: Moderator) -> None:
    policy = GuildPolicy(level="teen", extra_terms={"profanity": ["frak"], "slurs": ["toaster"]})
    assert moderator.check("frak off, toaster", "teen").verdict == "allow"
    verdict = moderator.check("fr4k off, t0aster", policy=policy)
    assert verdict.verdict == "block"
    assert verdict.categories == ["profanity", "slurs"]
    redacted = moderator.check("frak off", policy=policy)
    assert redacted.redacted == "████ off"


def test_guild_exemptions(moderator: Moderator) -> None:
    policy = GuildPolicy(level="family", exempt_terms=["Dick", "son of a bitch"])
    assert moderator.check("Dick ran home.", "family").verdict == "block"
    assert moderator.check("Dick ran home.", policy=policy).verdict == "allow"
    assert moderator.check("son of a b1tch", policy=policy).verdict == "allow"
    verdict = moderator.check("Dick said shit.", policy=policy)
    assert verdict.verdict == "block"
    assert [s.term for s in verdict.spans] == ["shit"]


def test_guild_policy_validates(moderator: Moderator) -> None:
    with pytest.raises(ValueError, match="unknown moderation categories"):
        GuildPolicy(extra_terms={"rude": ["x"]})
    with pytest.raises(ValueError, match="unknown moderation level"):
        GuildPolicy(level="adult")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bad slurs term"):
        moderator.check("x", policy=GuildPolicy(extra_terms={"slurs": ["b4d"]}))


# --- levels -----------------------------------------------------------------------------------

LEVEL_CASES = [
    ("what the shit", "profanity", ("block", "redact", "allow")),
    ("you faggot", "slurs", ("block", "block", "block")),
    ("a blowjob", "sexual", ("block", "block", "allow")),
    ("child porn", "sexual_minors", ("block", "block", "block")),
    ("he was disemboweled", "violence", ("block", "redact", "allow")),
    ("go kill yourself", "self_harm", ("block", "block", "block")),
]


@pytest.mark.parametrize(("text", "category", "verdicts"), LEVEL_CASES)
def test_levels_map_categories_to_verdicts(
    moderator: Moderator, text: str, category: str, verdicts: tuple[str, str, str]
) -> None:
    for level, expected in zip(("family", "teen", "mature"), verdicts, strict=True):
        verdict = moderator.check(text, level)
        assert (verdict.verdict, verdict.level) == (expected, level), (text, level)
        assert category in verdict.categories
        assert bool(verdict.reasons) == (expected != "allow")
        assert (verdict.redacted is not None) == (expected == "redact")


def test_level_table_covers_every_category() -> None:
    assert set(LEVELS) == {"family", "teen", "mature"}
    for actions in LEVELS.values():
        assert set(actions) == set(CATEGORIES)


def test_reasons_are_readable_sentences(moderator: Moderator) -> None:
    assert moderator.check("you faggot", "teen").reasons == [
        "contains a slur, which is not allowed at the teen level"
    ]
    assert moderator.check("shit", "teen").reasons == [
        "contains profanity, which is hidden at the teen level"
    ]


def test_level_argument_beats_policy_level(moderator: Moderator) -> None:
    policy = GuildPolicy(level="mature")
    assert moderator.check("shit", policy=policy).verdict == "allow"
    assert moderator.check("shit", "family", policy=policy).verdict == "block"
    assert moderator.check("shit").level == "teen"
    with pytest.raises(ValueError, match="unknown moderation level"):
        moderator.check("shit", "adult")  # type: ignore[arg-type]


# --- spans and redaction ----------------------------------------------------------------------


def test_spans_point_at_the_original_text(moderator: Moderator) -> None:
    text = "Well, ｆｕｃｋ this 5h1t and f.u.c.k that, a f\u200bu\u200bck and f̸u̸c̸k̸!"
    spans = moderator.check(text, "teen").spans
    assert [text[s.start : s.end] for s in spans] == [
        "ｆｕｃｋ",
        "5h1t",
        "f.u.c.k",
        "f\u200bu\u200bck",
        "f̸u̸c̸k̸",
    ]
    assert {(s.category, s.term) for s in spans} == {("profanity", "fuck"), ("profanity", "shit")}


def test_phrase_span_covers_the_whole_phrase(moderator: Moderator) -> None:
    text = "Honestly, go kill... yourself."
    (span,) = moderator.check(text, "teen").spans
    assert text[span.start : span.end] == "kill... yourself"


def test_redaction_masks_only_offending_words(moderator: Moderator) -> None:
    text = "What the fuck is this sh1t, said the knight, and he was disemboweled."
    verdict = moderator.check(text, "teen")
    assert verdict.verdict == "redact"
    assert verdict.redacted == (
        "What the ████ is this ████, said the knight, and he was ████████████."
    )
    assert len(verdict.redacted) == len(text)
    spaced = moderator.check("f u c k off", "teen").redacted
    assert spaced == f"{MASK} {MASK} {MASK} {MASK} off"


def test_allowed_at_level_still_lists_what_was_found(moderator: Moderator) -> None:
    verdict = moderator.check("what the shit", "mature")
    assert verdict.verdict == "allow"
    assert verdict.categories == ["profanity"]
    assert verdict.reasons == []
    assert verdict.redacted is None


# --- batching, edge sizes ---------------------------------------------------------------------

MIXED = [
    "",
    "Once upon a time there was a brave fox.",
    "what the f.u.c.k",
    "you faggot",
    "He was disemboweled.",
    "Kill... yourself",
    "🎉 مرحبا",
]


MIXED_VERDICTS = {
    "family": ["allow", "allow", "block", "block", "block", "block", "allow"],
    "teen": ["allow", "allow", "redact", "block", "redact", "block", "allow"],
    "mature": ["allow", "allow", "allow", "block", "allow", "block", "allow"],
}


@pytest.mark.parametrize("level", ["family", "teen", "mature"])
def test_check_many_gives_each_text_its_own_verdict(moderator: Moderator, level: str) -> None:
    """Against known verdicts, and against texts checked alone by a fresh moderator, in
    reverse order: a batch must not carry a hit, a span or a cache entry from one text to
    the next (`check` is `check_many` of one text, so comparing the two proves nothing)."""
    batch = moderator.check_many(MIXED, level)
    assert [v.verdict for v in batch] == MIXED_VERDICTS[level]
    alone = Moderator(use_classifier=False)
    singles = {t: alone.check_many([t], level)[0] for t in reversed(MIXED)}
    assert [v.model_dump() for v in batch] == [singles[t].model_dump() for t in MIXED]
    spans = [[(s.start, s.end, s.category) for s in v.spans] for v in batch]
    assert spans[2] == [(9, 16, "profanity")] and spans[3] == [(4, 10, "slurs")]


def test_check_many_equals_check_with_classifier(classified: Moderator) -> None:
    batch = classified.check_many(MIXED, "teen")
    single = [classified.check(t, "teen") for t in MIXED]
    assert [v.verdict for v in batch] == [v.verdict for v in single]
    for b, s in zip(batch, single, strict=True):
        assert b.classifier_score == pytest.approx(s.classifier_score)


def test_empty_text(moderator: Moderator) -> None:
    verdict = moderator.check("", "family")
    assert (verdict.verdict, verdict.spans, verdict.categories) == ("allow", [], [])
    assert moderator.check_many([], "family") == []


def test_very_long_text(moderator: Moderator) -> None:
    text = ("The fox ran through the quiet forest. " * 600)[:19_990] + " shit!"
    assert len(text) > 19_990
    verdict = moderator.check(text, "teen")
    (span,) = verdict.spans
    assert text[span.start : span.end] == "shit"
    assert verdict.redacted is not None
    assert verdict.redacted.endswith(" ████!")


# --- classifier -------------------------------------------------------------------------------


def test_classifier_flags_what_the_lists_miss(classified: Moderator) -> None:
    text = "You stupid idiot, get out of my house!"
    family, teen, mature = (classified.check(text, lvl) for lvl in ("family", "teen", "mature"))
    assert (family.verdict, teen.verdict, mature.verdict) == ("block", "block", "allow")
    assert family.categories == ["profanity"]
    assert family.spans == []
    assert family.classifier_score is not None and family.classifier_score > 0.97
    assert "classifier" in teen.reasons[0] and "no single word to hide" in teen.reasons[0]
    assert Moderator(use_classifier=False).check(text, "family").verdict == "allow"


def test_classifier_scores_story_text_low(classified: Moderator) -> None:
    verdict = classified.check("The ghost screamed and the knight drew his sword.", "family")
    assert verdict.verdict == "allow"
    assert verdict.classifier_score is not None and verdict.classifier_score < 0.5


def test_classifier_respects_exemptions_and_allowed_phrases(classified: Moderator) -> None:
    assert classified.check("damn it", "family").verdict == "block"
    exempt = GuildPolicy(level="family", exempt_terms=["damn"])
    assert classified.check("damn it", policy=exempt).verdict == "allow"
    assert classified.check("The cock crowed at dawn.", "family").verdict == "allow"


def test_missing_classifier_degrades_to_word_lists(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "profanity_check", None)  # makes the import fail
    moderator = Moderator(use_classifier=True)
    with caplog.at_level(logging.WARNING, logger="generators.moderation.classifier"):
        verdict = moderator.check("what the shit", "family")
    assert verdict.verdict == "block"
    assert verdict.classifier_score is None
    assert not moderator.uses_classifier
    assert "word lists only" in caplog.text


def test_classifier_threshold_is_validated() -> None:
    with pytest.raises(ValueError, match="classifier_threshold"):
        Moderator(use_classifier=False, classifier_threshold=1.5)


def test_fast_path_imports_neither_sklearn_nor_torch() -> None:
    code = (
        "import sys\n"
        "from generators.moderation import Moderator\n"
        "Moderator(use_classifier=False).check('what the f.u.c.k', 'family')\n"
        "print(sorted(m for m in ('torch', 'sklearn', 'profanity_check') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_default_moderator_is_cached() -> None:
    assert default_moderator() is default_moderator()


# --- training-data cleaning -------------------------------------------------------------------

DOCS = [
    "Once upon a time a fox lived in the woods.",
    "The old man called him a n1gger and spat.",
    "They had sex in the barn.",
    "The ass carried the miller's sacks, damn it.",
    "The knight was disemboweled by the dragon.",
]


def test_cleaning_drops_slurs_and_sexual_content_and_keeps_the_rest(moderator: Moderator) -> None:
    kept, report = clean_corpus_documents(moderator, iter(DOCS))
    assert kept == [DOCS[0], DOCS[3], DOCS[4]]
    assert (report.total, report.kept, report.dropped, report.redacted) == (5, 3, 2, 0)
    assert report.by_category == {"slurs": 1, "sexual": 1, "profanity": 1, "violence": 1}


def test_cleaning_can_redact_and_follows_the_level(moderator: Moderator) -> None:
    kept, report = clean_corpus_documents(moderator, DOCS, "teen", redact=True)
    assert kept[1:] == [
        "The ███ carried the miller's sacks, damn it.",
        "The knight was ████████████ by the dragon.",
    ]
    assert report.redacted == 2
    kept, report = clean_corpus_documents(moderator, DOCS, "mature")
    assert DOCS[2] in kept
    assert report.dropped == 1


def test_the_corpus_hook_refuses_an_unknown_level_when_it_is_made():
    from generators.train.prepare import corpus_moderation_hook

    with pytest.raises(ValueError, match="unknown moderation level 'strict'"):
        corpus_moderation_hook("strict")
