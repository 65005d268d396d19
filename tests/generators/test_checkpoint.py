"""Checkpoint folders: identical logits after a round trip; bad folders fail clearly."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from generators.checkpoint import load_checkpoint, save_checkpoint
from generators.errors import CheckpointError
from generators.models.lstm import LSTMConfig, LSTMLanguageModel
from generators.text.tokenizer import TextTokenizer


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    tokenizer = TextTokenizer.train(["a small story about a cat and a dog."] * 20, vocab_size=300)
    torch.manual_seed(0)
    config = LSTMConfig(vocab_size=tokenizer.vocab_size, embed_dim=16, hidden_dim=16, num_layers=1)
    model = LSTMLanguageModel(config).eval()
    folder = tmp_path_factory.mktemp("ckpt") / "tiny"
    save_checkpoint(
        folder,
        model,
        family="lstm",
        model_config=config.to_dict(),
        tokenizer=tokenizer,
        card="# tiny\n",
        dtype=torch.float32,
    )
    return folder, model


def copy_of(saved, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(saved[0], target)
    return target


def test_round_trip_gives_identical_logits(saved):
    folder, model = saved
    loaded = load_checkpoint(folder)
    ids = torch.randint(0, model.config.vocab_size, (2, 9))
    with torch.no_grad():
        torch.testing.assert_close(loaded.model.run(ids)[0], model.run(ids)[0], atol=0, rtol=0)
    assert loaded.family == "lstm"
    assert loaded.model_id == "tiny"


def test_float16_storage_stays_close(saved, tmp_path):
    folder, model = saved
    loaded = load_checkpoint(folder)
    half = tmp_path / "half"
    save_checkpoint(
        half,
        loaded.model,
        family="lstm",
        model_config=model.config.to_dict(),
        tokenizer=loaded.tokenizer,
        card="# half\n",
    )
    ids = torch.randint(0, model.config.vocab_size, (1, 12))
    with torch.no_grad():
        a = load_checkpoint(half).model.run(ids)[0]
        b = model.run(ids)[0]
    torch.testing.assert_close(a, b, atol=2e-2, rtol=1e-2)


@pytest.mark.parametrize(
    "missing", ["config.json", "model.safetensors", "tokenizer.json", "card.md"]
)
def test_missing_file_is_named(saved, tmp_path, missing):
    folder = copy_of(saved, tmp_path)
    (folder / missing).unlink()
    with pytest.raises(CheckpointError, match=missing.replace(".", r"\.")):
        load_checkpoint(folder)


def test_truncated_weights_fail_the_checksum(saved, tmp_path):
    folder = copy_of(saved, tmp_path)
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(folder)


def test_garbage_weights_with_matching_checksum_are_refused(saved, tmp_path):
    folder = copy_of(saved, tmp_path)
    (folder / "model.safetensors").write_bytes(b"\x00not a safetensors file" * 10)
    config = json.loads((folder / "config.json").read_text())
    from generators.checkpoint import sha256_of

    config["sha256"]["model.safetensors"] = sha256_of(folder / "model.safetensors")
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="safetensors"):
        load_checkpoint(folder)


def test_bad_json_config(saved, tmp_path):
    folder = copy_of(saved, tmp_path)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(folder)


def test_mismatched_shape_is_explained(saved, tmp_path):
    folder = copy_of(saved, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["model"]["hidden_dim"] = 32
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="shape"):
        load_checkpoint(folder)


def test_missing_folder(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nowhere")


def test_unknown_family(saved, tmp_path):
    folder = copy_of(saved, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["family"] = "transformer9000"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="transformer9000"):
        load_checkpoint(folder)


def test_model_as_gives_the_class_asked_for_or_says_what_it_holds(saved):
    from generators.models.seqgan import Discriminator
    from generators.models.vae import SentenceVAE

    loaded = load_checkpoint(saved[0])
    assert loaded.model_as(LSTMLanguageModel) is loaded.model
    with pytest.raises(CheckpointError, match="its model is LSTMLanguageModel, not a SentenceVAE"):
        loaded.model_as(SentenceVAE)
    with pytest.raises(CheckpointError, match="its 'discriminator' is nothing, not a Discrim"):
        loaded.model_as(Discriminator, "discriminator")
