"""The pretraining stage: masked-LM loss falls, the folder is a backbone, an interrupted run resumes exactly."""

from __future__ import annotations

import pytest
import torch

from medtransfer.api import pretrain
from medtransfer.backbones.registry import create_backbone
from medtransfer.data.tokens import TokenEncoder

pytest.importorskip("transformers")
TINY = dict(hidden_size=32, layers=2, heads=2, intermediate_size=64, max_length=64, batch_size=32, heldout=64)


@pytest.fixture
def corpus(tmp_path):
    """560 real molecules (BBBP's SMILES) as a .smi file: 500 to train on, 60 more held out."""
    from medtransfer.data.sources import read_data

    path = tmp_path / "corpus.smi"
    path.write_text("\n".join(read_data("bbbp").inputs[:564]) + "\n")
    return path


def test_pretraining_lowers_the_masked_lm_loss_and_reloads(corpus, tmp_path):
    folder = pretrain(
        "molecule", str(corpus), tmp_path / "zoo", steps=40, eval_every=20, lr=2e-3, progress=False, **TINY
    )
    log = (folder / "pretrain_log.csv").read_text().splitlines()
    first, last = float(log[1].split(",")[2]), float(log[-1].split(",")[2])
    assert last < first - 0.5, log
    backbone = create_backbone(str(folder)).eval()
    assert backbone.card.pretrained and backbone.card.modality == "molecule"
    from safetensors.torch import load_file

    saved = load_file(str(folder / "encoder.safetensors"))
    assert all(torch.equal(saved[k], v) for k, v in backbone.encoder.state_dict().items())
    ids = torch.from_numpy(TokenEncoder(backbone.card.tokenizer).encode(["CCO", "c1ccccc1"]))
    with torch.no_grad():
        assert backbone(ids).shape == (2, 32)
    card = (folder / "MODEL_CARD.md").read_text()
    assert "medtransfer pretrain --modality molecule" in card and "--steps 40" in card


