"""Self-describing checkpoint folders: config.json, model.safetensors, tokenizer.json, card.md.

Nothing is unpickled. config.json records the model family and its hyperparameters, the training
configuration, and a SHA-256 of each file, so a truncated or swapped file is refused with a
message that names it instead of failing somewhere inside torch.

A transformer checkpoint is also a Hugging Face model folder: there config.json is the Hugging
Face config (what `AutoModelForCausalLM.from_pretrained` reads), with tokenizer_config.json
beside it, and the project's own record moves to talewright.json.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from generators.errors import CheckpointError
from generators.models import build_model
from generators.text.tokenizer import END_OF_TEXT, PAD, TextTokenizer

M = TypeVar("M", bound=nn.Module)

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
PROJECT_CONFIG_FILE = "talewright.json"
HF_TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
CARD_FILE = "card.md"
REQUIRED_FILES = (CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE, CARD_FILE)


@dataclass
class LoadedCheckpoint:
    path: Path
    family: str
    model: nn.Module
    tokenizer: TextTokenizer
    config: dict[str, Any]
    extras: dict[str, nn.Module] = field(default_factory=dict)

    @property
    def model_id(self) -> str:
        return self.config.get("id") or self.path.name

    @property
    def card(self) -> str:
        return (self.path / CARD_FILE).read_text(encoding="utf-8")

    def model_as(self, kind: type[M], extra: str | None = None) -> M:
        """The model (or the extra named `extra`) as the class the caller expects of this
        checkpoint; CheckpointError naming both when it holds another kind."""
        model = self.model if extra is None else self.extras.get(extra)
        if not isinstance(model, kind):
            what = "model" if extra is None else f"{extra!r}"
            found = "nothing" if model is None else type(model).__name__
            raise CheckpointError(
                f"checkpoint {self.path}: its {what} is {found}, not a {kind.__name__}"
            )
        return model


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_checkpoint(
    folder: Path,
    model: nn.Module,
    *,
    family: str,
    model_config: dict[str, Any],
    tokenizer: TextTokenizer,
    card: str,
    info: dict[str, Any] | None = None,
    dtype: torch.dtype = torch.float16,
    extra_weights: dict[str, tuple[str, dict[str, Any], nn.Module]] | None = None,
) -> Path:
    """Write a checkpoint folder atomically enough: files first, config.json (with hashes) last.

    `extra_weights` maps a name to (family, config, module) for companion models stored in the
    same folder (e.g. a SeqGAN discriminator next to its generator), as `<name>.safetensors`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_FILE).unlink(missing_ok=True)
    (folder / PROJECT_CONFIG_FILE).unlink(missing_ok=True)
    _save_weights(model, folder / WEIGHTS_FILE, dtype)
    tokenizer.save(folder / TOKENIZER_FILE)
    hf_files = _write_hf_files(folder, model, tokenizer, dtype)
    (folder / CARD_FILE).write_text(card, encoding="utf-8")
    extras = {}
    for name, (extra_family, extra_config, module) in (extra_weights or {}).items():
        filename = f"{name}.safetensors"
        _save_weights(module, folder / filename, dtype)
        extras[name] = {"family": extra_family, "model": extra_config, "file": filename}
    files = [WEIGHTS_FILE, TOKENIZER_FILE, *hf_files, *(e["file"] for e in extras.values())]
    config = {
        "format_version": FORMAT_VERSION,
        "id": folder.name,
        "family": family,
        "model": model_config,
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab_size": tokenizer.vocab_size,
        "dtype": str(dtype).removeprefix("torch."),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "extras": extras,
        "sha256": {name: sha256_of(folder / name) for name in files},
        **(info or {}),
    }
    target = PROJECT_CONFIG_FILE if hf_files else CONFIG_FILE
    (folder / target).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return folder


