"""The service's optional bearer API key, and the rule that a service listening beyond loopback
has one (or an operator said explicitly that it may go without).

The key comes from a secret setting or a file (a mounted secret); requests send it as
`Authorization: Bearer <key>`. Every path needs it except the probes (`/healthz`, `/readyz`,
`/metrics`), which stay open for orchestrators unless `protect_probes` says otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from generators.api_keys import ServiceSecurityError
from generators.service.responses import error_body

PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


def is_loopback(host: str) -> bool:
    """Only loopback addresses and `localhost` count; `0.0.0.0`, `::` and names do not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, key: str | None, allow_unauthenticated_remote: bool) -> None:
    """Refuse to serve without a key on an address other machines can reach, unless allowed."""
    if key is not None or allow_unauthenticated_remote or is_loopback(host):
        return
    raise ServiceSecurityError(
        f"refusing to listen on {host} without an API key: set [service] api_key "
        "(TALEWRIGHT_SERVICE__API_KEY) or api_key_file, or set "
        "allow_unauthenticated_remote = true if the network itself is trusted"
    )


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


class ApiKeyMiddleware:
    """401 for any request without the bearer key, except on `open_paths` (pure ASGI, in front
    of everything else, so an unauthenticated body is never read)."""

    def __init__(self, app: ASGIApp, key: str, open_paths: frozenset[str] = frozenset()):
        self.app = app
        self.expected = _digest(key.encode())
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        refusal = JSONResponse(
            error_body("unauthorized", "missing or wrong API key (Authorization: Bearer <key>)"),
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await refusal(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        given = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    given = token.strip()
                break
        # Equal-length digests compared in constant time: neither the key nor its length leaks.
        return hmac.compare_digest(_digest(given), self.expected) and bool(given)
