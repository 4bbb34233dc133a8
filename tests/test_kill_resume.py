"""SIGKILL mid-training, then ``fit --resume``: the same final metrics as an uninterrupted run."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import planted_npz
from tests.kill_resume import final_metrics, fit_command, kill_mid_training


@pytest.mark.slow
def test_sigkilled_fit_resumes_to_the_uninterrupted_result(tmp_path):
    data = planted_npz(tmp_path / "planted.npz", n_train=240)
    reference = tmp_path / "reference"
    subprocess.run(fit_command(data, reference), check=True, capture_output=True, timeout=600)

    out = tmp_path / "killed"
    assert kill_mid_training(fit_command(data, out), out, delay=0.7), "the run finished before the kill"
    partial = out.with_name("killed.partial")
    assert partial.is_dir() and not out.exists()  # a marked partial run, nothing at the final path

    resumed = subprocess.run([*fit_command(data, out), "--resume"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert not partial.exists()
    assert final_metrics(out) == final_metrics(reference)
