"""Forward passes outside training run on the run's device; the channels_last layout changes no output."""

from __future__ import annotations

import numpy as np
import torch

import medtransfer
from medtransfer.data.images.readers import read_image_npz
from medtransfer.explanations.explain_run import explain_inputs
from medtransfer.train.devices import accelerator_device
from medtransfer.train.predict import inference_device, on_device


def test_each_rank_scores_on_its_own_gpu_and_the_cpu_stays_the_default(monkeypatch):
    monkeypatch.setenv("LOCAL_RANK", "1")  # torchrun / Lightning's launcher name the rank's device by it
    assert accelerator_device("gpu") == "cuda:1"
    monkeypatch.delenv("LOCAL_RANK")
    assert accelerator_device("gpu") == "cuda:0"
    assert accelerator_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert accelerator_device("auto") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert accelerator_device("auto") == "cuda:0"
    assert inference_device() == torch.device("cpu")
    with on_device("cuda:1") as device:
        assert inference_device() == device == torch.device("cuda", 1)
    assert inference_device() == torch.device("cpu")


def test_a_model_in_the_nhwc_layout_predicts_the_same_and_is_put_back_contiguous(npz_data, tiny_fit_settings):
    result = medtransfer.fit(npz_data, strategy="full", **tiny_fit_settings)
    loaded = medtransfer.load(result.run_dir, device="cpu")
    table = read_image_npz(npz_data)
    inputs = table.subset(np.where(table.split == "test")[0]).inputs
    before = loaded.predict_proba(inputs)

    loaded.model.to(memory_format=torch.channels_last)  # the layout forward passes and training use
    assert any(not p.is_contiguous() for p in loaded.model.parameters())
    assert np.allclose(loaded.predict_proba(inputs), before, atol=1e-5)
    assert all(p.is_contiguous() for p in loaded.model.parameters())  # put back as saved weights need
    assert np.allclose(loaded.to("cpu").predict_proba(inputs), before, atol=1e-6)
    # re-laid out outside inference mode: the weights still take a backward pass (explanations need one)
    assert not any(p.is_inference() for p in loaded.model.parameters())
    explained = explain_inputs(loaded, inputs[:2], ["a", "b"], None, None)
    assert len(explained) == 2