def _write_hf_files(
    folder: Path, model: nn.Module, tokenizer: TextTokenizer, dtype: torch.dtype
) -> list[str]:
    """For a model with a Hugging Face twin: its config.json and tokenizer_config.json."""
    to_hf = getattr(getattr(model, "config", None), "to_hf", None)
    if to_hf is None:
        return []
    hf = to_hf(bos_id=tokenizer.eos_id, eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id)
    hf.dtype = dtype
    hf.save_pretrained(folder)
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": END_OF_TEXT,
        "eos_token": END_OF_TEXT,
        "pad_token": PAD,
        "model_max_length": hf.max_position_embeddings,
        "clean_up_tokenization_spaces": False,
    }
    (folder / HF_TOKENIZER_CONFIG_FILE).write_text(
        json.dumps(tokenizer_config, indent=2) + "\n", encoding="utf-8"
    )
    return [CONFIG_FILE, HF_TOKENIZER_CONFIG_FILE]


def _save_weights(module: nn.Module, path: Path, dtype: torch.dtype) -> None:
    tensors = {
        k: (v.detach().to(dtype) if v.is_floating_point() else v.detach()).contiguous().cpu()
        for k, v in module.state_dict().items()
    }
    save_file(tensors, str(path))


def read_config(folder: Path) -> dict[str, Any]:
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint folder not found: {folder}")
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise CheckpointError(f"checkpoint {folder} is incomplete: missing {', '.join(missing)}")
    source = folder / PROJECT_CONFIG_FILE
    if not source.is_file():
        source = folder / CONFIG_FILE
    try:
        config = json.loads(source.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{source} is not valid JSON: {exc}") from exc
    for key in ("format_version", "family", "model", "sha256"):
        if key not in config:
            raise CheckpointError(f"{source} lacks the key {key!r}")
    if config["format_version"] > FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {folder} has format {config['format_version']}, newer than this code "
            f"({FORMAT_VERSION}); upgrade Talewright"
        )
    return config


def load_checkpoint(folder: Path | str, device: str | torch.device = "cpu") -> LoadedCheckpoint:
    """Load and verify a checkpoint folder; raise CheckpointError with the reason if it is bad."""
    folder = Path(folder)
    config = read_config(folder)
    for name, expected in config["sha256"].items():
        path = folder / name
        if not path.is_file():
            raise CheckpointError(f"checkpoint {folder} is incomplete: missing {name}")
        if sha256_of(path) != expected:
            raise CheckpointError(
                f"{path} does not match the checksum in config.json: corrupt or replaced"
            )
    try:
        tokenizer = TextTokenizer.load(folder / TOKENIZER_FILE)
    except Exception as exc:  # the tokenizers library raises plain Exception subclasses
        raise CheckpointError(f"{folder / TOKENIZER_FILE} cannot be read: {exc}") from exc
    model = _load_module(folder, config["family"], config["model"], WEIGHTS_FILE, device)
    vocab = getattr(getattr(model, "config", None), "vocab_size", None)
    if vocab is not None and vocab != tokenizer.vocab_size:
        raise CheckpointError(
            f"checkpoint {folder}: model vocabulary {vocab} != tokenizer vocabulary "
            f"{tokenizer.vocab_size}"
        )
    extras = {
        name: _load_module(folder, spec["family"], spec["model"], spec["file"], device)
        for name, spec in config.get("extras", {}).items()
    }
    return LoadedCheckpoint(folder, config["family"], model, tokenizer, config, extras)


def _load_module(
    folder: Path, family: str, model_config: dict[str, Any], filename: str, device
) -> nn.Module:
    try:
        model = build_model(family, model_config)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {folder}: bad model config for {family}: {exc}") from exc
    try:
        tensors = load_file(str(folder / filename), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(
            f"{folder / filename} is not a readable safetensors file: {exc}"
        ) from exc
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{folder / filename} does not fit a {family} model: "
            f"missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    for key, value in tensors.items():
        if value.shape != expected[key].shape:
            raise CheckpointError(
                f"{folder / filename}: {key} has shape {tuple(value.shape)}, "
                f"the config expects {tuple(expected[key].shape)}"
            )
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})
    return model.to(device).eval()
