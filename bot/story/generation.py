"""Model turns: build the request from the story, ask the generator, apply the guild's rules,
and store the result as a pending turn.

Nothing changes until the generator has answered: the pending alternative that a new turn
moves past is kept only after generation succeeds, in the transaction that stores the new turn,
so a model that is down or slow leaves the story exactly as it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.errors import InvalidInput
from bot.story.context import build_context
from bot.story.core import EngineCore, current_pending, name_for
from bot.story.failures import user_errors
from bot.story.from_records import FALLBACK_PARAM
from bot.story.guard import GuildRules
from bot.story.live_text import LiveTurn, ShownText
from bot.story.lore_select import read_lore
from bot.story.results import GenerationResult
from bot.story.table import require_move_on
from bot.story.text import optional_text
from generators.client import StreamingGenerator
from generators.errors import GeneratorTimeout
from generators.schemas import (
    AVOIDED_CHARS,
    AVOIDED_TURNS,
    GenerateRequest,
    GenerateResponse,
    GenerationParams,
    Kind,
)
from storage.models import (
    Character,
    ContextTurn,
    ModelInputs,
    Story,
    StyleProfile,
    Turn,
    TurnDraft,
    TurnKind,
)

AI_KINDS: tuple[Kind, ...] = ("continue", "dialogue", "twist", "poem")
"""What people may ask for; `opening` is asked by `start`."""
TURN_KIND: dict[Kind, TurnKind] = {
    "continue": "narration",
    "dialogue": "dialogue",
    "twist": "twist",
    "poem": "poem",
    "opening": "opening",
}
REQUEST_KIND: dict[TurnKind, Kind] = {turn_kind: kind for kind, turn_kind in TURN_KIND.items()}
LENGTH_SCALE = {"short": 0.6, "medium": 1.0, "long": 1.5}
ATTEMPTS = 2
"""A request whose candidates all fail the guild's rules is asked once more, then replaced."""


@dataclass(frozen=True, slots=True)
class Generated:
    text: str
    model_id: str
    score: float | None
    moderation: dict[str, Any] | None
    fallback: bool
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ask:
    """One request for a model turn: what, for whom, about whom."""

    kind: Kind
    requester_id: int
    requester_name: str
    speaker: Character | None = None
    theme: str | None = None
    extra_params: dict[str, Any] = field(default_factory=dict)
    speaker_name: str | None = None
    """Who speaks when the sheet is gone (a reroll of a deleted character's line)."""

    @property
    def speaking(self) -> str | None:
        return self.speaker.name if self.speaker else self.speaker_name


