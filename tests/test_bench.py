"""The benchmarks run and print their figures (numbers are reported, never asserted)."""

import pytest

from train.bench import main as train_bench


@pytest.mark.parametrize("fast", [[], ["--amp", "bf16", "--channels-last"], ["--cuda-graph"]])
def test_train_bench_prints_rate_and_projection(capsys, fast):
    assert train_bench(["--model", "seed_cnn_half", "--steps", "2", "--device", "cpu", *fast]) == 0
    out = capsys.readouterr().out
    assert "images/s" in out and "2000-epoch run" in out
