"""The feature cache: written as the backbone produces it, a standard safetensors file, read back by rows."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch.utils.data import DataLoader

from medtransfer.backbones.registry import create_backbone
from medtransfer.data.modality import get_modality
from medtransfer.errors import RunError
from medtransfer.train.feature_cache import FeatureRows, cache_dir, cache_features, feature_key
from medtransfer.train.predict import batched_outputs
from tests.conftest import planted_image

N = 70  # three CPU batches of 32, the last one short


@pytest.fixture(scope="module")
def backbone_and_images():
    backbone = create_backbone("efficientnet_lite0", pretrained=True, in_chans=1)
    modality = get_modality("image")
    rng = np.random.default_rng(0)
    images = [planted_image(k % 2, rng) for k in range(N)]
    card = backbone.card
    pre = {"modality": "image", "image_size": 32, "in_chans": card.in_chans, "mean": list(card.mean),
           "std": list(card.std), "interpolation": card.interpolation, "augment": "none", "tta": "none"}  # fmt: skip
    return backbone, modality.dataset(images, np.arange(N) % 2, pre, train=False), pre


def test_the_streamed_file_is_safetensors_holding_the_backbones_features(backbone_and_images):
    backbone, ds, pre = backbone_and_images
    key = feature_key(backbone, pre, "planted-70")
    rows = cache_features(backbone, ds, key)
    expected = batched_outputs(backbone, backbone, ds)
    on_disk = load_file(str(cache_dir() / f"{key}.safetensors"))["features"]
    assert on_disk.shape == (N, backbone.num_features) == expected.shape
    torch.testing.assert_close(on_disk, expected, rtol=0, atol=0)
    assert len(rows) == N
    torch.testing.assert_close(rows.rows(np.arange(N)), expected, rtol=0, atol=0)
    torch.testing.assert_close(rows.rows([69, 3, 40, 3]), expected[[69, 3, 40, 3]], rtol=0, atol=0)
    torch.testing.assert_close(torch.cat(list(rows.chunks(size=16))), expected, rtol=0, atol=0)
    assert np.array_equal(rows.numpy(), expected.numpy())
    assert not list(cache_dir().glob("*.tmp")), "the temporary file was left behind"


def test_rows_with_targets_load_in_batches_after_pickling(backbone_and_images):
    """Spawned training processes receive the dataset pickled: the file handle is reopened, never sent."""
    backbone, ds, pre = backbone_and_images
    rows = cache_features(backbone, ds, feature_key(backbone, pre, "planted-70")).with_targets(np.arange(N))
    rows.rows([0])  # opens the file in this process
    copy = pickle.loads(pickle.dumps(rows))
    seen = torch.cat([y for _, y in DataLoader(copy, batch_size=32, shuffle=True)])
    assert sorted(seen.tolist()) == list(range(N))
    x, y = copy[17]
    torch.testing.assert_close(x, rows.rows([17])[0], rtol=0, atol=0)
    assert int(y) == 17
    with pytest.raises(RunError, match="targets"):
        rows.with_targets(np.arange(N - 1))


def test_a_hit_reads_the_file_without_running_the_backbone(backbone_and_images, monkeypatch):
    backbone, ds, pre = backbone_and_images
    key = feature_key(backbone, pre, "planted-70-hit")
    first = cache_features(backbone, ds, key).numpy()
    monkeypatch.setattr(type(backbone), "forward", lambda self, x: (_ for _ in ()).throw(AssertionError("ran")))
    assert np.array_equal(cache_features(backbone, ds, key).numpy(), first)


def test_a_truncated_cache_file_says_to_delete_it(backbone_and_images):
    backbone, ds, pre = backbone_and_images
    key = feature_key(backbone, pre, "planted-70-cut")
    cache_features(backbone, ds, key)
    path = cache_dir() / f"{key}.safetensors"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(RunError, match="delete it"):
        FeatureRows(path).rows([N - 1])


def test_uncached_features_stay_in_memory(backbone_and_images):
    backbone, ds, _ = backbone_and_images
    before = sorted(cache_dir().glob("*")) if cache_dir().is_dir() else []
    rows = cache_features(backbone, ds, None)
    assert rows.path is None and len(rows) == N
    assert (sorted(cache_dir().glob("*")) if cache_dir().is_dir() else []) == before
    torch.testing.assert_close(rows.rows([5, 1]), batched_outputs(backbone, backbone, ds)[[5, 1]], rtol=0, atol=0)
