"""Generator throughput on this machine: training tokens/s, and sampling tokens/s at batch 1 vs
batch 32 (the ratio is what batching buys). Prints numbers; asserts nothing.

    .venv/bin/python bench/generators.py [--checkpoint DIR] [--threads N] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generators.checkpoint import load_checkpoint
from generators.inference.sampling import SamplingSettings, StopRule, TokenTables, sample
from generators.paths import DEFAULT_CHECKPOINT
from generators.train.trainer import cpu_supports_bf16


def training_tokens_per_s(model, vocab: int, device, steps: int, bf16: bool) -> float:
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batch, length = 32, 128
    x = torch.randint(0, vocab, (batch, length), device=device)
    y = torch.randint(0, vocab, (batch, length), device=device)
    elapsed = 0.0
    for step in range(steps + 1):
        start = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step:
            elapsed += time.perf_counter() - start
    model.eval()
    return steps * batch * length / elapsed


def sampling_tokens_per_s(model, tables, batch: int, tokens: int) -> float:
    settings = SamplingSettings(max_tokens=tokens, min_tokens=tokens)
    stop = StopRule(paragraph=None, trim_to_sentence=False)
    prompt = [tables.eos_id]
    start = time.perf_counter()
    sequences = sample(model, tables, prompt, settings, stop, n=batch, seed=1)
    elapsed = time.perf_counter() - start
    return sum(len(s.tokens) for s in sequences) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--train-steps", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=60)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    loaded = load_checkpoint(args.checkpoint, device=device)
    model, tokenizer = loaded.model, loaded.tokenizer
    tables = TokenTables(tokenizer, device)
    params = sum(p.numel() for p in model.parameters())
    print(f"model {loaded.model_id}: {params / 1e6:.2f}M parameters, vocab {tokenizer.vocab_size}")
    print(f"device {device}, threads {args.threads}, bf16 autocast {cpu_supports_bf16()}")
    bf16 = device.type == "cuda" or cpu_supports_bf16()
    train_fp32 = training_tokens_per_s(model, tokenizer.vocab_size, device, args.train_steps, False)
    train_bf16 = (
        training_tokens_per_s(model, tokenizer.vocab_size, device, args.train_steps, True)
        if bf16
        else float("nan")
    )
    one = sampling_tokens_per_s(model, tables, 1, args.tokens)
    many = sampling_tokens_per_s(model, tables, 32, args.tokens)
    print(f"{'measure':<34}{'tokens/s':>12}")
    print(f"{'training, batch 32x128, fp32':<34}{train_fp32:>12.0f}")
    print(f"{'training, batch 32x128, bf16':<34}{train_bf16:>12.0f}")
    print(f"{'sampling, batch 1':<34}{one:>12.0f}")
    print(f"{'sampling, batch 32':<34}{many:>12.0f}")
    print(f"batch-32 / batch-1 sampling ratio: {many / one:.1f}x")


if __name__ == "__main__":
    main()
