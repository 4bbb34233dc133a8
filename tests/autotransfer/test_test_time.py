"""The test-time augmentation contestant: the best trial's own model validated again with the mirror image
averaged in, on exactly the rows it was validated on; where it wins, the run handed over predicts with flips."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

import medtransfer
from medtransfer.autotransfer.test_time import tta_rows
from medtransfer.config import FitConfig
from medtransfer.pipeline import split_for_fit


def _flip_averaged_auroc(run, inputs: list, y: np.ndarray) -> float:
    """Independently of ``test_time_flip``: the softmax of the mean logits of each image and its mirror."""
    loaded = medtransfer.load(run)
    model = loaded.model.eval()
    ds = loaded.modality.dataset(inputs, None, loaded.preprocessing, train=False)
    x = torch.stack([ds[i] for i in range(len(ds))])
    with torch.no_grad():
        logits = (model(x) + model(x.flip(-1))) / 2
    return roc_auc_score(y, torch.softmax(logits, dim=1)[:, 1].numpy())


def test_the_best_trial_is_validated_again_with_flips_on_its_own_validation_rows(npz_data, tiny_fit_settings):
    result = medtransfer.fit(str(npz_data), seed=3, score_test=False, **tiny_fit_settings)
    cfg = FitConfig(data=str(npz_data), **{k: v for k, v in tiny_fit_settings.items() if k != "progress"})
    table, split, _ = split_for_fit(cfg)
    trial = {"trial": "tiny/full", "strategy": "full", "rung": 0, "epochs": 3, "run": str(result.run_dir),
             "val_score": result.metrics["val"]["auroc"], "seconds": 5.0, "settings": {"image_size": 32}}  # fmt: skip
    worse = {**trial, "trial": "worse", "val_score": 0.1, "run": "/nonexistent"}  # never read: not the best
    board = [{"trial": "classical", "val_score": 0.99, "rung": 0}, worse, trial]  # the classical model is no trial

    (row,) = tta_rows(board, [table], "auroc", ("flip",), seed=0)

    val = table.subset(split.indices["val"])
    assert row["val_score"] == pytest.approx(_flip_averaged_auroc(result.run_dir, val.inputs, val.targets), abs=1e-9)
    assert row["settings"] == {"image_size": 32, "tta": "flip"} and row["trial"] == "tiny/full + flip at test time"
    assert row["val_ci"] is not None and row["val_ci"][0] <= row["val_score"] <= row["val_ci"][1]
    assert tta_rows(board, [table], "auroc", ("flip",), seed=0, affords=lambda s: False) == []  # no time
    assert tta_rows([*board, row], [table], "auroc", (), seed=0) == []  # the modality offers no view


@pytest.mark.slow
def test_where_flips_win_on_validation_the_run_handed_over_predicts_with_them(npz_data, tmp_path, monkeypatch):
    from medtransfer.autotransfer import search

    real = search.tta_rows  # planted: the flipped trial made to win, to test what the user is handed
    monkeypatch.setattr(search, "tta_rows", lambda *a: [{**r, "val_score": 2.0} for r in real(*a)])
    settings = {"image_size": 32, "batch_size": 16, "progress": False, "top_k": 1, "head_hidden": 16,
                "tune_trials": 0, "val_repeats": 1}  # fmt: skip
    result = medtransfer.auto(npz_data, budget="10m", out=str(tmp_path / "auto"), **settings)
    board = json.loads((result.run_dir / "leaderboard.json").read_text())
    assert board["winner"].endswith(" + flip at test time")
    assert json.loads((result.run_dir / "model" / "model.json").read_text())["preprocessing"]["tta"] == "flip"
    loaded = medtransfer.load(result.run_dir)
    assert loaded.model.test_time_flip and "test" in result.fit.metrics
    images = list(np.load(npz_data)["test_images"][:6])
    flipped = medtransfer.load(result.run_dir)
    flipped.model.test_time_flip = False
    assert not np.allclose(loaded.predict_proba(images), flipped.predict_proba(images))
