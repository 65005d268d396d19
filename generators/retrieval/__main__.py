"""`python -m generators.retrieval build --data DIR [--out FOLDER] [--if-missing]`: build the
passage index (by default where the generators look for it: generators.paths.retrieval_index)."""

from __future__ import annotations

import argparse
from pathlib import Path

from generators.retrieval.build import build_from_corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generators.retrieval")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the passage index from a corpus folder")
    build.add_argument("--data", type=Path, required=True, help="the corpus folder")
    build.add_argument("--out", type=Path, help="the index folder (default: where it is read)")
    build.add_argument(
        "--if-missing", action="store_true", help="do nothing when an index is already there"
    )
    args = parser.parse_args(argv)
    return build_from_corpus(args.data, args.out, args.if_missing)


if __name__ == "__main__":
    raise SystemExit(main())