class Generation(EngineCore):
    @user_errors
    async def ai_turn(
        self,
        channel_id: int,
        user_id: int,
        kind: str = "continue",
        character_name: str | None = None,
        theme: str | None = None,
        *,
        user_name: str | None = None,
        live: LiveTurn | None = None,
    ) -> GenerationResult:
        """Ask the model for the next turn; it is stored pending, for Keep / Reroll.

        In round-robin only the writer holding the turn may ask, and the model's turn counts
        as theirs: the turn passes on once it is generated. With `live`, a generator that can
        stream shows the text there as it is written (moderated; the stored turn is the
        finished one).
        """
        if kind not in AI_KINDS:
            raise InvalidInput(f"Unknown kind of turn {kind!r}; use one of {', '.join(AI_KINDS)}.")
        story, participants = await self._playable_story_with_people(channel_id)
        writer = self._require_writer(story, participants, user_id)
        names = {p.user_id: p.display_name for p in participants}
        rules = await self.guard.rules(story.guild_id)
        speaker = None
        if kind == "dialogue":
            if not character_name or not character_name.strip():
                raise InvalidInput("Say which character speaks, e.g. /story say Captain Mira.")
            speaker = await self._voiced_character(story, participants, character_name, user_id)
        topic = optional_text(theme, 300, "The poem's theme", single_line=True).text or None
        if topic:
            topic = self.guard.require(topic, rules, "The poem's theme").text
        ask = Ask(kind, user_id, name_for(user_id, user_name, names), speaker, topic)
        async with self.locks.hold(story.id):
            if speaker is not None:
                await self.storage.characters.link(story.id, speaker.id, user_id)
            turn, kept, generated = await self._add_model_turn(story, ask, rules, names, live)
            if writer is not None:
                story = await self._advance(story, participants, writer.seat)
        return GenerationResult(
            story=await self._info(story, participants),
            turn=await self._view(turn, names, alternatives=[turn]),
            auto_kept=None if kept is None else await self._view(kept, names),
            fallback=generated.fallback,
            notices=fallback_notice(generated),
        )

    async def _add_model_turn(
        self,
        story: Story,
        ask: Ask,
        rules: GuildRules,
        names: Mapping[int, str] | None = None,
        live: LiveTurn | None = None,
    ) -> tuple[Turn, Turn | None, Generated]:
        """Generate the next slot, then keep what it moves past and store it pending (a new
        slot: the turn is its only alternative). The caller holds the story's lock, so the
        pending alternatives read once stay true until they are kept. With `names` (a person
        asking), the table's rule for moving past someone else's model turn applies first."""
        inputs = await self._model_inputs(story.id, ask.requester_id)
        if names is not None:
            require_move_on(
                story,
                inputs.pending,
                ask.requester_id,
                names,
                self.clock(),
                self.options.pending_turn_hold_s,
            )
        pending = current_pending(inputs.pending)
        generated = await self._generate(
            story, ask, rules, inputs=inputs, pending=pending, live=live
        )
        kept, turn = await self.storage.turns.keep_and_add(
            story.id, self._draft(ask, generated), [p.id for p in pending], ask.requester_id
        )
        return turn, kept[-1] if kept else None, generated

    async def _model_inputs(self, story_id: int, user_id: int) -> ModelInputs:
        return await self.storage.model_inputs(story_id, user_id, self.options.context_turns)

    def _draft(self, ask: Ask, generated: Generated) -> TurnDraft:
        return TurnDraft(
            author_kind="model",
            text=generated.text,
            author_id=ask.requester_id,
            author_name=ask.requester_name,
            kind=TURN_KIND[ask.kind],
            character_id=ask.speaker.id if ask.speaker else None,
            character_name=ask.speaking,
            model_id=generated.model_id,
            params=generated.params,
            score=generated.score,
            moderation=generated.moderation,
        )

    def _context_turns(
        self, inputs: ModelInputs, pending: Sequence[Turn], before_slot: int | None
    ) -> list[ContextTurn]:
        """The latest turns the model should follow: accepted ones and the current pending
        alternatives (which will be kept when the story moves on), before `before_slot`."""
        current = [ContextTurn.of(turn) for turn in pending]
        turns = sorted([*inputs.context, *current], key=lambda turn: turn.slot)
        if before_slot is not None:
            turns = [turn for turn in turns if turn.slot < before_slot]
        return turns[-self.options.context_turns :]

    async def _style_for(
        self, story: Story, user_id: int, profile: StyleProfile | None
    ) -> tuple[list[float] | None, dict]:
        """The requester's style vector (when the story matches styles) and preferences."""
        preferences = dict(profile.preferences) if profile else {}
        vector = None
        if story.style_matching and await self._style_on(user_id, story.guild_id):
            if self.style is not None:
                vector = await self.style.vector(user_id)
            elif profile is not None and profile.count:
                vector = list(profile.vector)
        return vector, preferences

    async def _request(
        self,
        story: Story,
        ask: Ask,
        rules: GuildRules,
        before_slot: int | None,
        pending: Sequence[Turn] | None = None,
        inputs: ModelInputs | None = None,
        avoid: Sequence[str] = (),
    ) -> GenerateRequest:
        """The request for the next turn (or for `before_slot`), from `inputs` when the caller
        read them, with `pending` as the current alternatives when it chose them; `avoid`:
        texts the turn must not repeat (a reroll's earlier alternatives)."""
        if inputs is None:
            inputs = await self._model_inputs(story.id, ask.requester_id)
        if pending is None:
            pending = current_pending(inputs.pending)
        turns = self._context_turns(inputs, pending, before_slot)
        characters = list(inputs.characters)
        if ask.speaker is not None and all(c.id != ask.speaker.id for c in characters):
            characters.append(ask.speaker)
        vector, preferences = await self._style_for(story, ask.requester_id, inputs.style)
        memory, lore = await read_lore(self.storage, story, turns, characters, ask.speaking)
        options = self.options
        scale = LENGTH_SCALE.get(str(preferences.get("length", "medium")), 1.0)
        context = build_context(
            story,
            turns,
            characters,
            speaker=ask.speaking,
            theme=ask.theme,
            style_vector=vector,
            style_hints={
                key: value
                for key, value in preferences.items()
                if isinstance(value, str | int | float) and not isinstance(value, bool)
            },
            max_chars=options.context_chars,
            memory=memory,
            lore=[item.text for item in lore.chosen],
        )
        params = GenerationParams(
            max_tokens=max(8, min(512, round(options.max_tokens * scale))),
            temperature=float(preferences.get("temperature", options.temperature)),
            top_p=options.top_p,
            repetition_penalty=options.repetition_penalty,
            n=options.candidates,
            rerank="style" if context.style_vector else "story",
            avoid=[text for text in avoid if len(text) <= AVOIDED_CHARS][-AVOIDED_TURNS:],
        )
        return GenerateRequest(
            kind=ask.kind,
            context=context,
            params=params,
            model=story.model_id or options.model,
            moderation_level=rules.policy.level,
        )

    async def _ask_generator(
        self, request: GenerateRequest, shown: ShownText | None = None
    ) -> GenerateResponse:
        timeout = self.options.generation_timeout_s
        try:
            async with asyncio.timeout(timeout):
                if shown is not None and isinstance(self.generator, StreamingGenerator):
                    return await self.generator.stream(request, shown)
                return await self.generator.generate(request)
        except TimeoutError as exc:
            raise GeneratorTimeout(f"no answer within {timeout:g} s") from exc

    async def _generate(
        self,
        story: Story,
        ask: Ask,
        rules: GuildRules,
        *,
        before_slot: int | None = None,
        pending: Sequence[Turn] | None = None,
        inputs: ModelInputs | None = None,
        live: LiveTurn | None = None,
        avoid: Sequence[str] = (),
    ) -> Generated:
        """The best candidate that passes the guild's rules; asked twice, then a safe line.
        With `live`, the text as it is written, moderated the same way, is shown there;
        `avoid`: texts not to repeat (a reroll's earlier alternatives)."""
        request = await self._request(story, ask, rules, before_slot, pending, inputs, avoid)
        shown = None if live is None else ShownText(live, lambda t: self.guard.check(t, rules))
        params = {"kind": ask.kind, **request.params.model_dump(exclude_none=True)}
        params.update(ask.extra_params)
        if ask.theme:
            params["theme"] = ask.theme
        refused: tuple[str, tuple[str, ...]] | None = None
        model_id = story.model_id or self.options.model or "unknown"
        for _ in range(ATTEMPTS):
            response = await self._ask_generator(request, shown)
            model_id = response.model
            candidates: list[tuple[str, float | None]] = [
                (c.text, c.score) for c in response.candidates
            ] or [(response.text, None)]
            checks = self.guard.check_many([text for text, _ in candidates], rules)
            for (text, score), checked in zip(candidates, checks, strict=True):
                if not checked.blocked and checked.text.strip():
                    if response.fallback:
                        # The generator's own moderation blocked every candidate it made.
                        params[FALLBACK_PARAM] = True
                        await self._log_fallback(
                            story, ask, "", response.moderation.reasons, "generator"
                        )
                    return Generated(
                        checked.text, model_id, score, checked.record(), response.fallback, params
                    )
                if refused is None:
                    refused = (text, checked.reasons)
        excerpt, reasons = refused or ("", ())
        await self._log_fallback(story, ask, excerpt, reasons, "guild rules")
        line = self.guard.safe_line(ask.kind, ask.speaking, rules)
        return Generated(line, model_id, None, None, True, {**params, FALLBACK_PARAM: True})

    async def _log_fallback(
        self, story: Story, ask: Ask, excerpt: str, reasons: Sequence[str], blocked_by: str
    ) -> None:
        """A safe fallback line replaced the model's words: moderators see it in the queue."""
        await self.storage.moderation.add(
            story.guild_id,
            "fallback",
            "generated",
            story_id=story.id,
            user_id=ask.requester_id,
            excerpt=excerpt[:300],
            verdict={
                "verdict": "block",
                "reasons": list(reasons),
                "attempts": ATTEMPTS,
                "blocked_by": blocked_by,
            },
        )


def fallback_notice(generated: Generated) -> tuple[str, ...]:
    if not generated.fallback:
        return ()
    return (
        "Every candidate the model wrote failed this server's moderation, so a safe line was "
        "used instead; reroll for another try.",
    )
