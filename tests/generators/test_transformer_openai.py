"""The OpenAI-compatible endpoints serving the tiny transformer: the LSTM's tests, run here with
this module's fixtures (the official `openai` client against the real app on loopback)."""

from __future__ import annotations

import openai
import pytest
from test_service_openai import (  # noqa: F401
    KEY,
    test_a_completion_continues_the_prompt_with_usage,
    test_a_seed_gives_the_same_completion_twice,
    test_chat_reads_the_system_hints_as_the_story_settings,
    test_chat_streams_word_by_word_and_ends_with_done,
    test_n_gives_that_many_choices,
    test_streamed_completions_keep_each_choice_apart,
)
from test_service_support import running_service, tiny_registry


@pytest.fixture(scope="module")
def server(tiny_transformer, tiny_checkpoint):
    registry = tiny_registry(tiny_transformer, tiny_checkpoint)
    with running_service(tiny_transformer, registry=registry, api_key=KEY) as live:
        yield live


@pytest.fixture
def client(server):
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0) as client:
        yield client
