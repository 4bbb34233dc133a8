"""ONNX export: the graph onnxruntime runs gives the PyTorch model's outputs, at batch 1 and N, for an image run
and a token run; the CLI writes it; a run holding the classical model is refused in words."""

from __future__ import annotations

import json

import numpy as np
import pytest

import medtransfer
from tests.test_sequence_fit import motif_fasta

pytestmark = pytest.mark.slow


def _onnx_probabilities(folder, x: np.ndarray) -> np.ndarray:
    import onnxruntime

    logits = onnxruntime.InferenceSession(str(folder / "model.onnx")).run(None, {"input": x})[0]
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_an_image_run_exports_to_onnx_that_matches_pytorch(npz_data, tiny_fit_settings, tmp_path, monkeypatch, capsys):
    from medtransfer.cli import main

    # with test-time flips: the graph holds both views
    run = medtransfer.fit(str(npz_data), **{**tiny_fit_settings, "epochs": 1}, gallery=False, tta="flip").run_dir
    monkeypatch.setattr("sys.argv", ["medtransfer", "export", str(run), "--out", str(tmp_path / "onnx")])
    main()  # the command line: written, with the difference from PyTorch
    assert "largest difference from PyTorch on 8 inputs" in capsys.readouterr().out
    parity = json.loads((tmp_path / "onnx" / "parity.json").read_text())
    assert parity["max_abs_difference"] < 1e-4 and set(parity["by_batch"]) == {"batch_1", "batch_8"}
    meta = json.loads((tmp_path / "onnx" / "model.json").read_text())
    assert meta["onnx"]["input_shape"] == ["batch", 1, 32, 32] and meta["task"]["class_names"]
    # the weights file is named for the graph, with no scratch names left behind
    assert not [f.name for f in (tmp_path / "onnx").iterdir() if "partial" in f.name]
    # a batch size the export never saw, through the run's own preprocessing
    images = list(np.load(npz_data)["test_images"][:5])
    loaded = medtransfer.load(run)
    ds = loaded.modality.dataset(images, None, loaded.preprocessing, train=False)
    x = np.stack([ds[i].numpy() for i in range(5)])
    assert np.allclose(_onnx_probabilities(tmp_path / "onnx", x), loaded.predict_proba(images), atol=1e-5)


def test_a_token_run_exports_with_a_dynamic_length(tmp_path):
    data, _ = motif_fasta(tmp_path / "m.fa", n=80)
    run = medtransfer.fit(str(data), backbone="test_dna_bert", epochs=1, batch_size=16, progress=False,
                          gallery=False, out=str(tmp_path / "run")).run_dir  # fmt: skip
    written = medtransfer.export(run, tmp_path / "onnx")
    parity = json.loads((tmp_path / "onnx" / "parity.json").read_text())
    assert parity["max_abs_difference"] < 1e-4
    meta = json.loads((tmp_path / "onnx" / "model.json").read_text())
    assert meta["onnx"]["input_shape"] == ["batch", "length"] and meta["preprocessing"]["tokenizer"]["vocab"]
    import onnxruntime

    ids = np.array([[2, 5, 6, 7, 3]], dtype=np.int64)  # a length the export never saw
    assert onnxruntime.InferenceSession(str(written)).run(None, {"input": ids})[0].shape == (1, 2)


def test_a_run_holding_the_classical_model_is_refused_in_words(npz_data, tmp_path):
    import yaml

    from medtransfer.autotransfer.handover_run import write_classical_run
    from medtransfer.config import FitConfig

    cfg = FitConfig(data=str(npz_data), out=str(tmp_path / "classical"), progress=False, gallery=False)
    run = write_classical_run(cfg, None).run_dir
    assert yaml.safe_load((run / "config.yaml").read_text())
    with pytest.raises(medtransfer.MedtransferError, match="classical model"):
        medtransfer.export(run, tmp_path / "onnx")
