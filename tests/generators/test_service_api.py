"""The service's HTTP API against a real uvicorn server on loopback: the contract, the read-only
endpoints, metrics, and every kind of bad input."""

from __future__ import annotations

import httpx
import pytest
from test_service_support import (
    ACCEPTANCE_BODY,
    STORY,
    body,
    metric,
    running_service,
    tiny_registry,
)


@pytest.fixture(scope="module")
def server(tiny_checkpoint):
    registry = tiny_registry(tiny_checkpoint, tiny_checkpoint)
    with running_service(tiny_checkpoint, registry=registry, max_context_chars=2000) as live:
        yield live


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def test_generate_answers_the_acceptance_request(http):
    response = http.post("/v1/generate", json=ACCEPTANCE_BODY)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["text"] and data["model"] == "tiny" and data["fallback"] is False
    assert len(data["candidates"]) == 2
    assert all({"text", "score"} <= set(c) for c in data["candidates"])
    assert data["text"] == data["candidates"][0]["text"]
    assert data["moderation"]["verdict"] in ("allow", "redact")
    assert set(data["timings"]) == {"queue_ms", "generate_ms", "total_ms"}
    assert data["timings"]["total_ms"] >= data["timings"]["generate_ms"] > 0


def test_a_seed_gives_the_same_text_twice(http):
    first = http.post("/v1/generate", json=body(seed=5, n=3)).json()
    second = http.post("/v1/generate", json=body(seed=5, n=3)).json()
    assert [c["text"] for c in first["candidates"]] == [c["text"] for c in second["candidates"]]


def test_models_health_and_readiness(http):
    listed = http.get("/v1/models").json()
    assert listed["object"] == "list"
    models = [m["talewright"] for m in listed["data"]]
    assert [m["id"] for m in models] == ["tiny", "tiny-1"]
    assert [m["default"] for m in models] == [True, False]
    assert models[0]["family"] == "lstm" and models[0]["vocab_size"] > 0
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_a_request_picks_its_model(http):
    response = http.post("/v1/generate", json={**body(), "model": "tiny-1"})
    assert response.status_code == 200 and response.json()["model"] == "tiny-1"


def test_unknown_model_is_404(http):
    response = http.post("/v1/generate", json={**body(), "model": "nope"})
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_model" and "nope" in response.json()["detail"]


def test_malformed_json_is_422(http):
    response = http.post(
        "/v1/generate",
        content=b'{"kind": "continue",',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["fields"] == ["body"]


def test_a_wrong_type_is_422_naming_the_field(http):
    response = http.post("/v1/generate", json={**body(), "params": {"n": "three"}})
    assert response.status_code == 422
    assert response.json()["fields"] == ["params.n"]
    assert "params.n" in response.json()["detail"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_tokens", 0),
        ("max_tokens", 513),
        ("n", 0),
        ("n", 17),
        ("temperature", 0.01),
        ("temperature", 2.5),
        ("top_p", 0.0),
        ("top_p", 1.5),
        ("avoid", ["a turn"] * 33),
        ("avoid", ["x" * 4001]),
    ],
)
def test_out_of_range_params_are_422(http, field, value):
    response = http.post("/v1/generate", json={"context": STORY, "params": {field: value}})
    assert response.status_code == 422
    assert response.json()["fields"] == [f"params.{field}"]


def test_unknown_fields_and_genres_are_422(http):
    typo = http.post("/v1/generate", json={**body(), "temprature": 0.5})
    assert typo.status_code == 422 and typo.json()["fields"] == ["temprature"]
    genre = http.post("/v1/generate", json={"context": {"genre": "western"}})
    assert genre.status_code == 422 and genre.json()["fields"] == ["context.genre"]


def test_context_over_the_limit_is_413(http):
    turns = [{"text": "word " * 100} for _ in range(3)]  # 1500 characters
    sheet = {"name": "Ann", "backstory": "b" * 400}
    big = {"genre": "children", "premise": "p" * 200, "turns": turns, "characters": [sheet]}
    response = http.post("/v1/generate", json={"context": big})
    assert response.status_code == 413
    assert response.json()["error"] == "context_too_large" and "2000" in response.json()["detail"]
    small = {**big, "characters": []}
    assert http.post("/v1/generate", json={"context": small, "params": {"n": 1}}).status_code == 200


def test_moderate_endpoint(http):
    clean = http.post("/v1/moderate", json={"text": "The cat sat on the mat."})
    assert clean.status_code == 200 and clean.json()["verdict"] == "allow"
    rude = http.post("/v1/moderate", json={"text": "What the fuck was that?", "level": "family"})
    assert rude.json()["verdict"] == "block" and rude.json()["level"] == "family"
    hidden = http.post("/v1/moderate", json={"text": "What the fuck was that?"})
    assert hidden.json()["verdict"] == "redact" and "fuck" not in hidden.json()["redacted"]
    too_long = http.post("/v1/moderate", json={"text": "a" * 20001})
    assert too_long.status_code == 422 and too_long.json()["fields"] == ["text"]


def test_metrics_count_requests_tokens_batches_and_verdicts(http):
    http.post("/v1/generate", json=body(tokens=12))
    http.post("/v1/generate", json={**body(), "model": "nope"})
    http.post("/v1/moderate", json={"text": "hello"})
    text = http.get("/metrics").text
    assert metric(text, "talewright_requests_total", endpoint="/v1/generate", status="200") >= 1
    assert metric(text, "talewright_requests_total", endpoint="/v1/generate", status="404") >= 1
    assert metric(text, "talewright_request_latency_seconds_count", endpoint="/v1/generate") >= 2
    assert metric(text, "talewright_generated_tokens_total") >= 12
    assert metric(text, "talewright_batch_size_count") >= 12
    assert metric(text, "talewright_tokens_per_second") > 0
    assert metric(text, "talewright_moderation_verdicts_total", source="generated", verdict="allow")
    assert metric(text, "talewright_moderation_verdicts_total", source="moderate", verdict="allow")
    assert metric(text, "talewright_queue_depth") == 0
    assert metric(text, "talewright_active_sequences") == 0
