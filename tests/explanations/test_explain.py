"""Attribution methods, the token → atom mapping, the sanity check and the explain command."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from medtransfer.adapt.head import HeadSpec
from medtransfer.adapt.model import TransferModel
from medtransfer.backbones.registry import create_backbone
from medtransfer.data.tokens import SPECIAL_TOKENS, TokenEncoder
from medtransfer.errors import ExplainError
from medtransfer.explanations import sanity
from medtransfer.explanations.methods import attribute, token_baseline
from medtransfer.explanations.molecules import atom_weights

NITROBENZENE = "O=[N+]([O-])c1ccccc1"  # atoms: O0 N1 O2 c3..c8
SMILES = [NITROBENZENE, "CC(=O)Oc1ccccc1C(=O)O", "CCN"]


def token_model(name: str = "test_smiles_bert") -> TransferModel:
    torch.manual_seed(0)
    return TransferModel(create_backbone(name, False), HeadSpec(hidden=16), 2).eval()


def encode(model: TransferModel, smiles: list[str]) -> torch.Tensor:
    return torch.from_numpy(TokenEncoder(model.backbone.card.tokenizer).encode(smiles))


@pytest.mark.parametrize(
    ("splitter", "vocab"),
    [("smiles_regex", ["O", "=", "[N+]", "(", "[O-]", ")", "c", "1"]), ("chemnet", ["O", "=", "[", "N", "+", "]",
                                                                                    "(", "-", ")", "c", "1"])],
)  # fmt: skip
def test_token_attribution_lands_on_the_atoms_the_tokens_spell(splitter, vocab):
    spec = {"splitter": splitter, "vocab": [*SPECIAL_TOKENS, *vocab], "max_length": 64}
    tokens = TokenEncoder(spec).split(NITROBENZENE)
    attribution = np.zeros(len(tokens) + 2)  # [CLS] tokens [SEP]
    for i, tok in enumerate(tokens, start=1):
        attribution[i] = 1.0 if tok in ("[N+]", "N", "+") else 0.0  # only the charged nitrogen's characters
    weights = atom_weights(NITROBENZENE, attribution, spec)
    assert len(weights) == 9
    assert weights[1] == pytest.approx(2.0 if splitter == "chemnet" else 1.0)  # 'N' and '+' both inside [N+]
    assert np.count_nonzero(weights) == 1


def test_integrated_gradients_on_tokens_is_complete_and_skips_specials():
    model = token_model()
    ids = encode(model, SMILES)
    targets = torch.tensor([1, 1, 1])
    attr = attribute(model, ids, targets, "integrated_gradients")
    assert attr.shape == ids.shape
    assert torch.all(attr[:, 0] == 0)  # [CLS] is the same in input and baseline
    with torch.no_grad():
        gap = model(ids)[:, 1] - model(token_baseline(model, ids))[:, 1]
    # completeness: attributions add up to the output change from the all-[MASK] baseline
    # (32 steps: a few % of the largest output change, whatever the random init)
    assert torch.allclose(attr.sum(1), gap, atol=0.05 * float(gap.abs().max()) + 1e-4), (attr.sum(1), gap)
    assert torch.count_nonzero(attr[:, 1:]) > 0


def test_chemnet_attributions_follow_the_padded_characters():
    model = TransferModel(create_backbone("chemnet", True), HeadSpec(hidden=16), 2).eval()
    ids = encode(model, SMILES[:2])
    attr = attribute(model, ids, torch.tensor([0, 0]), "integrated_gradients")
    assert attr.shape == ids.shape  # one value per id position, [CLS] included
    length = len(TokenEncoder(model.backbone.card.tokenizer).split(SMILES[0])) + 2
    assert torch.all(attr[0, length:] == 0)  # padding is the same in input and baseline
    assert torch.count_nonzero(attr[0, 1 : length - 1]) > 0


def test_image_methods_give_one_map_per_input_at_input_resolution():
    torch.manual_seed(0)
    model = TransferModel(create_backbone("test_resnet", False, in_chans=1), HeadSpec(hidden=8), 2).eval()
    x = torch.randn(2, 1, 64, 64)
    for method in ("grad_cam", "integrated_gradients", "occlusion"):
        attr = attribute(model, x, torch.tensor([0, 1]), method)
        assert attr.shape == (2, 64, 64), method


def test_methods_that_cannot_apply_say_which_can():
    model = token_model()
    ids = encode(model, SMILES)
    with pytest.raises(ExplainError, match="integrated_gradients or occlusion"):
        attribute(model, ids, torch.tensor([0, 0, 0]), "grad_cam")
    with pytest.raises(ExplainError, match="Did you mean 'grad_cam'"):
        attribute(model, ids, torch.tensor([0, 0, 0]), "gradcam")


def test_sanity_check_fails_a_map_that_ignores_the_weights(monkeypatch):
    model = token_model()
    ids = encode(model, SMILES)
    targets = torch.tensor([1, 1, 1])
    honest = sanity.sanity_check(model, ids, targets, "integrated_gradients")
    assert {"rank_correlation", "passed", "threshold"} <= set(honest)
    # a "randomised" model that is the same model: the explanation cannot have changed, so it must fail
    monkeypatch.setattr(sanity, "randomised_copy", lambda m, seed=0: m)
    same = sanity.sanity_check(model, ids, targets, "integrated_gradients")
    assert same["rank_correlation"] == pytest.approx(1.0)
    assert not same["passed"]


def test_randomised_copy_changes_every_layer_but_not_the_original():
    model = token_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    clone = sanity.randomised_copy(model)
    weights = [k for k, v in before.items() if v.dtype.is_floating_point and v.dim() > 1]
    assert all(torch.equal(model.state_dict()[k], before[k]) for k in before)
    assert all(not torch.equal(clone.state_dict()[k], before[k]) for k in weights)


def run_cli(args: list[str], monkeypatch) -> int:
    from medtransfer.cli import main

    monkeypatch.setattr(sys, "argv", ["medtransfer", *args])
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.slow
def test_explain_command_writes_pictures_and_index(tmp_path, monkeypatch, capsys):
    import medtransfer
    from tests.explanations.planted import nitro_csv

    data, held_out = nitro_csv(tmp_path / "nitro.csv", per_class=40)
    run = medtransfer.fit(str(data), backbone="test_smiles_bert", strategy="full", split="random", epochs=2,
                          progress=False, out=str(tmp_path / "run")).run_dir  # fmt: skip
    assert "Explanations (test cases)" in (run / "report.html").read_text()
    smi = tmp_path / "in.smi"
    smi.write_text("\n".join(held_out[:3]) + "\n")
    out = tmp_path / "explained"
    assert run_cli(["explain", str(run), "--input", str(smi), "--out", str(out)], monkeypatch) == 0
    assert "Sanity check" in capsys.readouterr().out
    assert len(list(out.glob("*.png"))) == 3 and (out / "index.html").is_file()
    assert np.load(out / "attributions.npz")["0000"].shape == (len(atom_weights(held_out[0], np.zeros(1), {
        "splitter": "smiles_regex", "vocab": list(SPECIAL_TOKENS), "max_length": 128})),)  # fmt: skip
    code = run_cli(["explain", str(run), "--input", str(smi), "--out", str(out), "--method", "grad_cam"], monkeypatch)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error:") and "integrated_gradients" in err


def test_sanity_check_calls_constant_maps_undetermined_not_passed(monkeypatch):
    """A map that is the same everywhere (e.g. Grad-CAM all zero after its ReLU) ranks nothing to compare."""
    model = token_model()
    ids = encode(model, SMILES)
    monkeypatch.setattr(sanity, "attribute", lambda m, x, t, method: torch.zeros(x.shape, dtype=torch.float32))
    check = sanity.sanity_check(model, ids, torch.tensor([1, 1, 1]), "integrated_gradients")
    assert check["passed"] is None and check["rank_correlation"] is None
    assert check["undetermined_inputs"] == 3 and check["verdict"].startswith("UNDETERMINED")


def test_integrated_gradients_runs_its_steps_in_bounded_chunks_with_the_same_result(monkeypatch):
    from medtransfer.explanations import methods

    backbone = create_backbone("concat:test_efficientnet+test_resnet", pretrained=False, in_chans=1)
    model = TransferModel(backbone, HeadSpec(hidden=16), 2).eval()
    seen: list[int] = []
    model.register_forward_pre_hook(lambda module, args: seen.append(args[0].shape[0]))
    x, targets = torch.rand(8, 1, 32, 32), torch.tensor([0, 1] * 4)
    chunked = methods.attribute(model, x, targets, "integrated_gradients")
    # 8 inputs × 32 steps at once kept every activation of 256 images for the backward pass (past 24 GB on a
    # four-source composite at 128 px)
    assert max(seen) <= methods.IG_CHUNK < 8 * methods.IG_STEPS
    monkeypatch.setattr(methods, "IG_CHUNK", 8 * methods.IG_STEPS)  # all at once, as before
    assert torch.allclose(methods.attribute(model, x, targets, "integrated_gradients"), chunked, atol=1e-5)
