"""A training process killed (SIGKILL) at any step of replacing `last/` resumes from a save,
never silently from step 0."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tinydata import TINY_CONFIG

from generators.train.lstm import train_lstm
from generators.train.state_folder import (
    MANIFEST,
    PAUSE_ENV,
    PAUSE_POINTS,
    completed_step,
    recover,
)
from generators.train.trainer import Callback

REPO = Path(__file__).resolve().parents[2]
GIVE_UP_S = 600
"""Only a bound on a hung child; nothing asserts how fast it is."""

TRAIN = """
import json, sys
from pathlib import Path
from generators.train.lstm import train_lstm
config, out, corpus = json.loads(Path(sys.argv[1]).read_text()), sys.argv[2], sys.argv[3]
train_lstm(config, Path(out), Path(corpus), resume=False)
"""


@pytest.fixture
def swap_config() -> dict:
    config = copy.deepcopy(TINY_CONFIG)
    config["train"].update(max_steps=20, eval_every=10, checkpoint_every=10, warmup_steps=2)
    return config


def kill_during_second_save(point: str, config: dict, out: Path, corpus: Path) -> None:
    """Train in a child that stops at `point` of its second save (step 20 replacing step 10's
    `last/`), and kill it there with SIGKILL."""
    config_file = out.parent / f"{out.name}.json"
    config_file.write_text(json.dumps(config))
    flag = out.parent / f"{out.name}.paused"
    env = {**os.environ, PAUSE_ENV: f"{point}:{flag}", "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", TRAIN, str(config_file), str(out), str(corpus)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + GIVE_UP_S
        while not flag.exists():
            if child.poll() is not None:
                pytest.fail(
                    f"training ended before {point}: {child.stderr.read().decode()[-2000:]}"
                )
            assert time.monotonic() < deadline, f"training never reached {point}"
            time.sleep(0.2)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stderr.close()


class FirstStep(Callback):
    def __init__(self) -> None:
        self.first: int | None = None

    def on_step(self, trainer, step, metrics) -> None:
        if self.first is None:
            self.first = step


@pytest.mark.slow
@pytest.mark.parametrize("point", PAUSE_POINTS)
def test_a_kill_while_replacing_last_resumes_from_a_save(
    point: str, tiny_corpus_dir: Path, tmp_path: Path, swap_config: dict
) -> None:
    out = tmp_path / "run"
    kill_during_second_save(point, swap_config, out, tiny_corpus_dir)
    left = sorted(path.name for path in out.iterdir() if path.name.startswith("last"))
    if point == "last-moved":
        assert left == ["last.new", "last.old"], "the kill came with no last/ in place"

    assert recover(out / "last")
    assert completed_step(out / "last") == 20
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("last")) == ["last"]

    # max_steps is 20 and the save at 20 survived: the resumed run has nothing left to do,
    # where one that lost last/ would train again from step 1.
    first = FirstStep()
    train_lstm(copy.deepcopy(swap_config), out, tiny_corpus_dir, True, [first])
    assert first.first is None


def test_an_incomplete_folder_is_never_resumed_from(tmp_path: Path) -> None:
    last = tmp_path / "last"
    last.mkdir()
    (last / "model.safetensors").write_bytes(b"x" * 10)
    (last / MANIFEST).write_text(json.dumps({"step": 5, "files": {"model.safetensors": 11}}))
    old = tmp_path / "last.old"
    old.mkdir()
    (old / "model.safetensors").write_bytes(b"y" * 4)
    (old / MANIFEST).write_text(json.dumps({"step": 3, "files": {"model.safetensors": 4}}))
    assert recover(last)
    assert completed_step(last) == 3 and (last / "model.safetensors").read_bytes() == b"yyyy"
    assert not old.exists()
    empty = tmp_path / "empty" / "last"
    assert not recover(empty)
