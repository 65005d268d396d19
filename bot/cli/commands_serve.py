"""`talewright serve`: the generation service over HTTP (see generators/service).

The same service as `python -m generators.service`, with the bot's check of the whole config
file: a bad key in any table stops it."""

from __future__ import annotations

import argparse
import sys

from bot.settings import ServiceSection, Settings, SettingsError, load_settings
from generators.service.cli import add_serve_options, run_service, with_options


def service_settings(args: argparse.Namespace) -> tuple[Settings, ServiceSection]:
    """The config's `[service]` section with the command line's overrides on top."""
    settings = load_settings(args.config)
    return settings, with_options(settings.service, args)


def _serve(args: argparse.Namespace) -> int:
    try:
        settings, section = service_settings(args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    return run_service(section, settings.moderation, args.log_level)


def add_serve_command(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the generation service (HTTP API)")
    add_serve_options(serve)
    serve.set_defaults(func=_serve)
