"""End-to-end fits on tiny real data: the run-directory contract, load/predict, caching, resume, tasks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

import medtransfer
from medtransfer.backbones.timm_backbone import TimmBackbone
from medtransfer.data.images.readers import read_image_npz
from medtransfer.errors import RunError
from tests.conftest import planted_image, planted_npz, save_png


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_fit_writes_the_run_directory_contract(npz_data, tiny_fit_settings):
    result = medtransfer.fit(npz_data, strategy="full", **tiny_fit_settings)
    run = result.run_dir
    assert run == Path(tiny_fit_settings["out"]) and not run.with_name("run.partial").exists()
    for name in (
        "config.yaml",
        "manifest.json",
        "metrics.json",
        "predictions.csv",
        "log.csv",
        "report.html",
        "model/weights.safetensors",
        "model/model.json",
        "checkpoints/best.ckpt",
    ):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == "binary"
    for split in ("val", "test"):
        assert {"accuracy", "balanced_accuracy", "auroc", "auprc", "f1", "sensitivity", "specificity"} <= set(
            metrics[split]
        )
        for name, value in metrics[split].items():  # numbers, and [low, high] intervals beside them
            assert isinstance(value, float) or (name.endswith("_ci") and len(value) == 2), name
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["seed"] == 0 and manifest["versions"]["torch"] and manifest["finished"]
    assert set(manifest["data_hashes"]) == {"train", "val", "test"}
    rows = _rows(run / "predictions.csv")
    assert list(rows[0]) == ["id", "split", "label", "prediction", "prob_0", "prob_1"]
    assert {r["split"] for r in rows} == {"val", "test"} and len(rows) == 40
    html = (run / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4 and "Not a medical device" in html
    assert [int(r["epoch"]) for r in _rows(run / "log.csv")] == [0, 1, 2]
    lo, hi = metrics["test"]["auroc_ci"]
    assert lo <= metrics["test"]["auroc"] <= hi
    assert {"ece", "brier"} <= set(metrics["calibration"]["test"])
    assert 0 <= metrics["operating_point"]["threshold"] <= 1 and "sensitivity_ci" in metrics["operating_point"]["test"]
    assert "Operating point" in html and "Reliability diagram" in html
    assert set(metrics["baselines"]) == {"majority class", "16×16 pixels + intensity histogram + logistic regression"}
    assert metrics["baselines"]["majority class"]["auroc"] == 0.5 and "Baselines (test)" in html
    versus = metrics["versus_baseline"]  # the model against the classical baseline, on the same test rows
    assert versus["baseline"].endswith("logistic regression") and versus["metric"] == "auroc"
    assert versus["difference"] == metrics["test"]["auroc"] - versus["b"] and "This model −" in html


def test_operating_point_is_chosen_on_validation_never_on_test(npz_data, tiny_fit_settings, monkeypatch):
    from medtransfer.evaluation import operating_point

    seen = []
    original = operating_point.choose_threshold

    def spy(y, score, target=None):
        seen.append(np.asarray(y).copy())
        return original(y, score, target)

    monkeypatch.setattr(operating_point, "choose_threshold", spy)
    result = medtransfer.fit(npz_data, strategy="full", target_sensitivity=0.9, **tiny_fit_settings)
    val_rows = [r for r in _rows(result.run_dir / "predictions.csv") if r["split"] == "val"]
    assert len(seen) == 1 and len(seen[0]) == len(val_rows)
    assert seen[0].tolist() == [int(r["label"] == "1") for r in val_rows]
    op = result.metrics["operating_point"]
    assert op["method"].startswith("sensitivity ≥ 0.9") and op["val"]["sensitivity"] >= 0.9


def test_compare_two_runs_on_the_same_test_set(npz_data, tiny_fit_settings):
    a = medtransfer.fit(npz_data, strategy="full", **tiny_fit_settings)
    b = medtransfer.fit(
        npz_data, strategy="linear_probe", **dict(tiny_fit_settings, out=tiny_fit_settings["out"] + "b")
    )
    result = medtransfer.compare(a.run_dir, b.run_dir)
    assert result["n"] == 20
    boot = result["paired_bootstrap"]["auroc"]
    assert boot["difference"] == pytest.approx(a.metrics["test"]["auroc"] - b.metrics["test"]["auroc"])
    assert 0 <= result["delong"]["p_value"] <= 1


def test_load_predicts_exactly_what_the_run_scored(npz_data, tiny_fit_settings):
    result = medtransfer.fit(npz_data, strategy="partial", **tiny_fit_settings)
    loaded = medtransfer.load(result.run_dir)
    table = read_image_npz(npz_data)
    test = table.subset(np.where(table.split == "test")[0])
    probs = loaded.predict_proba(test.inputs)
    saved = [r for r in _rows(result.run_dir / "predictions.csv") if r["split"] == "test"]
    assert np.allclose(probs[:, 1], [float(r["prob_1"]) for r in saved], atol=1e-5)
    evaluated = medtransfer.evaluate(result.run_dir, npz_data)
    assert evaluated["n"] == 20
    assert evaluated["metrics"]["auroc"] == pytest.approx(result.metrics["test"]["auroc"])


def test_temperature_scaling_is_fitted_on_validation_and_saved_with_the_model(npz_data, tiny_fit_settings):
    result = medtransfer.fit(npz_data, strategy="full", calibrate="temperature", **tiny_fit_settings)
    temperature = result.metrics["calibration"]["temperature"]
    assert temperature > 0 and temperature != 1.0
    loaded = medtransfer.load(result.run_dir)
    assert float(loaded.model.temperature) == pytest.approx(temperature)
    table = read_image_npz(npz_data)
    test = table.subset(np.where(table.split == "test")[0])
    saved = [r for r in _rows(result.run_dir / "predictions.csv") if r["split"] == "test"]
    assert np.allclose(loaded.predict_proba(test.inputs)[:, 1], [float(r["prob_1"]) for r in saved], atol=1e-5)


def test_predict_files_uses_saved_preprocessing(tmp_path, npz_data, tiny_fit_settings):
    result = medtransfer.fit(npz_data, strategy="full", **tiny_fit_settings)
    rng = np.random.default_rng(5)
    files = [save_png(planted_image(i % 2, rng, size=50), tmp_path / "new" / f"{i}.png") for i in range(4)]
    rows = medtransfer.predict(result.run_dir, files)
    assert [r["id"] for r in rows] == [str(f) for f in files]
    assert all(abs(float(r["prob_0"]) + float(r["prob_1"]) - 1) < 1e-5 for r in rows)


def test_linear_probe_reuses_cached_features_without_backbone_forward(npz_data, tiny_fit_settings, monkeypatch):
    # no explanation gallery: explaining test cases runs the backbone by design (gradients need it)
    settings = dict(tiny_fit_settings, backbone="efficientnet_lite0", strategy="linear_probe", epochs=4, gallery=False)
    calls = {"n": 0}
    original = TimmBackbone.forward

    def counting(self, x):
        calls["n"] += 1
        return original(self, x)

    monkeypatch.setattr(TimmBackbone, "forward", counting)
    first = medtransfer.fit(npz_data, **settings)
    # one pass over train, val and test (60, 20 and 20 images in CPU batches of 32): never once per epoch
    assert calls["n"] == 2 + 1 + 1

    def forbidden(self, x):
        raise AssertionError("backbone forward on a cached linear probe")

    monkeypatch.setattr(TimmBackbone, "forward", forbidden)
    second = medtransfer.fit(npz_data, **dict(settings, out=settings["out"] + "_again"))
    assert second.metrics["test"] == first.metrics["test"]


def test_same_seed_same_metrics(npz_data, tiny_fit_settings):
    a = medtransfer.fit(npz_data, strategy="full", **tiny_fit_settings)
    b = medtransfer.fit(npz_data, strategy="full", **dict(tiny_fit_settings, out=tiny_fit_settings["out"] + "b"))
    assert (a.run_dir / "metrics.json").read_text() == (b.run_dir / "metrics.json").read_text()


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("strategy", ["full", "linear_probe"])
def test_resume_continues_at_the_right_epoch_and_ends_like_an_uninterrupted_run(
    npz_data, tiny_fit_settings, monkeypatch, strategy
):
    import torch

    from medtransfer.train.module import TransferModule

    settings = dict(tiny_fit_settings, strategy=strategy, epochs=4, patience=10)
    reference = medtransfer.fit(npz_data, **dict(settings, out=settings["out"] + "_ref"))

    original = TransferModule.on_train_epoch_start
    started = []

    def crash_at_epoch_2(self):
        started.append(self.current_epoch)
        if self.current_epoch == 2 and not self.trainer.ckpt_path:
            raise Interrupt
        original(self)

    monkeypatch.setattr(TransferModule, "on_train_epoch_start", crash_at_epoch_2)
    with pytest.raises(Interrupt):
        medtransfer.fit(npz_data, **settings)
    partial = Path(settings["out"] + ".partial")
    assert partial.is_dir() and not Path(settings["out"]).exists()
    saved = torch.load(partial / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    # a probe on cached features checkpoints its head only: the frozen backbone is rebuilt from its weights
    assert any(k.startswith("model.backbone.") for k in saved) == (strategy == "full")
    with pytest.raises(RunError, match="--resume"):
        medtransfer.fit(npz_data, **settings)

    started.clear()
    resumed = medtransfer.fit(npz_data, **dict(settings, resume=True))
    assert started == [2, 3]  # continued where the checkpoint left off
    assert [int(r["epoch"]) for r in _rows(resumed.run_dir / "log.csv")] == [0, 1, 2, 3]
    assert resumed.metrics["test"] == reference.metrics["test"]


def test_regression_run_from_csv(tmp_path, tiny_fit_settings):
    rng = np.random.default_rng(3)
    lines = ["path,size"]
    for i in range(40):
        side = 4 + i % 12
        img = np.zeros((24, 24, 1), np.uint8)
        img[:side, :side] = 220
        save_png(img, tmp_path / "reg" / f"{i}.png")
        lines.append(f"reg/{i}.png,{side + rng.normal(scale=0.1):.3f}")
    (tmp_path / "reg.csv").write_text("\n".join(lines))
    result = medtransfer.fit(
        tmp_path / "reg.csv",
        label_column="size",
        task="regression",
        strategy="full",
        **dict(tiny_fit_settings, epochs=2),
    )
    assert result.metrics["task"] == "regression"
    assert {"rmse", "mae", "r2", "spearman", "rmse_ci", "spearman_ci"} <= set(result.metrics["test"])
    html = (result.run_dir / "report.html").read_text()
    assert "Parity" in html and "Residuals" in html and "rmse" in html


def test_multilabel_run_from_csv(tmp_path, tiny_fit_settings):
    rng = np.random.default_rng(4)
    lines = ["path,square,stripe"]
    for i in range(48):
        square, stripe = i % 2, (i // 2) % 2
        img = rng.integers(0, 60, (24, 24, 1), dtype=np.uint8)
        if square:
            img[2:8, 2:8] = 230
        if stripe:
            img[18:20, :] = 230
        save_png(img, tmp_path / "ml" / f"{i}.png")
        lines.append(f"ml/{i}.png,{square},{stripe}")
    (tmp_path / "ml.csv").write_text("\n".join(lines))
    result = medtransfer.fit(
        tmp_path / "ml.csv",
        label_column="square,stripe",
        strategy="full",
        **dict(tiny_fit_settings, epochs=2),
    )
    assert result.metrics["task"] == "multilabel"
    per_label = json.loads((result.run_dir / "metrics.json").read_text())["details"]["test"]["per_label"]
    assert set(per_label) == {"square", "stripe"}
    assert "label (test)" in (result.run_dir / "report.html").read_text()


def test_class_weights_onecycle_and_linear_head_train(image_csv, tiny_fit_settings):
    result = medtransfer.fit(
        image_csv,
        label_column="diagnosis",
        strategy="gradual",
        class_weights=True,
        scheduler="onecycle",
        head="linear",
        **dict(tiny_fit_settings, epochs=2),
    )
    model = json.loads((result.run_dir / "model" / "model.json").read_text())
    assert model["head"]["kind"] == "linear" and model["task"]["class_names"] == ["normal", "tumour"]
    assert "no group in two splits" in json.loads((result.run_dir / "data_summary.json").read_text())["split_method"]


@pytest.mark.slow
def test_fit_on_a_breastmnist_slice_beats_chance(tmp_path):
    result = medtransfer.fit(
        "breastmnist",
        backbone="efficientnet_lite0",
        strategy="linear_probe",
        max_train_samples=200,
        image_size=64,
        epochs=15,
        progress=False,
        out=str(tmp_path / "breast"),
    )
    assert result.metrics["test"]["auroc"] > 0.75
    assert result.metrics["test"]["balanced_accuracy"] > 0.6


def test_three_seeds_are_aggregated_as_mean_and_sd(npz_data, tiny_fit_settings):
    result = medtransfer.fit(npz_data, strategy="full", seeds=3, **dict(tiny_fit_settings, epochs=1))
    out = result.run_dir
    per_seed = [json.loads((out / f"seed-{s}" / "metrics.json").read_text())["test"]["auroc"] for s in range(3)]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["seeds"] == [0, 1, 2]
    assert metrics["test"]["auroc"] == pytest.approx(np.mean(per_seed))
    assert metrics["test"]["auroc_sd"] == pytest.approx(np.std(per_seed, ddof=1))
    assert "seed 2" in (out / "report.html").read_text()


def test_subgroup_metrics_per_attribute_value(image_csv, tiny_fit_settings):
    lines = image_csv.read_text().splitlines()
    lines = [lines[0] + ",sex"] + [line + ("," + ("F" if i % 3 else "M")) for i, line in enumerate(lines[1:])]
    image_csv.write_text("\n".join(lines) + "\n")
    result = medtransfer.fit(
        image_csv,
        label_column="diagnosis",
        subgroup_column="sex",
        test_fraction=0.5,
        strategy="full",
        **dict(tiny_fit_settings, epochs=1),
    )
    groups = result.metrics["subgroups"]["sex"]
    assert set(groups) == {"F", "M"}
    assert sum(g["n"] for g in groups.values()) == len(
        [r for r in _rows(result.run_dir / "predictions.csv") if r["split"] == "test"]
    )
    assert any("accuracy" in g for g in groups.values())
    assert "Subgroups (test)" in (result.run_dir / "report.html").read_text()


def test_compare_scratch_reports_the_transfer_gain(npz_data, tiny_fit_settings):
    result = medtransfer.fit(
        npz_data,
        strategy="full",
        compare_scratch=True,
        **dict(tiny_fit_settings, backbone="efficientnet_lite0", epochs=1),
    )
    gain = json.loads((result.run_dir / "metrics.json").read_text())["transfer_gain"]
    scratch = json.loads((Path(gain["scratch_run"]) / "metrics.json").read_text())
    assert gain["metric"] == "auroc"
    assert gain["difference"] == pytest.approx(result.metrics["test"]["auroc"] - scratch["test"]["auroc"])
    assert gain["verdict"].split(":")[0] in {"transfer helps", "negative transfer"} or gain["verdict"].startswith("no")
    assert "Transfer gain" in (result.run_dir / "report.html").read_text()
    assert json.loads((result.run_dir / "report.json").read_text())["metrics"]["transfer_gain"] == gain


def test_negative_transfer_is_said_in_words():
    from medtransfer.transfer_gain import verdict

    assert verdict("auroc", [-0.2, -0.05]).startswith("negative transfer")
    assert verdict("rmse", [0.1, 0.3]).startswith("negative transfer")  # higher error after transfer
    assert verdict("auroc", [0.02, 0.1]).startswith("transfer helps")
    assert verdict("auroc", [-0.05, 0.1]).startswith("no clear difference")


def test_seeds_with_compare_scratch_pair_a_full_scratch_twin_with_every_seed(npz_data, tiny_fit_settings):
    settings = dict(tiny_fit_settings, backbone="efficientnet_lite0", epochs=1)
    result = medtransfer.fit(npz_data, strategy="linear_probe", seeds=2, compare_scratch=True, **settings)
    gain = json.loads((result.run_dir / "metrics.json").read_text())["transfer_gain"]
    assert set(gain["per_seed"]) == {"0", "1"}
    for seed in (0, 1):
        twin = result.run_dir / f"seed-{seed}-scratch"
        config = yaml.safe_load((twin / "config.yaml").read_text())
        assert config["strategy"] == "full" and config["pretrained"] is False and config["seed"] == seed
    assert gain["difference"] == pytest.approx(np.mean([g["difference"] for g in gain["per_seed"].values()]))
    assert "Transfer gain" in (result.run_dir / "report.html").read_text()
    from medtransfer.cli_output import show_metrics as _print_metrics

    _print_metrics(result.metrics)  # what `medtransfer fit --seeds 2 --compare-scratch` prints


def test_resume_refuses_a_run_whose_config_or_data_changed(tiny_fit_settings, monkeypatch, tmp_path):
    from medtransfer.train.module import TransferModule

    data = planted_npz(tmp_path / "data.npz")
    settings = dict(tiny_fit_settings, strategy="full", epochs=3)

    def crash(self):
        raise Interrupt

    with monkeypatch.context() as patch:
        patch.setattr(TransferModule, "on_train_epoch_start", crash)
        with pytest.raises(Interrupt):
            medtransfer.fit(data, **settings)
    with pytest.raises(RunError, match=r"lr: 0\.001 then, 0\.01 now"):
        medtransfer.fit(data, **dict(settings, resume=True, lr=0.01))
    planted_npz(data, n_train=62)  # the same file name, other contents
    with pytest.raises(RunError, match=r"data: the .*train.* split\(s\) hold other samples"):
        medtransfer.fit(data, **dict(settings, resume=True))
    planted_npz(data)
    assert medtransfer.fit(data, **dict(settings, resume=True, progress=True)).run_dir.is_dir()


def test_an_interrupted_multiseed_run_resumes_without_redoing_finished_seeds(npz_data, tiny_fit_settings, monkeypatch):
    from medtransfer import pipeline

    settings = dict(tiny_fit_settings, strategy="full", epochs=1, seeds=2)
    original, trained = pipeline.train_model, []

    def crash_on_seed_1(model, task, strategy, data, cfg, workdir):
        if cfg.seed == 1 and not cfg.resume:
            raise Interrupt
        trained.append(cfg.seed)
        return original(model, task, strategy, data, cfg, workdir)

    monkeypatch.setattr(pipeline, "train_model", crash_on_seed_1)
    with pytest.raises(Interrupt):
        medtransfer.fit(npz_data, **settings)
    assert trained == [0]
    result = medtransfer.fit(npz_data, **dict(settings, resume=True))
    assert trained == [0, 1]  # seed 0 was finished: kept, not trained again
    assert result.metrics["seeds"] == [0, 1]
    assert set(result.metrics["test_per_seed"]) == {"0", "1"}


def test_evaluate_replays_the_runs_own_split_on_data_without_one(image_folder, tiny_fit_settings, tmp_path):
    """An image folder has no split column: evaluate must score the run's own test rows, not every row."""
    result = medtransfer.fit(image_folder, strategy="full", **tiny_fit_settings)
    evaluated = medtransfer.evaluate(result.run_dir, image_folder)
    test_ids = {r["id"] for r in _rows(result.run_dir / "predictions.csv") if r["split"] == "test"}
    assert {r["id"] for r in evaluated["rows"]} == test_ids and evaluated["seen_in_training"] == 0
    assert evaluated["metrics"]["accuracy"] == pytest.approx(result.metrics["test"]["accuracy"])
    # the same images read another way (a copy of the folder) are other data: their training rows are counted
    import shutil

    copy = Path(shutil.copytree(image_folder, tmp_path / "copy"))
    again = medtransfer.evaluate(result.run_dir, copy)
    assert again["n"] == 24 and again["seen_in_training"] == 24 - len(test_ids)


