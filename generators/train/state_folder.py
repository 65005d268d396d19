"""Replacing a run's resume folder (`last/`) so that a kill at any moment loses at most the
newest save, never the run.

A save writes `last.new/` and, last of all, its `manifest.json` (the step and the size of every
file, each file synced first): a folder with a manifest whose files are all there at those sizes
is complete. Then `last/` is renamed `last.old/`, `last.new/` renamed `last/`, and `last.old/`
removed. Whatever step a kill interrupts, one complete folder is left among the three, and
`recover` moves the newest complete one back to `last/` before a resume. (Deleting `last/` and
then renaming the new folder, as before, left nothing to resume from in between: the run
restarted at step 0 without a word.)

`TALEWRIGHT_SWAP_PAUSE=<point>:<file>` stops a save at `point` (one of `PAUSE_POINTS`), once a
previous `last/` exists, after writing `file`: tests kill the process there.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

log = logging.getLogger("talewright.train")

MANIFEST = "manifest.json"
LEGACY_MARKER = "trainer.json"
"""Run folders saved before manifests: the old code renamed a folder into place only once this
file was written, so such a `last/` is complete."""
PAUSE_ENV = "TALEWRIGHT_SWAP_PAUSE"
PAUSE_POINTS = ("new-written", "last-moved", "new-published")


def staging(final: Path) -> Path:
    """The empty folder a save writes into."""
    new = final.with_name(f"{final.name}.new")
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir(parents=True)
    return new


def write_manifest(folder: Path, step: int) -> None:
    """Sync every file of `folder`, then record them: the folder is complete from here on."""
    files = {}
    for path in sorted(folder.iterdir()):
        if path.name != MANIFEST and path.is_file():
            _sync(path)
            files[path.name] = path.stat().st_size
    partial = folder / f"{MANIFEST}.partial"
    partial.write_text(json.dumps({"step": step, "files": files}))
    _sync(partial)
    partial.rename(folder / MANIFEST)
    _sync_dir(folder)


def publish(new: Path, final: Path) -> None:
    """Make the complete folder `new` the `final` one."""
    old = final.with_name(f"{final.name}.old")
    replacing = final.exists()
    _pause("new-written", replacing)
    shutil.rmtree(old, ignore_errors=True)
    if replacing:
        final.rename(old)
        _sync_dir(final.parent)
    _pause("last-moved", replacing)
    new.rename(final)
    _sync_dir(final.parent)
    _pause("new-published", replacing)
    shutil.rmtree(old, ignore_errors=True)


def recover(final: Path) -> bool:
    """Put the newest complete save back at `final` and remove the rest; False when there is
    no complete save to resume from."""
    candidates = [final, final.with_name(f"{final.name}.new"), final.with_name(f"{final.name}.old")]
    complete = {path: step for path in candidates if (step := completed_step(path)) is not None}
    if not complete:
        return False
    newest = max(complete, key=lambda path: complete[path])
    if newest != final:
        log.warning(
            "an interrupted save left %s; resuming from it (step %d)", newest, complete[newest]
        )
        shutil.rmtree(final, ignore_errors=True)
        newest.rename(final)
        _sync_dir(final.parent)
    for path in candidates[1:]:
        shutil.rmtree(path, ignore_errors=True)
    return True


def completed_step(folder: Path) -> int | None:
    """The step a complete save in `folder` holds; None when it is missing or incomplete."""
    manifest = folder / MANIFEST
    try:
        if not manifest.exists():
            legacy = folder / LEGACY_MARKER
            return json.loads(legacy.read_text())["run"]["step"] if legacy.exists() else None
        values = json.loads(manifest.read_text())
        for name, size in values["files"].items():
            if (folder / name).stat().st_size != size:
                return None
        return int(values["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _sync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _sync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _pause(point: str, replacing: bool) -> None:
    wanted, _, flag = os.environ.get(PAUSE_ENV, "").partition(":")
    if replacing and wanted == point:
        Path(flag).write_text(point)
        while True:
            time.sleep(60)