@pytest.mark.parametrize(
    "modality, data, teacher", [("molecule", "corpus", None), ("protein", "peptides", "unirep_64")]
)
def test_interrupted_pretraining_resumes_to_identical_weights(modality, data, teacher, request, tmp_path, monkeypatch):
    """Killed after the step-4 checkpoint and run again: the same weights as a run never stopped (with a teacher
    too, whose student → teacher map is checkpointed)."""
    import medtransfer.pretraining.mlm as mlm

    corpus = request.getfixturevalue(data)
    settings = dict(steps=8, save_every=2, eval_every=4, progress=False, teacher=teacher, **TINY)
    straight = pretrain(modality, str(corpus), tmp_path / "straight", **settings)

    real_save = mlm._save_state

    def save_then_die(out, model, optimizer, schedule, step, *rest):
        real_save(out, model, optimizer, schedule, step, *rest)
        if step == 4:
            raise KeyboardInterrupt  # killed right after the step-4 checkpoint

    monkeypatch.setattr(mlm, "_save_state", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        pretrain(modality, str(corpus), tmp_path / "resumed", **settings)
    monkeypatch.setattr(mlm, "_save_state", real_save)
    resumed = pretrain(modality, str(corpus), tmp_path / "resumed", **settings)
    a = create_backbone(str(straight)).encoder.state_dict()
    b = create_backbone(str(resumed)).encoder.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_pretraining_images_is_refused_with_a_clear_message(tmp_path):
    from medtransfer.errors import ConfigError

    with pytest.raises(ConfigError, match="no pretraining stage"):
        pretrain("image", "x", tmp_path / "z", progress=False)
    with pytest.raises(ConfigError, match="molecule corpora do not take it"):
        pretrain("molecule", "moses", tmp_path / "z", exclude=["bbbp"], progress=False)
    with pytest.raises(ConfigError, match="one text per record"):
        pretrain("molecule", "moses", tmp_path / "z", piece_length=40, progress=False)


@pytest.mark.parametrize("kind", ["dna", "protein"])
def test_sequence_pretraining_learns_a_structured_corpus(kind, tmp_path):
    """A FASTA of long records made of repeated words: cut into pieces, learnt, saved with the full alphabet."""
    import numpy as np

    rng = np.random.default_rng(0)
    letters = "ACGT" if kind == "dna" else "ACDEFGHIKLMNPQRSTVWY"
    words = ["".join(rng.choice(list(letters), 6)) for _ in range(4)]
    records = ["".join(rng.choice(words, 200)) for _ in range(12)]  # 12 × 1,200 symbols
    corpus = tmp_path / "corpus.fa"
    corpus.write_text("".join(f">r{i}\n{r}\n" for i, r in enumerate(records)))
    settings = dict(TINY, heldout=16)
    held_back = tmp_path / "test_set.fa"
    held_back.write_text(f">t\n{records[0][:30]}\n")  # a test sequence, cut out of the corpus first
    folder = pretrain(kind, str(corpus), tmp_path / "zoo", steps=40, eval_every=20, lr=3e-3, progress=False,
                      exclude=[str(held_back)], **settings)  # fmt: skip
    log = (folder / "pretrain_log.csv").read_text().splitlines()
    first, last = float(log[1].split(",")[2]), float(log[-1].split(",")[2])
    assert last < first - 0.3, log
    backbone = create_backbone(str(folder))
    assert backbone.card.modality == kind and "N" in backbone.card.tokenizer["vocab"]  # N: never in the corpus
    assert backbone.card.finetune_rates == {"backbone_lr_scale": 1.0, "layer_decay": 1.0}
    card = (folder / "MODEL_CARD.md").read_text()
    assert "Fine-tuning rates recorded in card.json" in card
    assert f"--exclude {held_back}" in card and "cut out" in backbone.card.source


def test_piece_length_cuts_the_corpus_shorter_than_the_window(tmp_path):
    """--piece-length 20 on 12 records of 1,200 residues: 720 training texts of 20, recorded in the card."""
    from medtransfer.errors import ConfigError

    corpus = tmp_path / "corpus.fa"
    corpus.write_text("".join(f">r{i}\n{'ACDEFGHIKLMNPQRSTVWY' * 60}\n" for i in range(12)))
    settings = dict(TINY, heldout=16, steps=2, progress=False)
    folder = pretrain("protein", str(corpus), tmp_path / "zoo", piece_length=20, **settings)
    card = (folder / "MODEL_CARD.md").read_text()
    assert "--piece-length 20" in card and "over 704 training texts" in card  # 720 pieces − 16 held out
    assert "cut into 20-residue pieces" in card
    assert create_backbone(str(folder)).card.input_size == 64  # the window stays --max-length
    with pytest.raises(ConfigError, match="between 1 and --max-length"):
        pretrain("protein", str(corpus), tmp_path / "bad", piece_length=63, **settings)


def test_kmer_masking_hides_runs_of_k_tokens():
    from medtransfer.pretraining.masking import mask_span, mask_tokens

    ids = torch.randint(5, 69, (64, 200))
    generator = torch.Generator().manual_seed(0)
    corrupted, labels = mask_tokens(ids, 4, 5, 69, generator, span=mask_span({"splitter": "kmer6"}))
    chosen = labels != -100
    assert 0.10 < chosen.float().mean() < 0.20  # about BERT's 15%
    # every run of chosen tokens is at least k long (runs may merge), except one cut off by the row's end
    runs = [r for row in chosen.int().tolist() for r in "".join(map(str, row)).rstrip("1").split("0") if r]
    assert runs and min(map(len, runs)) >= 6
    plain, _ = mask_tokens(ids, 4, 5, 69, torch.Generator().manual_seed(0))  # span 1: BERT's masking as before
    assert mask_span({"splitter": "char"}) == 1 and not torch.equal(plain, corrupted)


def test_dna_pretraining_on_kmer_tokens_and_fine_tuning_from_it(tmp_path):
    """--tokenizer kmer3: DNABERT's vocabulary (every A/C/G/T 3-mer), span masking, a card that reproduces it;
    the folder then fine-tunes like any backbone."""
    import numpy as np

    import medtransfer

    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list("ACGT"), 6)) for _ in range(4)]
    corpus = tmp_path / "corpus.fa"
    corpus.write_text("".join(f">r{i}\n{''.join(rng.choice(words, 200))}\n" for i in range(12)))
    folder = pretrain("dna", str(corpus), tmp_path / "kmer_bert", tokenizer="kmer3", steps=40, eval_every=20,
                      lr=3e-3, progress=False, **dict(TINY, heldout=16))  # fmt: skip
    log = (folder / "pretrain_log.csv").read_text().splitlines()
    assert float(log[-1].split(",")[2]) < float(log[1].split(",")[2]) - 0.3
    backbone = create_backbone(str(folder))
    assert backbone.card.tokenizer["splitter"] == "kmer3" and len(backbone.card.tokenizer["vocab"]) == 5 + 64
    assert "--tokenizer kmer3" in (folder / "MODEL_CARD.md").read_text()
    fasta = tmp_path / "labelled.fa"
    fasta.write_text("".join(f">s{i} label={i % 2}\n{''.join(rng.choice(words, 8))}{'GGGCCC' * (i % 2)}\n"
                             for i in range(40)))  # fmt: skip
    result = medtransfer.fit(str(fasta), backbone=str(folder), strategy="linear_probe", epochs=2, progress=False,
                             gallery=False, split="random", out=str(tmp_path / "run"))  # fmt: skip
    assert "kmer3 tokens" in (result.run_dir / "report.html").read_text()
    with pytest.raises(medtransfer.errors.ConfigError, match="char tokens"):
        pretrain("protein", str(corpus), tmp_path / "bad", tokenizer="kmer3", progress=False, **TINY)


