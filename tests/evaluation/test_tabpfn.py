"""The TabPFN adapter on a tiny stand-in checkpoint (TabPFN's own v2 architecture, 1 layer × 16, random
weights, saved in its checkpoint format): no wheel ships the real weights, which users bring themselves."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import medtransfer
from medtransfer.data.task import TaskSpec
from medtransfer.errors import ConfigError
from medtransfer.evaluation.baselines import classical_probs

tabpfn = pytest.importorskip("tabpfn")


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    from tabpfn.architectures import tabpfn_v2

    config = tabpfn_v2.TabPFNV2Config(emsize=16, nlayers=1, nhead=2, max_num_classes=10)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = tabpfn_v2.get_architecture(config)
    path = tmp_path_factory.mktemp("tabpfn") / "tiny-tabpfn.ckpt"
    checkpoint = {"state_dict": model.state_dict(), "config": dataclasses.asdict(config),
                  "architecture_name": "tabpfn_v2"}  # fmt: skip
    torch.save(checkpoint, path)
    return path


def test_the_adapter_gives_tabpfn_own_probabilities_with_missing_cells(stand_in):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 4))
    x[rng.random(x.shape) < 0.1] = np.nan  # missing cells go to TabPFN as they are
    y = (np.nan_to_num(x[:, 0]) > 0).astype(int)
    task = TaskSpec("binary", ("no", "yes"))
    ours = classical_probs(task, x[:60], y[:60], x[60:], estimator=f"tabpfn:{stand_in}", seed=3)
    direct = tabpfn.TabPFNClassifier(model_path=str(stand_in), device="cpu", random_state=3).fit(x[:60], y[:60])
    assert ours.shape == (30, 2) and np.allclose(ours, direct.predict_proba(x[60:]), atol=1e-6)


def test_a_table_run_is_judged_against_tabpfn_when_given_a_checkpoint(stand_in, tmp_path):
    result = medtransfer.fit("breast_cancer_wisconsin", backbone="test_text_bert", strategy="linear_probe",
                             epochs=2, tabpfn=str(stand_in), progress=False, gallery=False,
                             out=str(tmp_path / "run"))  # fmt: skip
    name = next(k for k in result.metrics["baselines"] if "TabPFN in context (tiny-tabpfn.ckpt)" in k)
    assert 0.0 <= result.metrics["baselines"][name]["auroc"] <= 1.0
    assert result.metrics["versus_baseline"]["baseline"] == name


def test_a_missing_checkpoint_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(ConfigError, match="no such checkpoint file"):
        medtransfer.fit("breast_cancer_wisconsin", backbone="test_text_bert", strategy="linear_probe",
                        tabpfn=str(tmp_path / "absent.ckpt"), progress=False, out=str(tmp_path / "run"))  # fmt: skip
    assert not (tmp_path / "run").exists() and not (tmp_path / "run.partial").exists()