def test_predict_returns_labels_and_predict_proba_probabilities_for_2d_gray_arrays(npz_data, tiny_fit_settings):
    result = medtransfer.fit(npz_data, strategy="full", **tiny_fit_settings)
    loaded = medtransfer.load(result.run_dir)
    images = list(np.load(npz_data)["test_images"][:4])  # (28, 28): the shape MedMNIST ships
    assert images[0].ndim == 2
    probs = loaded.predict_proba(images)
    assert probs.shape == (4, 2) and np.allclose(probs.sum(axis=1), 1)
    labels = loaded.predict(images)
    assert list(labels) == [loaded.task.class_names[i] for i in probs.argmax(axis=1)]


def test_test_time_flip_is_scored_saved_and_served_as_the_mean_over_both_views(npz_data, tiny_fit_settings):

    from medtransfer.errors import ConfigError
    from medtransfer.evaluation.metrics import probabilities
    from medtransfer.train.predict import model_outputs

    result = medtransfer.fit(npz_data, strategy="linear_probe", tta="flip", **tiny_fit_settings)
    loaded = medtransfer.load(result.run_dir, device="cpu")
    assert loaded.model.test_time_flip and loaded.preprocessing["tta"] == "flip"
    table = read_image_npz(npz_data)
    test = table.subset(np.where(table.split == "test")[0])
    probs = loaded.predict_proba(test.inputs)
    saved = [r for r in _rows(result.run_dir / "predictions.csv") if r["split"] == "test"]
    assert np.allclose(probs[:, 1], [float(r["prob_1"]) for r in saved], atol=1e-5)  # scored as it predicts

    ds = loaded.modality.dataset(test.inputs, None, loaded.preprocessing, train=False)
    loaded.model.test_time_flip = False
    plain = model_outputs(loaded.model, ds)
    mirrored = model_outputs(loaded.model, [x.flip(-1) for x in ds])
    assert not np.allclose(plain, mirrored, atol=1e-3)  # the planted square moves: the views disagree
    mean = probabilities(loaded.task, (plain + mirrored) / 2)
    assert np.allclose(probs, mean, atol=1e-5)

    with pytest.raises(ConfigError, match="--tta flip applies to images"):
        medtransfer.fit("breast_cancer_wisconsin", tta="flip", progress=False, out=tiny_fit_settings["out"] + "_t")