@pytest.fixture
def peptides(tmp_path):
    """600 real peptides (amp's) as a FASTA corpus."""
    from medtransfer.data.sources import read_data

    path = tmp_path / "peptides.fa"
    path.write_text("".join(f">p{i}\n{s}\n" for i, s in enumerate(read_data("amp").inputs[:600])))
    return path


def test_distilling_a_teacher_learns_its_states_and_the_card_says_so(peptides, tmp_path):
    """--teacher unirep_64: the held-out distillation loss falls, and the card names the teacher, its licence
    and the flag that reproduces the run."""
    folder = pretrain("protein", str(peptides), tmp_path / "student", teacher="unirep_64", steps=60, eval_every=30,
                      lr=3e-3, progress=False, **dict(TINY, heldout=64))  # fmt: skip
    header, *rows = [line.split(",") for line in (folder / "pretrain_log.csv").read_text().splitlines()]
    distill = [float(r[header.index("heldout_distill")]) for r in rows]
    assert distill[-1] < 0.8 * distill[0], distill  # the student reproduces part of the teacher's variance
    card = create_backbone(str(folder)).card
    assert card.licence.startswith("GPL-3.0") and "distilled from unirep_64" in card.source
    text = (folder / "MODEL_CARD.md").read_text()
    assert "--teacher unirep_64" in text and f"{distill[-1]:.3f} after" in text


def test_a_teacher_that_reads_other_tokens_is_refused(peptides, tmp_path):
    from medtransfer.errors import ConfigError

    with pytest.raises(ConfigError, match="does not read the student's tokens"):
        pretrain("protein", str(peptides), tmp_path / "z", teacher="dna_cnn", progress=False, **TINY)
    with pytest.raises(ConfigError, match="reads at most 256 tokens"):
        pretrain("protein", str(peptides), tmp_path / "z", teacher="test_protein_bert", progress=False,
                 **dict(TINY, max_length=512))  # fmt: skip
    with pytest.raises(ConfigError, match="random weights"):
        pretrain("protein", str(peptides), tmp_path / "z", teacher="test_protein_bert", progress=False, **TINY)
