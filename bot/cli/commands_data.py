"""`talewright data download DEST`: rebuild the training corpus from its pinned public sources."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _download(args: argparse.Namespace) -> int:
    from generators.data.download import DownloadOptions, download_corpus
    from generators.data.fetch import Fetcher
    from generators.data.manifest import DEFAULT_MANIFEST, ManifestError, load_manifest

    if args.retries < 0:
        print("--retries must be 0 or more", file=sys.stderr)
        return 2
    try:
        manifest = load_manifest(Path(args.manifest) if args.manifest else DEFAULT_MANIFEST)
    except ManifestError as exc:
        print(exc, file=sys.stderr)
        return 2
    options = DownloadOptions(
        base_url=args.base_url,
        accept_mismatch=args.accept_mismatch,
        keep_sources=args.keep_sources,
        parts=tuple(args.only or ("gutenberg", "tinystories")),
        progress=not args.no_progress,
    )
    with Fetcher(attempts=args.retries + 1, backoff_s=args.backoff) as fetcher:
        report = download_corpus(Path(args.destination), manifest, options, fetcher)
    for line in report.lines():
        print(line, file=sys.stderr if line.startswith("FAILED") else sys.stdout)
    return 1 if report.failed else 0


def add_data_command(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="the training corpus")
    actions = data.add_subparsers(dest="data_command", required=True)
    command = actions.add_parser(
        "download",
        help="fetch the pinned corpus sources, normalise and verify them into DEST",
        description="Rebuilds the corpus folder (tinystories/, gutenberg/<genre>/) that "
        "`talewright train --data DEST` reads. Files already present and verified are kept.",
    )
    command.add_argument("destination", metavar="DEST", help="corpus folder to fill")
    command.add_argument("--manifest", help="sources file (default: the pinned one)")
    command.add_argument(
        "--base-url", help="raw-file server (default https://raw.githubusercontent.com)"
    )
    command.add_argument(
        "--only", action="append", choices=["gutenberg", "tinystories"], help="one part only"
    )
    command.add_argument(
        "--accept-mismatch",
        action="store_true",
        help="keep files that differ from the reference checksums (reported)",
    )
    command.add_argument(
        "--keep-sources", action="store_true", help="keep the raw downloads in DEST/.sources"
    )
    command.add_argument("--retries", type=int, default=3, help="retries per file (default 3)")
    command.add_argument(
        "--backoff", type=float, default=1.0, help="first retry delay in seconds, doubling"
    )
    command.add_argument("--no-progress", action="store_true", help="no progress bar")
    command.set_defaults(func=_download)
    index = actions.add_parser(
        "index",
        help="build the passage index that lets corpus passages compete with the model's turns",
        description="Indexes the training split of the corpus (never validation text) so that "
        "story turns can be recast human passages as well as the model's samples. `make play` "
        "builds it once; the bot, the service and `talewright play` use it when it is there.",
    )
    index.add_argument("source", metavar="DATA", help="the corpus folder")
    index.add_argument("--out", help="the index folder (default: where the generators read it)")
    index.add_argument(
        "--if-missing", action="store_true", help="do nothing when an index is already there"
    )
    index.set_defaults(func=_index)


def _index(args: argparse.Namespace) -> int:
    from generators.retrieval.build import build_from_corpus

    out = Path(args.out) if args.out else None
    return build_from_corpus(Path(args.source), out, args.if_missing)
