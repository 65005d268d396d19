"""The wire contract between the story engine, the generation service and its clients.

Everything that crosses a process boundary is one of these pydantic models, so the in-process
generator and the HTTP client accept and return exactly the same shapes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Kind = Literal["continue", "dialogue", "twist", "poem", "opening"]
"""What the model is asked to write: next narration, a character's line, a plot twist, a short
poem, or the opening turn of a new story."""

KINDS: tuple[str, ...] = ("continue", "dialogue", "twist", "poem", "opening")

GENRES: tuple[str, ...] = (
    "children",
    "fairy_tales",
    "fantasy_adventure",
    "horror_gothic",
    "mystery",
    "poetry",
    "science_fiction",
)
"""Genre names: `children` is TinyStories, the rest are the folders of the Gutenberg corpus."""

MOODS: tuple[str, ...] = ("cheerful", "calm", "tense", "sad", "eerie")
"""Mood buckets computed from a lexicon sentiment score (see generators.text.mood)."""

ModerationLevel = Literal["family", "teen", "mature"]
VerdictName = Literal["allow", "redact", "block"]
Rerank = Literal["story", "logprob", "discriminator", "style", "random"]


MAX_STYLE_HINTS = 16
HintName = Annotated[str, StringConstraints(max_length=40)]
HintText = Annotated[str, StringConstraints(max_length=200)]
MAX_MEMORY_CHARS = 1000
MAX_LORE_ENTRIES = 32
MAX_LORE_CHARS = 2000
LoreText = Annotated[str, StringConstraints(max_length=MAX_LORE_CHARS)]


class StrictModel(BaseModel):
    """Unknown fields are errors: a typo in a request must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


class TurnContext(StrictModel):
    """One earlier turn of the story as the model sees it.

    Frozen: the engine reuses one instance for a turn across the requests that include it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    author: str = Field(default="", max_length=100)
    text: str = Field(max_length=4000)
    character: str | None = Field(default=None, max_length=100)
    kind: str = "narration"


class CharacterSheet(StrictModel):
    """The parts of a character that shape what the model writes for them."""

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    personality: str = Field(default="", max_length=2000)
    speech_style: str = Field(default="", max_length=1000)
    backstory: str = Field(default="", max_length=4000)


class StoryContext(StrictModel):
    """Everything about the story that a generation request may use."""

    genre: str = "children"
    mood: str | None = None
    title: str = Field(default="", max_length=200)
    premise: str = Field(default="", max_length=2000)
    turns: list[TurnContext] = Field(default_factory=list, max_length=200)
    characters: list[CharacterSheet] = Field(default_factory=list, max_length=25)
    speaker: str | None = Field(default=None, max_length=100, description="dialogue: who speaks")
    theme: str | None = Field(default=None, max_length=300, description="poem: what it is about")
    style_vector: list[float] | None = Field(default=None, max_length=1024)
    style_hints: dict[HintName, HintText | float | int] = Field(
        default_factory=dict, max_length=MAX_STYLE_HINTS, description="counted as context"
    )
    memory: str = Field(
        default="", max_length=MAX_MEMORY_CHARS, description="the story's note, always read"
    )
    lore: list[LoreText] = Field(
        default_factory=list,
        max_length=MAX_LORE_ENTRIES,
        description="lore texts the story's recent turns call for, most important first",
    )

    @field_validator("genre")
    @classmethod
    def _known_genre(cls, value: str) -> str:
        if value not in GENRES:
            raise ValueError(f"unknown genre {value!r}; expected one of {', '.join(GENRES)}")
        return value

    @field_validator("mood")
    @classmethod
    def _known_mood(cls, value: str | None) -> str | None:
        if value is not None and value not in MOODS:
            raise ValueError(f"unknown mood {value!r}; expected one of {', '.join(MOODS)}")
        return value


AVOIDED_CHARS = 4000
"""The longest text a request may ask not to repeat (a turn is at most 512 tokens)."""
AVOIDED_TURNS = 32
"""How many texts a request may ask not to repeat."""


def same_text(a: str, b: str) -> bool:
    """Whether two turns read the same: case and runs of white space aside."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


