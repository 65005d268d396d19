"""The trainer: a tiny model learns, and a resumed run is the same run."""

from __future__ import annotations

import copy
import json
import os

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from tinydata import TINY_CONFIG

from generators.train.lstm import train_lstm
from generators.train.trainer import Callback


def read_rows(run, kind):
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def test_tiny_model_learns_the_tiny_corpus(tiny_run):
    validation = read_rows(tiny_run, "validation")
    train = read_rows(tiny_run, "train")
    assert train[0]["loss"] > 4.0
    # Unigram-level text is ~4.5 bits/char here; the templates are learnable far below that.
    assert validation[-1]["val_bpc"] < 2.0
    assert validation[-1]["val_bpc_children"] < 2.0
    assert validation[-1]["val_bpc_books"] < 2.2


def test_run_folder_has_curve_metrics_and_checkpoint(tiny_run):
    assert (tiny_run / "loss_curve.png").stat().st_size > 1000
    assert (tiny_run / "run.json").exists()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "card.md"):
        assert (tiny_run / "best" / name).exists()
    card = (tiny_run / "best" / "card.md").read_text()
    assert "## Data" in card and "val_bpc" in card
    saved = json.loads((tiny_run / "best" / "config.json").read_text())
    assert saved["training"]["model"]["hidden_dim"] == TINY_CONFIG["model"]["hidden_dim"]


class Killed(Exception):
    pass


class KillAt(Callback):
    """Stands in for a process killed right after it wrote a checkpoint."""

    def __init__(self, step: int):
        self.step = step

    def on_checkpoint(self, trainer, step):
        if step == self.step:
            raise Killed


@pytest.fixture
def short_config():
    config = copy.deepcopy(TINY_CONFIG)
    config["train"].update(max_steps=40, eval_every=20, checkpoint_every=20, warmup_steps=5)
    return config


def test_resume_is_exact(tiny_corpus_dir, tmp_path, short_config):
    """40 steps in one go == 20 steps, a fresh process state, then 20 more from the checkpoint."""
    straight = tmp_path / "straight"
    train_lstm(copy.deepcopy(short_config), straight, tiny_corpus_dir, resume=False)

    resumed = tmp_path / "resumed"
    with pytest.raises(Killed):
        train_lstm(copy.deepcopy(short_config), resumed, tiny_corpus_dir, False, [KillAt(20)])
    torch.manual_seed(999)  # disturb the global RNG: resume must restore it
    train_lstm(copy.deepcopy(short_config), resumed, tiny_corpus_dir, resume=True)

    a = load_file(str(straight / "last" / "model.safetensors"))
    b = load_file(str(resumed / "last" / "model.safetensors"))
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=0, rtol=0)
    losses_a = [r["loss"] for r in read_rows(straight, "train")]
    losses_b = [r["loss"] for r in read_rows(resumed, "train")]
    assert losses_a == losses_b


def test_genre_weights_oversample_and_init_from_a_run(tiny_run, tiny_corpus_dir, tmp_path):
    """A fine-tune starts from a run's exact weights and tokenizer and oversamples a genre."""
    from generators.text.corpus import load_documents
    from generators.text.data import StreamBatcher
    from generators.text.markup import DocumentEncoder
    from generators.text.tokenizer import TextTokenizer

    docs = [d for d in load_documents(tiny_run / "documents.jsonl") if d.split == "train"]
    tok = TextTokenizer.load(tiny_run / "tokenizer.json")
    plain = StreamBatcher(docs, DocumentEncoder(tok), 4, 16, seed=1)
    heavy = StreamBatcher(docs, DocumentEncoder(tok), 4, 16, seed=1, genre_weights={"children": 3})
    children = sum(d.genre == "children" for d in docs)
    assert len(heavy.epoch_order(0)) == len(plain.epoch_order(0)) + 2 * children

    config = copy.deepcopy(TINY_CONFIG)
    config["init"] = {"checkpoint": str(tiny_run / "last")}
    config["batch"]["genre_weights"] = {"children": 2.0}
    config["train"].update(max_steps=1, eval_every=1, checkpoint_every=1, lr=1e-9, warmup_steps=1)
    out = tmp_path / "finetune"
    train_lstm(config, out, tiny_corpus_dir, resume=False)
    assert (out / "tokenizer.json").read_bytes() == (tiny_run / "tokenizer.json").read_bytes()
    start = load_file(str(tiny_run / "last" / "model.safetensors"))
    after = load_file(str(out / "last" / "model.safetensors"))
    for key in start:
        torch.testing.assert_close(after[key], start[key], atol=1e-6, rtol=0)


def test_epochs_encoded_ahead_by_workers_are_the_epochs_encoded_in_line(tiny_run):
    """Workers only move the encoding off the training loop: the same windows, epoch by epoch."""
    from generators.text.corpus import load_documents
    from generators.text.data import StreamBatcher
    from generators.text.markup import DocumentEncoder
    from generators.text.tokenizer import TextTokenizer

    docs = [d for d in load_documents(tiny_run / "documents.jsonl") if d.split == "train"]
    tok = TextTokenizer.load(tiny_run / "tokenizer.json")
    in_line = StreamBatcher(docs, DocumentEncoder(tok), 4, 16, seed=3, genre_weights={"mystery": 2})
    ahead = StreamBatcher(
        docs, DocumentEncoder(tok), 4, 16, seed=3, genre_weights={"mystery": 2}, workers=2
    )
    try:
        for epoch in range(4):
            expected = in_line.epoch_streams(epoch)
            assert not np.array_equal(expected, in_line.encode_epoch(epoch + 1))
            np.testing.assert_array_equal(ahead.epoch_streams(epoch), expected)
            assert sorted(ahead._ahead) == [epoch + 1, epoch + 2]
    finally:
        ahead.close()


WORKER_HOST = """
import sys, time
from pathlib import Path
from generators.text.corpus import load_documents
from generators.text.data import StreamBatcher
from generators.text.markup import DocumentEncoder
from generators.text.tokenizer import TextTokenizer

if __name__ == "__main__":
    run = Path(sys.argv[1])
    docs = [d for d in load_documents(run / "documents.jsonl") if d.split == "train"]
    tok = TextTokenizer.load(run / "tokenizer.json")
    batcher = StreamBatcher(docs, DocumentEncoder(tok), 4, 16, seed=1, workers=2)
    batcher.epoch_streams(0)
    batcher._ahead[1].result()
    print(*batcher._pool._processes, flush=True)
    time.sleep(120)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc (Linux)")
def test_encoding_workers_leave_when_their_trainer_is_killed(tiny_run, tmp_path):
    """A trainer killed outright (the OOM killer, kill -9) leaves no worker holding the corpus."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    script = tmp_path / "host.py"
    script.write_text(WORKER_HOST)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    host = subprocess.Popen(
        [sys.executable, str(script), str(tiny_run)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        workers = [int(pid) for pid in host.stdout.readline().split()]
        assert len(workers) == 2
        assert all(_running(pid) for pid in workers)
    finally:
        host.send_signal(signal.SIGKILL)
        host.wait()
    deadline = time.monotonic() + 20
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_running(pid) for pid in workers)


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for a parent that may never reap it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
