"""A generation shown while it is written: the scheduler's job reports each step's tokens, and
the text each candidate has so far is moderated before any of it is sent.

Only whole words are sent (a poem: whole lines), cleaned as the final text is. The text so far
is moderated every time it grows, at the request's level: when it becomes blocked, or when a
redaction would change what was already sent, that candidate ends with `content_filter`. A
streamed candidate is never regenerated, and one cut by `max_tokens` ends where the stream was
(the non-streamed answer is trimmed back to its last sentence instead). `stop` strings end a
candidate as soon as they appear in its text.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from generators.errors import GeneratorTimeout
from generators.inference import pipeline
from generators.inference.prompts import render_output
from generators.inference.registry import ServedModel
from generators.moderation import Moderator
from generators.schemas import GenerateRequest
from generators.service.jobs import Job
from generators.service.scheduler import Scheduler
from generators.text.speech import attribute_speech


@dataclass
class Piece:
    """New text of one candidate and, on its last piece, why it ended."""

    index: int
    text: str
    finish_reason: str | None = None


@dataclass
class Shown:
    """What a client has been sent of one candidate."""

    text: str = ""
    finish_reason: str | None = None
    tokens: int = 0


def stop_cut(text: str, stops: list[str]) -> tuple[str, bool]:
    """`text` up to the first stop string, and whether one was found."""
    cuts = [text.index(stop) for stop in stops if stop in text]
    return (text[: min(cuts)], True) if cuts else (text, False)


@dataclass
class StoryStream:
    """One streamed request: open it (queued now, so a full queue is refused before any
    answer starts), then iterate `pieces()`."""

    request: GenerateRequest
    served: ServedModel
    prepared: pipeline.PreparedRequest
    job: Job
    scheduler: Scheduler
    moderator: Moderator
    stops: list[str]
    shown: list[Shown] = field(default_factory=list)

    @classmethod
    async def open(
        cls, service, request: GenerateRequest, served: ServedModel, stops: list[str]
    ) -> StoryStream:
        loop = asyncio.get_running_loop()
        prepared = await asyncio.to_thread(
            pipeline.prepare,
            request,
            served.tokenizer,
            served.prompt_budget(service.prompt_budget, request.params.max_tokens),
        )
        job = Job(prepared, served, loop, loop.create_future(), progress=asyncio.Queue())
        service.scheduler.submit(job)
        stream = cls(request, served, prepared, job, service.scheduler, service.moderator, stops)
        stream.shown = [Shown() for _ in prepared.seeds]
        return stream

    @property
    def prompt_tokens(self) -> int:
        return len(self.prepared.prompt.ids)

    @property
    def completion_tokens(self) -> int:
        return sum(shown.tokens for shown in self.shown)

    async def pieces(self, deadline_s: float) -> AsyncIterator[Piece]:
        """Each candidate's new text as it is written, then each one's ending. Leaving early
        (client gone, deadline) frees the job's rows."""
        job, progress = self.job, self.job.progress
        assert progress is not None
        try:
            async with asyncio.timeout(deadline_s):
                while not job.future.done():
                    waiting = asyncio.ensure_future(progress.get())
                    await asyncio.wait({waiting, job.future}, return_when=asyncio.FIRST_COMPLETED)
                    if not waiting.done():
                        waiting.cancel()
                        break
                    snapshot = waiting.result()
                    while not progress.empty():  # only the newest step matters
                        snapshot = progress.get_nowait()
                    for piece in await asyncio.to_thread(self._grow, snapshot):
                        yield piece
                    if all(shown.finish_reason for shown in self.shown):
                        return
                sequences = await job.future
                for piece in await asyncio.to_thread(self._finish, sequences):
                    yield piece
        except TimeoutError:
            raise GeneratorTimeout(f"the request exceeded the {deadline_s:g} s deadline") from None
        finally:
            if not job.future.done():
                self.scheduler.cancel(job)

    def _text(self, tokens: list[int]) -> str:
        """The whole words (a poem: whole lines) of a candidate so far, cleaned for display."""
        prompt, kind = self.prepared.prompt, self.request.kind
        raw = (prompt.prefix_text + self.served.tokenizer.decode(tokens)).lstrip("\n")
        separator = prompt.stop.paragraph
        if separator and separator in raw:
            raw = raw[: raw.index(separator)]
        else:
            cut = raw.rfind("\n") if kind == "poem" else max(raw.rfind(" "), raw.rfind("\n"))
            raw = raw[: max(cut, 0)]
        return self._clean(raw)

    def _clean(self, text: str) -> str:
        kind = self.request.kind
        genre = "poetry" if kind == "poem" else self.request.context.genre
        speaker = self.request.context.speaker if kind == "dialogue" else None
        return attribute_speech(render_output(kind, text, genre), speaker)

    def _grow(self, snapshot: list[list[int]]) -> list[Piece]:
        texts = {
            i: self._text(tokens)
            for i, tokens in enumerate(snapshot)
            if not self.shown[i].finish_reason
        }
        for i, tokens in enumerate(snapshot):
            self.shown[i].tokens = len(tokens)
        grown = {i: t for i, t in texts.items() if len(t) > len(self.shown[i].text)}
        return self._show(grown, final=False)

    def _finish(self, sequences) -> list[Piece]:
        candidates = pipeline.to_candidates(self.prepared, sequences)
        texts: dict[int, str] = {}
        for i, (candidate, sequence) in enumerate(zip(candidates, sequences, strict=True)):
            self.shown[i].tokens = len(sequence.tokens)
            if not self.shown[i].finish_reason:
                texts[i] = candidate.text
        reasons = {
            i: "length" if sequences[i].stop_reason == "max_tokens" else "stop" for i in texts
        }
        return self._show(texts, final=True, reasons=reasons)

    def _show(
        self, texts: dict[int, str], *, final: bool, reasons: dict[int, str] | None = None
    ) -> list[Piece]:
        """Moderate each grown text and send what may be sent."""
        if not texts:
            return []
        order = sorted(texts)
        cut = {i: stop_cut(texts[i], self.stops) for i in order}
        level = self.request.moderation_level
        verdicts = self.moderator.check_many([cut[i][0] for i in order], level)
        pieces = []
        for i, verdict in zip(order, verdicts, strict=True):
            shown = self.shown[i]
            text, stopped = cut[i]
            visible = verdict.redacted if verdict.verdict == "redact" else text
            if verdict.verdict == "block" or visible is None:
                reason = "content_filter"
                delta = ""
            elif not visible.startswith(shown.text):  # what was sent cannot be taken back
                redacted = verdict.verdict == "redact"
                reason = "content_filter" if redacted else (reasons or {}).get(i, "stop")
                delta = ""
            else:
                delta = visible[len(shown.text) :]
                reason = "stop" if stopped else (reasons or {}).get(i) if final else None
            shown.text += delta
            shown.finish_reason = reason
            if delta or reason:
                pieces.append(Piece(i, delta, reason))
        return pieces