class GenerationParams(StrictModel):
    """Sampling settings; the ranges are the service's validation rules."""

    max_tokens: int = Field(default=60, ge=1, le=512)
    min_tokens: int = Field(default=8, ge=0, le=512)
    temperature: float = Field(default=0.8, ge=0.05, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    top_k: int = Field(default=0, ge=0, le=10000)
    repetition_penalty: float = Field(default=1.1, ge=1.0, le=2.0)
    no_repeat_ngram: int = Field(default=4, ge=0, le=10)
    n: int = Field(default=3, ge=1, le=16)
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    rerank: Rerank = "story"
    avoid: list[str] = Field(
        default_factory=list,
        max_length=AVOIDED_TURNS,
        description="texts already offered for this turn (a reroll's earlier alternatives): "
        "no candidate repeats one, and no corpus passage is offered again",
    )

    @field_validator("avoid")
    @classmethod
    def _short_avoided(cls, value: list[str]) -> list[str]:
        for index, text in enumerate(value):
            if len(text) > AVOIDED_CHARS:
                raise ValueError(
                    f"avoid[{index}] has {len(text)} characters; at most {AVOIDED_CHARS}"
                )
        return value


class GenerateRequest(StrictModel):
    kind: Kind = "continue"
    context: StoryContext = Field(default_factory=StoryContext)
    params: GenerationParams = Field(default_factory=GenerationParams)
    model: str | None = Field(default=None, max_length=100, description="checkpoint id")
    moderation_level: ModerationLevel = "teen"


class Span(StrictModel):
    start: int
    end: int
    category: str
    term: str = ""


class ModerationVerdict(StrictModel):
    """What moderation decided about one text, with the evidence."""

    verdict: VerdictName = "allow"
    categories: list[str] = Field(default_factory=list)
    spans: list[Span] = Field(default_factory=list)
    redacted: str | None = None
    reasons: list[str] = Field(default_factory=list)
    classifier_score: float | None = None
    level: ModerationLevel = "teen"


class ModerateRequest(StrictModel):
    text: str = Field(max_length=20000)
    level: ModerationLevel = "teen"


class EmbedRequest(StrictModel):
    """Texts to place in the sentence VAE's latent space (style vectors)."""

    texts: list[str] = Field(min_length=1, max_length=64)

    @field_validator("texts")
    @classmethod
    def _short_texts(cls, value: list[str]) -> list[str]:
        for index, text in enumerate(value):
            if len(text) > 8000:
                raise ValueError(f"text {index} has {len(text)} characters; at most 8000")
        return value


class EmbedResponse(StrictModel):
    """Per text, the posterior mean of each of its sentences (no sentence: an empty list)."""

    vectors: list[list[list[float]]]
    model: str
    latent_dim: int


class Candidate(StrictModel):
    text: str
    score: float
    moderation: ModerationVerdict = Field(default_factory=ModerationVerdict)
    tokens: int = 0
    latent: list[float] | None = None
    origin: Literal["model", "retrieved", "style", "twist"] = "model"
    """Where the text came from: the model's own sample, a corpus passage recast to the
    story's people (generators.retrieval), a style-led or a latent-planned one."""


class Timings(StrictModel):
    queue_ms: float = 0.0
    generate_ms: float = 0.0
    total_ms: float = 0.0


class GenerateResponse(StrictModel):
    text: str
    candidates: list[Candidate]
    model: str
    kind: Kind = "continue"
    moderation: ModerationVerdict = Field(default_factory=ModerationVerdict)
    timings: Timings = Field(default_factory=Timings)
    fallback: bool = Field(default=False, description="True when every candidate was blocked")


class ModelControls(StrictModel):
    """Which request controls a model reads as such. The project's models were trained with a
    token for each genre, mood and kind of turn and a speaker block (`talewright` prompts); a
    model brought from elsewhere reads the story as plain prose (`plain` prompts) and honours
    none of them beyond what the text itself says."""

    prompt_template: Literal["talewright", "plain"] = "talewright"
    genre: bool = True
    mood: bool = True
    kind_tokens: bool = True
    speaker: bool = True


class ModelInfo(StrictModel):
    id: str
    family: str
    parameters: int
    vocab_size: int
    default: bool = False
    card: str = ""
    controls: ModelControls | None = Field(
        default=None, description="language models: the controls the model honours"
    )
