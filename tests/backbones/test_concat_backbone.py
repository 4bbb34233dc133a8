"""``concat:a+b``: members' features side by side, read from the members' own cache entries; one run's contract
(fit, save, load, predict, explain, export) like any backbone; bad names refused in words."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import medtransfer
from medtransfer.backbones import create_backbone
from medtransfer.errors import BackboneError


def _dataset(npz_data, backbone, image_size=32):
    from medtransfer.data.modality import get_modality
    from medtransfer.data.sources import read_data

    table = read_data(str(npz_data))
    image = get_modality("image")
    pre = image.preprocessing(backbone.card, table, {"image_size": image_size, "augment": "none"})
    return image.dataset(table.inputs[:24], None, pre, train=False), pre


def test_a_composites_features_are_its_members_own_read_from_their_cache(npz_data, monkeypatch):
    from medtransfer.train import feature_cache

    members = [create_backbone(n, True, in_chans=1).eval() for n in ("efficientnet_lite0", "efficientnet_lite1")]
    alone = []
    for member in members:  # each member's probe, as auto races them first
        ds, pre = _dataset(npz_data, member)
        alone.append(feature_cache.backbone_features(member, ds, pre, "data-hash").numpy())
    composite = create_backbone("concat:efficientnet_lite0+efficientnet_lite1", True, in_chans=1).eval()
    assert composite.num_features == 2560 and composite.card.mean == (0.0,) and composite.card.weights_sha256

    def no_forward(*args, **kwargs):
        raise AssertionError("the composite ran a backbone although its members' features were cached")

    monkeypatch.setattr(feature_cache, "iter_outputs", no_forward)
    ds, pre = _dataset(npz_data, composite)
    joined = feature_cache.backbone_features(composite, ds, pre, "data-hash").numpy()
    assert np.array_equal(joined, np.concatenate(alone, axis=1))
    with torch.inference_mode():  # and the composite's own forward gives them too (each member normalises)
        direct = composite(torch.stack([ds[i] for i in range(4)])).numpy()
    assert np.allclose(direct, joined[:4], atol=1e-4)
    assert np.array_equal(feature_cache.backbone_features(composite, ds, pre, "data-hash").numpy(), joined)


def test_blocks_merge_members_by_depth_and_cover_every_parameter_once():
    composite = create_backbone("concat:test_efficientnet+test_resnet", False, in_chans=3)
    blocks = composite.param_blocks()
    flat = [id(p) for block in blocks for p in block]
    assert len(flat) == len(set(flat)) == len(list(composite.parameters()))
    stems = {id(p) for view in composite.views for p in view.backbone.param_blocks()[0]}
    assert stems <= {id(p) for p in blocks[0]}  # both members' stems train at the first block's rate
    lasts = {id(p) for view in composite.views for p in view.backbone.param_blocks()[-1]}
    assert lasts <= {id(p) for p in blocks[-1]}


@pytest.mark.parametrize(
    "name", ["concat:test_resnet", "concat:test_resnet+test_resnet", "concat:test_resnet+concat:test_efficientnet"]
)
def test_a_composite_names_two_different_plain_backbones(name):
    with pytest.raises(BackboneError, match="two or more different backbones"):
        create_backbone(name, False)


def test_an_unknown_member_is_named_before_any_data_is_read(npz_data, tmp_path):
    with pytest.raises(BackboneError, match="efficientnet_lite9"):
        medtransfer.fit(str(npz_data), backbone="concat:test_resnet+efficientnet_lite9", out=str(tmp_path / "r"))


@pytest.mark.slow
def test_a_composite_run_fits_loads_predicts_explains_and_exports(npz_data, tiny_fit_settings, tmp_path):
    settings = {**tiny_fit_settings, "backbone": "concat:test_efficientnet+test_resnet", "strategy": "full"}
    result = medtransfer.fit(str(npz_data), **settings)
    assert result.metrics["test"]["auroc"] > 0.5
    loaded = medtransfer.load(result.run_dir)
    images = list(np.load(npz_data)["test_images"][:6])
    saved = result.run_dir / "predictions.csv"
    import csv

    rows = [r for r in csv.DictReader(saved.open()) if r["split"] == "test"][:6]
    assert np.allclose(loaded.predict_proba(images)[:, 1], [float(r["prob_1"]) for r in rows], atol=1e-5)
    import json

    # no single feature map: the pixel methods explain it (the report's gallery), Integrated Gradients by default
    gallery = json.loads((result.run_dir / "explanations" / "gallery" / "explanations.json").read_text())
    assert {e["method"] for e in gallery["explanations"]} == {"integrated_gradients"} and gallery["explanations"]
    medtransfer.export(result.run_dir, tmp_path / "onnx")

    assert json.loads((tmp_path / "onnx" / "parity.json").read_text())["max_abs_difference"] < 1e-4
