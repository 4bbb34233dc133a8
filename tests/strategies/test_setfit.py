"""SetFit: pairs as in the paper, a contrastive stage that separates the classes, and a fit that saves the tuned
encoder so the loaded model predicts as the fitted one."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

import medtransfer
from medtransfer.errors import ConfigError
from medtransfer.strategies.contrastive import contrastive_tuning, sentence_pairs
from tests.test_text_fit import KEYWORD, note

pytest.importorskip("transformers")


def test_pairs_give_every_example_one_same_and_one_other_class_partner_per_round():
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    first, second, target = sentence_pairs(labels, rounds=3, seed=4)
    assert len(first) == 2 * 3 * len(labels) and target.mean() == 0.5
    assert np.bincount(first, minlength=len(labels)).tolist() == [6] * len(labels)
    assert np.all((labels[first] == labels[second]) == (target == 1)) and not np.any(first == second)
    again = sentence_pairs(labels, rounds=3, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip((first, second, target), again, strict=True))
    assert not np.array_equal(first, sentence_pairs(labels, rounds=3, seed=5)[0])
    with pytest.raises(ConfigError, match="two training examples of every class"):
        sentence_pairs(np.array([0, 0, 1]), 1, 0)


def separation(backbone, ids, labels) -> float:
    """Mean cosine of same-class pairs minus that of different-class pairs."""
    with torch.no_grad():
        emb = torch.nn.functional.normalize(backbone.eval()(ids), dim=1)
    cos = emb @ emb.T
    same = torch.as_tensor(labels[:, None] == labels[None, :])
    off = ~torch.eye(len(labels), dtype=torch.bool)
    return float(cos[same & off].mean() - cos[~same].mean())


def test_the_contrastive_stage_pulls_classes_apart_on_planted_notes():
    from medtransfer.backbones.registry import create_backbone
    from medtransfer.data.tokens import TokenEncoder

    rng = np.random.default_rng(0)
    texts, labels = zip(*[(note(rng, i % 2 == 1)[0], i % 2) for i in range(32)], strict=True)
    labels = np.array(labels)
    torch.manual_seed(0)
    backbone = create_backbone("test_text_bert")
    ids = torch.from_numpy(TokenEncoder(backbone.card.tokenizer).encode(list(texts)))
    before = separation(backbone, ids, labels)
    global_state = torch.random.get_rng_state()
    contrastive_tuning(backbone, ids, labels, seed=0, rounds=8, lr=1e-3)
    assert torch.equal(torch.random.get_rng_state(), global_state)  # dropout drew from its own generator
    assert separation(backbone, ids, labels) > before + 0.1


@pytest.mark.slow
def test_setfit_fit_saves_the_tuned_encoder_and_predicts_after_loading(tmp_path):
    rng = np.random.default_rng(1)
    texts = [note(rng, i % 2 == 1)[0] for i in range(80)]
    with open(tmp_path / "notes.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["note", "label"])
        writer.writerows([t, KEYWORD if i % 2 else "clear"] for i, t in enumerate(texts))
    result = medtransfer.fit(str(tmp_path / "notes.csv"), backbone="test_text_bert", strategy="setfit", epochs=30,
                             lr=3e-3, progress=False, gallery=False, out=str(tmp_path / "run"))  # fmt: skip
    assert result.metrics["test"]["auroc"] > 0.8
    card = result.model.backbone.card
    assert any(c.startswith("SetFit contrastive tuning on") for c in card.changes)
    with open(result.run_dir / "predictions.csv", newline="") as fh:
        test = [r for r in csv.DictReader(fh) if r["split"] == "test"]
    loaded = medtransfer.load(result.run_dir)  # the tuned encoder, not the starting one, comes back
    probs = loaded.predict_proba([texts[int(r["id"].removeprefix("row ")) - 2] for r in test])
    saved = np.array([float(r[f"prob_{KEYWORD}"]) for r in test])
    assert np.allclose(probs[:, list(loaded.task.class_names).index(KEYWORD)], saved, atol=1e-5)


def test_setfit_refuses_multilabel_targets(tmp_path):
    rows = ["note,a,b"] + [f"word {i} here,{i % 2},{(i // 2) % 2}" for i in range(24)]
    (tmp_path / "ml.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(ConfigError, match="single-label"):
        medtransfer.fit(str(tmp_path / "ml.csv"), label_column="a,b", backbone="test_text_bert", strategy="setfit",
                        epochs=1, progress=False, gallery=False, out=str(tmp_path / "run"))  # fmt: skip
