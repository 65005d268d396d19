"""Serving precision: the CPU-flag guard, the bfloat16 probe, and what `auto` and `bf16` pick."""

from __future__ import annotations

import pytest
import torch

from generators.checkpoint import load_checkpoint
from generators.service.loading import PrecisionUnsupported, bf16_lstm_works, serving_autocast
from generators.train.trainer import cpu_supports_bf16

CPU = torch.device("cpu")
EPYC_AVX2 = (
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n"
    "flags\t\t: fpu sse sse2 avx avx2 fma bmi2 sha_ni\n"
)
SAPPHIRE_RAPIDS = (
    "processor\t: 0\nvendor_id\t: GenuineIntel\n"
    "flags\t\t: fpu avx2 avx512f avx512bw avx512_bf16 amx_bf16 amx_tile\n"
)
COOPER_LAKE = "processor\t: 0\nflags\t\t: avx2 avx512f avx512_bf16\n"


@pytest.mark.parametrize(
    ("cpuinfo", "fast"),
    [(EPYC_AVX2, False), (SAPPHIRE_RAPIDS, True), (COOPER_LAKE, True), ("", False)],
)
def test_cpu_supports_bf16_reads_the_cpu_flags(tmp_path, cpuinfo, fast):
    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    assert cpu_supports_bf16(path) is fast


def test_cpu_supports_bf16_is_false_without_cpuinfo(tmp_path):
    assert cpu_supports_bf16(tmp_path / "missing") is False


def test_the_probe_predicts_whether_the_model_steps_in_bfloat16(tiny_checkpoint):
    """The probe's tiny LSTM fails exactly where a real model step under the worker's autocast
    fails: it is a real test of this CPU, not of its flags."""
    model = load_checkpoint(tiny_checkpoint).model
    try:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            model.run(torch.tensor([[5, 6, 7]]))
        steps = True
    except RuntimeError:
        steps = False
    assert bf16_lstm_works() is steps


def never() -> bool:
    raise AssertionError("not consulted")


@pytest.mark.parametrize(
    ("fast", "works", "picked"),
    [(False, never, None), (True, lambda: False, None), (True, lambda: True, torch.bfloat16)],
)
def test_auto_picks_bfloat16_only_on_a_fast_cpu_that_passes_the_probe(fast, works, picked):
    chosen = serving_autocast("auto", CPU, probe=works, fast_bf16=lambda: fast)
    assert chosen is picked


def test_explicit_bf16_is_refused_where_the_probe_fails():
    with pytest.raises(PrecisionUnsupported, match='precision = "fp32" or "auto"'):
        serving_autocast("bf16", CPU, probe=lambda: False, fast_bf16=lambda: True)
    assert serving_autocast("bf16", CPU, probe=lambda: True, fast_bf16=lambda: False) is (
        torch.bfloat16
    )


def test_fp32_and_gpus_never_probe():
    assert serving_autocast("fp32", CPU, probe=never, fast_bf16=never) is None
    assert serving_autocast("auto", torch.device("cuda"), probe=never, fast_bf16=never) is None


def test_serve_refuses_bf16_with_a_clear_message(tiny_checkpoint, tmp_path, capsys, monkeypatch):
    """`talewright serve` with precision bf16 on a CPU that cannot: exit 2 and one clear line."""
    from bot.cli.main import main
    from generators.service import loading

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TALEWRIGHT_SERVICE__PRECISION", "bf16")
    monkeypatch.setattr(loading, "bf16_lstm_works", lambda: False)
    assert main(["serve", "--checkpoint", str(tiny_checkpoint), "--device", "cpu"]) == 2
    assert 'precision = "bf16" is not supported on this CPU' in capsys.readouterr().err
