"""Continued (domain-adaptive) pretraining of a text encoder: it starts from the named backbone's weights and
vocabulary, learns the corpus, and the folder is a text backbone that fit uses."""

from __future__ import annotations

import pytest
import torch

from medtransfer.api import pretrain
from medtransfer.backbones.registry import create_backbone
from medtransfer.errors import ConfigError

pytest.importorskip("transformers")
SMALL = dict(max_length=64, batch_size=16, heldout=40, eval_every=10, save_every=10, progress=False)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """240 real radiology reports (IU X-ray findings + impressions), one per line."""
    from medtransfer.data.catalog import load_dataset

    path = tmp_path_factory.mktemp("corpus") / "reports.txt"
    path.write_text("\n".join(load_dataset("iu_xray_reports").inputs[:240]) + "\n")
    return path


def test_continued_pretraining_starts_from_the_named_encoder(reports, tmp_path):
    """At a vanishing learning rate the saved encoder is the starting one: its weights were loaded, not drawn."""
    folder = pretrain("text", str(reports), tmp_path / "still", init="test_text_bert", steps=2, lr=1e-12, **SMALL)
    start = create_backbone("test_text_bert").encoder.state_dict()
    saved = create_backbone(str(folder)).encoder.state_dict()
    assert all(torch.allclose(start[k], saved[k], atol=1e-6) for k in start)


def test_text_pretraining_continues_the_default_encoder_and_learns_the_reports(reports, tmp_path):
    """No --init for text: the modality's own start would be used (minilm_l6); here the tiny BERT is named so the
    test stays small. The masked-LM loss falls, the vocabulary is kept, and fit reads the folder as text."""
    import medtransfer

    folder = pretrain("text", str(reports), tmp_path / "dapt", init="test_text_bert", steps=30, lr=3e-3, **SMALL)
    log = (folder / "pretrain_log.csv").read_text().splitlines()
    first, last = float(log[1].split(",")[2]), float(log[-1].split(",")[2])
    assert last < first - 0.3, log
    backbone = create_backbone(str(folder))
    start = create_backbone("test_text_bert")
    assert backbone.card.modality == "text" and backbone.card.tokenizer == start.card.tokenizer
    assert backbone.card.input_size == start.card.input_size  # the saved window is the start's, not --max-length
    card = (folder / "MODEL_CARD.md").read_text()
    assert "continued from `test_text_bert`" in card and "--init test_text_bert" in card
    assert "--hidden-size" not in card  # the architecture is the start's, not a flag
    result = medtransfer.fit("iu_xray_reports", backbone=str(folder),
                             strategy="linear_probe", max_train_samples=40, epochs=2, progress=False, gallery=False,
                             out=str(tmp_path / "run"))  # fmt: skip
    assert 0.0 <= result.metrics["test"]["auroc"] <= 1.0 and result.model.backbone.card.source == backbone.card.source


def test_text_pretraining_defaults_to_minilm_and_refuses_what_cannot_continue(reports, tmp_path, monkeypatch):
    import medtransfer.pretraining.run as run

    with pytest.raises(ConfigError, match="needs a BERT encoder"):
        pretrain("protein", str(reports), tmp_path / "bad", init="protein_cnn", **SMALL)
    with pytest.raises(ConfigError, match="--tokenizer cannot change"):
        pretrain("text", str(reports), tmp_path / "bad", tokenizer="char", **SMALL)
    started = []
    real = run.starting_encoder
    monkeypatch.setattr(run, "starting_encoder", lambda name, s: started.append(name) or real("test_text_bert", s))
    pretrain("text", str(reports), tmp_path / "default", steps=1, **SMALL)
    assert started == ["minilm_l6"]
