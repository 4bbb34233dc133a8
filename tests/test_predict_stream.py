"""predict streams its inputs a batch at a time into a CSV, with bad inputs listed apart; nothing half-written."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import medtransfer
from medtransfer.prediction_stream import predict_to_csv
from tests.conftest import save_png


@pytest.fixture
def run_and_scans(npz_data, tiny_fit_settings, tmp_path):
    run = medtransfer.fit(str(npz_data), **{**tiny_fit_settings, "epochs": 1}, gallery=False).run_dir
    images = np.load(npz_data)["test_images"][:7]
    folder = tmp_path / "scans"
    folder.mkdir()
    for i, im in enumerate(images):
        save_png(im[:, :, None] if im.ndim == 2 else im, folder / f"scan{i}.png")
    return run, folder, list(images)


def test_stream_writes_every_batch_lists_bad_inputs_and_matches_predict(run_and_scans, tmp_path):
    run, folder, images = run_and_scans
    (folder / "scan3.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    loaded = medtransfer.load(run)
    out = tmp_path / "out" / "p.csv"
    done = predict_to_csv(loaded, [folder], out, skip_invalid=True, batch_size=2, progress=False)
    assert (done.predicted, done.invalid) == (6, 1)
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert [r["id"].rsplit("/", 1)[1] for r in rows] == [f"scan{i}.png" for i in (0, 1, 2, 4, 5, 6)]
    kept = [images[i] for i in (0, 1, 2, 4, 5, 6)]
    expected = loaded.predict_proba(kept)[:, 1]
    assert np.allclose([float(r[f"prob_{loaded.task.class_names[1]}"]) for r in rows], expected, atol=1e-5)
    invalid = list(csv.DictReader(done.invalid_out.read_text().splitlines()))
    assert [d["input"] for d in invalid] == ["scan3.png"] and invalid[0]["reason"]


def test_a_bad_input_without_skip_invalid_stops_naming_it_and_leaves_no_csv(run_and_scans, tmp_path):
    run, folder, _ = run_and_scans
    (folder / "scan5.png").write_bytes(b"not an image")
    out = tmp_path / "p.csv"
    with pytest.raises(medtransfer.DataError, match="scan5.png"):
        predict_to_csv(medtransfer.load(run), [folder], out, batch_size=2, progress=False)
    assert not out.exists() and not (tmp_path / "p.csv.partial").exists()


def test_images_are_read_only_as_their_batch_is_reached(run_and_scans):
    run, folder, _ = run_and_scans
    loaded = medtransfer.load(run)
    total, batches = loaded.iter_predictions([folder], batch_size=3)
    assert total == 7
    first_rows, _ = next(batches)
    (folder / "scan6.png").write_bytes(b"changed after the stream began")  # in the third batch
    second_rows, _ = next(batches)
    assert len(first_rows) == len(second_rows) == 3
    with pytest.raises(medtransfer.DataError, match="scan6.png"):
        next(batches)
