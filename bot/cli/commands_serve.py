"""`talewright serve`: the generation service over HTTP (see generators/service)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.settings import ServiceSection, Settings, SettingsError, load_settings


def service_settings(args: argparse.Namespace) -> tuple[Settings, ServiceSection]:
    """The config's `[service]` section with the command line's overrides on top."""
    settings = load_settings(args.config)
    overrides: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "checkpoints": args.checkpoints,
        "device": args.device,
    }
    if args.no_batching:
        overrides["batching"] = False
    given = {key: value for key, value in overrides.items() if value is not None}
    merged = {**settings.service.model_dump(), **given}
    try:
        return settings, ServiceSection.model_validate(merged)
    except ValueError as exc:
        raise SettingsError(f"invalid serve option: {exc}") from None


def _serve(args: argparse.Namespace) -> int:
    try:
        settings, section = service_settings(args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    missing = [str(path) for path in section.checkpoints if not path.is_dir()]
    if missing:
        print(
            f"checkpoint folder not found: {', '.join(missing)}\n"
            "train one (`talewright train lstm --config configs/lstm-default.toml`) "
            "or pass --checkpoint DIR",
            file=sys.stderr,
        )
        return 2
    import uvicorn

    from generators.moderation import Moderator
    from generators.service import create_app
    from generators.service.loading import resolve_device, serving_autocast

    moderator = Moderator(
        use_classifier=settings.moderation.use_classifier,
        classifier_threshold=settings.moderation.classifier_threshold,
    )
    try:  # refusals (bf16 on a CPU without it, an open service beyond loopback): one clear line
        serving_autocast(section.precision, resolve_device(section.device))
        app = create_app(section, moderator=moderator)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    names = ", ".join(str(p) for p in section.checkpoints)
    mode = "continuous batching" if section.batching else "one request at a time"
    print(
        f"talewright service: {names} on http://{section.host}:{section.port} "
        f"(device {section.device}, {mode})",
        file=sys.stderr,
    )
    uvicorn.run(app, host=section.host, port=section.port, log_level=args.log_level.lower())
    return 0


def add_serve_command(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the generation service (HTTP API)")
    serve.add_argument("--config", help="config.toml (default: $TALEWRIGHT_CONFIG, ./config.toml)")
    serve.add_argument("--host", help="address to listen on (overrides [service] host)")
    serve.add_argument("--port", type=int, help="port (overrides [service] port)")
    serve.add_argument(
        "--checkpoint",
        dest="checkpoints",
        action="append",
        metavar="DIR",
        help="checkpoint folder to serve; repeat for several (the first is the default model)",
    )
    serve.add_argument("--device", help="auto, cpu, cuda or cuda:N (overrides [service] device)")
    serve.add_argument(
        "--no-batching", action="store_true", help="one request at a time (a baseline)"
    )
    serve.set_defaults(func=_serve)
