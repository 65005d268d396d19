"""Starting the generation service: `python -m generators.service` (and `talewright serve`,
which adds the bot's check of the whole config file and runs the same `run_service`).

The web framework, torch and the models load only once the options are read, so `--help` and a
bad option answer at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from generators.config_file import SettingsError
from generators.service.settings import ModerationSection, ServiceSection, load_service_settings


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    """The options that override the `[service]` table, shared with `talewright serve`."""
    parser.add_argument("--config", help="config.toml (default: $TALEWRIGHT_CONFIG, ./config.toml)")
    parser.add_argument("--host", help="address to listen on (overrides [service] host)")
    parser.add_argument("--port", type=int, help="port (overrides [service] port)")
    parser.add_argument(
        "--checkpoint",
        dest="checkpoints",
        action="append",
        metavar="DIR",
        help="checkpoint folder to serve; repeat for several (the first is the default model)",
    )
    parser.add_argument("--device", help="auto, cpu, cuda or cuda:N (overrides [service] device)")
    parser.add_argument(
        "--no-batching", action="store_true", help="one request at a time (a baseline)"
    )


def with_options(section: ServiceSection, args: argparse.Namespace) -> ServiceSection:
    """`section` with the command line's overrides on top."""
    overrides: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "checkpoints": args.checkpoints,
        "device": args.device,
    }
    if args.no_batching:
        overrides["batching"] = False
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return ServiceSection.model_validate({**section.model_dump(), **given})
    except ValueError as exc:
        raise SettingsError(f"invalid serve option: {exc}") from None


def run_service(section: ServiceSection, moderation: ModerationSection, log_level: str) -> int:
    """Serve until stopped; 2, with one clear line on stderr, when the settings cannot work."""
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
        use_classifier=moderation.use_classifier,
        classifier_threshold=moderation.classifier_threshold,
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
    uvicorn.run(app, host=section.host, port=section.port, log_level=log_level.lower())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m generators.service",
        description="Run the generation service (HTTP API) with the [service] and [moderation] "
        "settings of config.toml and TALEWRIGHT_SERVICE__* / TALEWRIGHT_MODERATION__* variables.",
    )
    parser.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    add_serve_options(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_service_settings(args.config)
        section = with_options(settings.service, args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    return run_service(section, settings.moderation, args.log_level)
