"""The GPU recipe's two steps, run on the CPU with a tiny config: the bundle holds everything the
training needs, and training from it alone writes a checkpoint that Hugging Face loads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from tinydata import write_tiny_corpus

from generators.train import gpu_recipe

TINY = {
    "tokenizer": {"vocab_size": 400, "min_frequency": 1},
    "model": {
        "hidden_size": 32,
        "num_layers": 2,
        "num_heads": 2,
        "num_kv_heads": 2,
        "intermediate_size": 64,
        "max_positions": 128,
    },
    "batch": {"batch_size": 4, "seq_len": 64, "encode_workers": 1},
    "train": {"max_steps": 8, "eval_every": 4, "checkpoint_every": 4, "warmup_steps": 2},
    "eval": {"validation_docs": 4},
}


def _tiny_config(tmp_path: Path) -> Path:
    text = Path("configs/transformer_gpu.toml").read_text(encoding="utf-8")
    text = text.replace('tokenizer = "generators/checkpoints/default"', "")
    path = tmp_path / "gpu.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundle_then_train_writes_a_hugging_face_checkpoint(tmp_path: Path) -> None:
    data = write_tiny_corpus(tmp_path / "data", stories=40, passages=30)
    bundle = gpu_recipe.bundle(_tiny_config(tmp_path), data, tmp_path / "carry")
    carried = {gpu_recipe.PACKED.get(name, name) for name in gpu_recipe.PREPARED_FILES}
    assert {p.name for p in bundle.iterdir()} == {*carried, "config.toml"}
    assert "documents.jsonl.gz" in carried
    shutil.rmtree(data)  # training must need nothing but the bundle

    summary = gpu_recipe.train(
        bundle, tmp_path / "out", minutes=5, device="cpu", precision="fp32", overrides=TINY
    )

    checkpoint = tmp_path / "out" / "checkpoint"
    assert summary["checkpoint"] == str(checkpoint)
    assert summary["validation"]["val_bpc"] > 0
    assert summary["tokens_per_s"] > 0
    assert (checkpoint / "loss_curve.png").is_file()
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == summary
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    model = AutoModelForCausalLM.from_pretrained(checkpoint)
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(checkpoint / "tokenizer.json"))
    ids = tokenizer("Once upon a time", return_tensors="pt").input_ids
    out = model.generate(ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == ids.shape[1] + 5
    assert model.dtype == torch.float32 or model.dtype == torch.float16


def test_a_sibling_config_trains_another_shape_from_the_same_bundle(tmp_path: Path) -> None:
    config = _tiny_config(tmp_path)
    sibling = config.with_name("gpu_narrow.toml")
    sibling.write_text(config.read_text().replace("hidden_size = 256", "hidden_size = 48"))
    data = write_tiny_corpus(tmp_path / "data", stories=40, passages=30)
    bundle = gpu_recipe.bundle(config, data, tmp_path / "carry")
    assert (bundle / "gpu_narrow.toml").read_text() == sibling.read_text()
    model = {k: v for k, v in TINY["model"].items() if k != "hidden_size"}

    gpu_recipe.train(
        bundle,
        tmp_path / "narrow",
        minutes=0.0001,
        device="cpu",
        precision="fp32",
        overrides={**TINY, "model": model},
        config_path=bundle / "gpu_narrow.toml",
    )

    shape = json.loads((tmp_path / "narrow" / "checkpoint" / "config.json").read_text())
    assert shape["hidden_size"] == 48


def test_time_limit_stops_the_run_and_still_exports(tmp_path: Path) -> None:
    data = write_tiny_corpus(tmp_path / "data", stories=40, passages=30)
    bundle = gpu_recipe.bundle(_tiny_config(tmp_path), data, tmp_path / "carry")
    overrides = {**TINY, "train": {**TINY["train"], "max_steps": 100_000}}

    gpu_recipe.train(
        bundle,
        tmp_path / "out",
        minutes=0.0001,
        device="cpu",
        precision="fp32",
        overrides=overrides,
    )

    steps = [
        json.loads(line)["step"]
        for line in (tmp_path / "out" / "run" / "metrics.jsonl").read_text().splitlines()
    ]
    assert max(steps) < 100_000
    assert (tmp_path / "out" / "checkpoint" / "talewright.json").is_file()


def test_train_refuses_a_folder_that_is_not_a_bundle(tmp_path: Path, capsys) -> None:
    code = gpu_recipe.main(["train", "--bundle", str(tmp_path), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "is not a GPU bundle" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["transformer_gpu.toml", "transformer_gpu_wide.toml"])
def test_the_shipped_gpu_configs_fit_the_budget(name: str) -> None:
    import tomllib

    config = tomllib.loads((Path("configs") / name).read_text(encoding="utf-8"))
    from generators.models.transformer import TransformerConfig, TransformerLanguageModel

    model = TransformerLanguageModel(TransformerConfig(vocab_size=8192, **config["model"]))
    assert model.num_parameters() * 2 <= 25 * 1024 * 1024  # float16 bytes
    assert config["train"]["time_limit_minutes"] <= 10
    assert config["batch"]["seq_len"] <= config["model"]["max_positions"]


def test_the_recipe_trains_the_bundled_transformers_shape() -> None:
    """`make train-gpu` reproduces the shipped model, so its default config has that shape."""
    import tomllib

    config = tomllib.loads(gpu_recipe.DEFAULT_CONFIG.read_text(encoding="utf-8"))
    bundled = json.loads(Path("generators/checkpoints/transformer/talewright.json").read_text())
    assert {k: config["model"][k] for k in bundled["model"] if k in config["model"]} == {
        k: v for k, v in bundled["model"].items() if k in config["model"]
    }
