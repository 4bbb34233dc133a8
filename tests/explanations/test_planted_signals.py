"""Explanations find planted signals: a bright corner square (Grad-CAM) and a nitro group (per-atom IG)."""

from __future__ import annotations

import numpy as np
import pytest

import medtransfer
from medtransfer.explanations.display import positive_share
from tests.explanations.planted import nitro_atoms, nitro_csv, square_folder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def square_run(tmp_path_factory):
    root = square_folder(tmp_path_factory.mktemp("squares") / "images")
    out = tmp_path_factory.mktemp("runs") / "squares"
    result = medtransfer.fit(str(root), backbone="test_resnet", pretrained=False, strategy="full", image_size=128,
                             epochs=6, batch_size=16, lr=3e-3, augment="none", head_hidden=32, progress=False,
                             out=str(out))  # fmt: skip
    assert result.metrics["test"]["accuracy"] > 0.9  # the planted task is learnt, so explanations can be judged
    return result.run_dir, root


def test_grad_cam_mass_lies_on_the_planted_square(square_run):
    run, root = square_run
    result = medtransfer.explain(run, [root / "square"], method="grad_cam", target="square")
    quadrant = np.zeros((64, 64), dtype=bool)
    quadrant[:32, :32] = True  # the square always lies in this quarter of the image
    shares = [positive_share(e.values, quadrant) for e in result.explanations]
    assert result.explanations[0].values.shape == (64, 64)  # at the original resolution
    assert np.mean(shares) > 0.6, f"Grad-CAM mass in the square's quadrant: {np.mean(shares):.2f} (chance 0.25)"
    assert result.sanity["passed"], result.sanity


def test_report_gallery_shows_right_and_wrong_cases(square_run):
    run, _ = square_run
    html = (run / "report.html").read_text()
    assert "Explanations (test cases)" in html
    gallery = (run / "explanations" / "gallery" / "gallery.json").read_text()
    assert '"most confident correct"' in gallery and '"class": "square"' in gallery


def test_atom_attribution_peaks_on_the_nitro_group(tmp_path):
    data, held_out = nitro_csv(tmp_path / "nitro.csv")
    result = medtransfer.fit(str(data), backbone="test_smiles_bert", strategy="full", split="random", epochs=12,
                             lr=1e-3, batch_size=32, progress=False, gallery=False,
                             out=str(tmp_path / "run"))  # fmt: skip
    assert result.metrics["test"]["auroc"] > 0.9
    smi = tmp_path / "held_out.smi"
    smi.write_text("\n".join(held_out) + "\n")
    explained = medtransfer.explain(result.run_dir, [smi], target="1", out=tmp_path / "explained")
    hits = [int(np.argmax(e.values)) in nitro_atoms(s) for e, s in zip(explained.explanations, held_out, strict=True)]
    assert np.mean(hits) >= 0.7, f"top atom in the nitro group for {np.mean(hits):.0%} of {len(hits)} molecules"
    assert (tmp_path / "explained" / "index.html").is_file()
    assert len(list((tmp_path / "explained").glob("*.png"))) == len(held_out)
