"""A bundle: one folder that load and serve read, with a model card and checksums checked on load."""

from __future__ import annotations

import numpy as np
import pytest

import medtransfer


def test_a_bundle_predicts_like_its_run_has_a_card_and_refuses_a_changed_file(npz_data, tiny_fit_settings, tmp_path):
    run = medtransfer.fit(str(npz_data), **{**tiny_fit_settings, "epochs": 1}, gallery=False).run_dir
    bundle = medtransfer.export(run, tmp_path / "bundle", format="bundle")
    images = list(np.load(npz_data)["test_images"][:4])
    assert np.allclose(medtransfer.load(bundle).predict_proba(images), medtransfer.load(run).predict_proba(images))
    card = (bundle / "MODEL_CARD.md").read_text()
    assert "Research use only" in card and "| auroc |" in card and "test_efficientnet" in card
    assert not (bundle / "predictions.csv").exists() and (bundle / "checksums.sha256").is_file()
    from medtransfer.serving.predictor import Predictor

    assert Predictor(bundle).model_card()["name"] == "bundle"
    with pytest.raises(medtransfer.MedtransferError, match="not empty"):
        medtransfer.export(run, bundle, format="bundle")
    weights = bundle / "model" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\x00")
    with pytest.raises(medtransfer.RunError, match="model/weights.safetensors has changed"):
        medtransfer.load(bundle)


def test_a_bundle_archive_loads_serves_and_refuses_members_outside_its_folder(
    npz_data, tiny_fit_settings, tmp_path, monkeypatch
):
    import io
    import tarfile

    from medtransfer.serving.predictor import Predictor

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    run = medtransfer.fit(str(npz_data), **{**tiny_fit_settings, "epochs": 1}, gallery=False).run_dir
    archive = medtransfer.export(run, tmp_path / "breast.tar.gz", format="bundle")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "breast/checksums.sha256" in names and "breast/model/weights.safetensors" in names
    images = list(np.load(npz_data)["test_images"][:3])
    loaded = medtransfer.load(archive)
    assert np.allclose(loaded.predict_proba(images), medtransfer.load(run).predict_proba(images))
    assert loaded.run_dir.parent.parent == tmp_path / "cache" / "medtransfer" / "bundles"
    assert Predictor(archive).model_card()["name"] == "breast"
    with pytest.raises(medtransfer.MedtransferError, match="exists"):
        medtransfer.export(run, archive, format="bundle")

    evil = tmp_path / "breast2.tar.gz"  # a planted member that climbs out of the bundle's folder
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("breast2/../../escaped.txt")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(medtransfer.RunError, match="cannot be unpacked|not a medtransfer bundle"):
        medtransfer.load(evil)
    assert not list(tmp_path.rglob("escaped.txt"))
    broken = tmp_path / "breast3.tar.gz"
    broken.write_bytes(archive.read_bytes()[:200])
    with pytest.raises(medtransfer.RunError, match="cannot be unpacked"):
        medtransfer.load(broken)
