"""The service's bearer key on a real loopback server: every model endpoint needs it, the
probes only when asked, HttpGenerator sends it, and an open service beyond loopback is refused."""

from __future__ import annotations

import httpx
import pytest
from test_service_support import ACCEPTANCE_BODY, metric, running_service

from bot.cli.main import main
from bot.settings import SettingsError, load_settings
from generators.api_keys import ServiceSecurityError, read_api_key
from generators.errors import InvalidGenerationRequest
from generators.http_client import HttpGenerator
from generators.schemas import GenerateRequest
from generators.service import create_app
from generators.service.auth import is_loopback
from generators.service.settings import ServiceSection, load_service_settings

KEY = "s3cret-key-for-tests"
GOOD = {"authorization": f"Bearer {KEY}"}
CALLS = [
    ("POST", "/v1/generate", ACCEPTANCE_BODY),
    ("POST", "/v1/moderate", {"text": "Once upon a time."}),
    ("POST", "/v1/embed", {"texts": ["Once upon a time."]}),
    ("GET", "/v1/models", None),
]
WRONG = [
    {},
    {"authorization": "Bearer wrong"},
    {"authorization": f"Bearer {KEY[:-1]}"},
    {"authorization": f"Bearer {KEY}x"},
    {"authorization": f"Basic {KEY}"},
    {"authorization": "Bearer"},
]


def test_model_endpoints_need_the_key_and_probes_stay_open(tiny_checkpoint):
    with (
        running_service(tiny_checkpoint, api_key=KEY) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        for method, path, payload in CALLS:
            for headers in WRONG:
                refused = http.request(method, path, json=payload, headers=headers)
                assert refused.status_code == 401, (path, headers)
                assert refused.json()["error"] == "unauthorized"
                assert refused.headers["www-authenticate"] == "Bearer"
            allowed = http.request(method, path, json=payload, headers=GOOD)
            # /v1/embed has no sentence VAE here: a 404 means it got past the key
            assert allowed.status_code == (404 if path == "/v1/embed" else 200), allowed.text
        assert http.get("/docs").status_code == 401
        for probe in ("/healthz", "/readyz", "/metrics"):
            assert http.get(probe).status_code == 200
        stats = http.get("/metrics").text
    refusals = metric(stats, "talewright_requests_total", endpoint="/v1/generate", status="401")
    assert refusals == len(WRONG)


def test_protect_probes_puts_the_probes_behind_the_key(tiny_checkpoint):
    with (
        running_service(tiny_checkpoint, api_key=KEY, protect_probes=True) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        for probe in ("/healthz", "/readyz", "/metrics"):
            assert http.get(probe).status_code == 401
            assert http.get(probe, headers=GOOD).status_code == 200


def test_without_a_key_the_loopback_service_is_open(tiny_checkpoint):
    with running_service(tiny_checkpoint) as server:
        assert httpx.get(f"{server.url}/v1/models", timeout=60).status_code == 200


async def test_http_generator_sends_the_key(tiny_checkpoint):
    request = GenerateRequest.model_validate(ACCEPTANCE_BODY)
    with running_service(tiny_checkpoint, api_key=KEY) as server:
        keyed = HttpGenerator([server.url], timeout_s=60, api_key=KEY)
        keyless = HttpGenerator([server.url], timeout_s=60)
        try:
            answer = await keyed.generate(request)
            with pytest.raises(InvalidGenerationRequest, match="API key"):
                await keyless.generate(request)
        finally:
            await keyed.aclose()
            await keyless.aclose()
    assert len(answer.candidates) == 2


def test_the_key_can_come_from_a_file(tiny_checkpoint, tmp_path):
    secret = tmp_path / "key"
    secret.write_text(f"{KEY}\n")
    with running_service(tiny_checkpoint, api_key_file=secret) as server:
        assert httpx.get(f"{server.url}/v1/models").status_code == 401
        assert httpx.get(f"{server.url}/v1/models", headers=GOOD).status_code == 200


def test_unusable_key_settings_are_refused(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ServiceSecurityError, match=r"\[service\] api_key_file .* is empty"):
        read_api_key(None, empty)
    with pytest.raises(ServiceSecurityError, match="cannot be read"):
        read_api_key(None, tmp_path / "missing")
    with pytest.raises(ServiceSecurityError, match="not both"):
        read_api_key("a", empty)
    with pytest.raises(ServiceSecurityError, match=r"\[generator\] api_key is empty"):
        read_api_key(" ", None, "generator")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "service.internal"])
def test_an_open_service_beyond_loopback_is_refused(host):
    with pytest.raises(ServiceSecurityError, match="allow_unauthenticated_remote"):
        create_app(ServiceSection(host=host))
    create_app(ServiceSection(host=host, api_key=KEY))  # building the app loads nothing
    create_app(ServiceSection(host=host, allow_unauthenticated_remote=True))


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_addresses_may_stay_open(host):
    assert is_loopback(host)
    create_app(ServiceSection(host=host))


def test_serve_refuses_to_listen_openly_beyond_loopback(
    tiny_checkpoint, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    argv = ["serve", "--checkpoint", str(tiny_checkpoint), "--device", "cpu", "--host", "0.0.0.0"]
    assert main(argv) == 2
    assert "refusing to listen on 0.0.0.0 without an API key" in capsys.readouterr().err


@pytest.mark.parametrize("load", [load_settings, load_service_settings])
def test_the_key_never_shows_in_settings_or_errors(load, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TALEWRIGHT_SERVICE__API_KEY", KEY)
    settings = load()
    assert settings.service.api_key.get_secret_value() == KEY
    assert KEY not in repr(settings) and KEY not in str(settings.service.model_dump())
    monkeypatch.delenv("TALEWRIGHT_SERVICE__API_KEY")
    config = tmp_path / "config.toml"
    config.write_text(f'[service]\napi_key = ["{KEY}"]\n')
    with pytest.raises(SettingsError, match=r"service.api_key = \*+: Input should be") as error:
        load(config)
    assert KEY not in str(error.value)
