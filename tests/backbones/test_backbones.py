"""Every registered backbone: forward, pooled width, blocks, channel adaptation; file: and timm: loading."""

from __future__ import annotations

import pytest
import torch

from medtransfer.backbones import BACKBONES, create_backbone
from medtransfer.backbones.registry import list_backbones
from medtransfer.errors import BackboneError

list_backbones()  # loads the plug-ins so the parametrisation below sees every registered name


IMAGE_BACKBONES = [n for n in BACKBONES.names() if BACKBONES.meta(n)["modality"] == "image"]


@pytest.mark.parametrize("name", IMAGE_BACKBONES)
@pytest.mark.parametrize("in_chans", [1, 3])
def test_registered_backbone_contract(name, in_chans):
    backbone = create_backbone(name, pretrained=False, in_chans=in_chans).eval()
    x = torch.randn(2, in_chans, 32, 32)
    with torch.no_grad():
        feats = backbone(x)
    assert feats.shape == (2, backbone.num_features)
    blocks = backbone.param_blocks()
    assert len(blocks) >= 3
    n_params = sum(p.numel() for p in backbone.parameters())
    assert sum(p.numel() for block in blocks for p in block) == n_params  # blocks cover every parameter
    assert backbone.card.in_chans == in_chans and len(backbone.card.mean) == in_chans
    assert backbone.card.licence


@pytest.mark.parametrize("name", ["test_efficientnet", "efficientnet_lite0"])
def test_gray_adaptation_equals_replicated_gray_on_rgb_model(name):
    torch.manual_seed(0)
    rgb = create_backbone(name, pretrained=(name == "efficientnet_lite0"), in_chans=3).eval()
    gray = create_backbone(name, pretrained=False, in_chans=1).eval()
    # the 1-channel model gets the 3-channel model's weights through the adaptation path
    from timm.models import adapt_input_conv

    state = dict(rgb.state_dict())
    key = f"model.{rgb.card.first_conv}.weight"
    state[key] = adapt_input_conv(1, state[key])
    gray.load_state_dict(state)
    x = torch.rand(2, 1, 40, 40)
    with torch.no_grad():
        assert torch.allclose(gray(x), rgb(x.repeat(1, 3, 1, 1)), atol=1e-5)


def test_packaged_lite0_loads_imagenet_weights_and_says_what_it_changed():
    pretrained = create_backbone("efficientnet_lite0", pretrained=True, in_chans=1)
    scratch = create_backbone("efficientnet_lite0", pretrained=False, in_chans=1)
    card = pretrained.card
    assert card.pretrained and card.weights_sha256 and card.licence == "Apache-2.0"
    assert any("adapted from 3 to 1" in c for c in card.changes)
    assert card.input_size == 224 and card.mean == (0.5,)
    w_pre, w_scr = pretrained.model.conv_stem.weight, scratch.model.conv_stem.weight
    assert w_pre.shape == w_scr.shape == (32, 1, 3, 3) and not torch.equal(w_pre, w_scr)


def test_file_backbone_reports_loaded_missing_unexpected_reshaped(tmp_path, caplog):
    from safetensors.torch import save_file

    source = create_backbone("test_resnet", pretrained=False, in_chans=3)
    state = {k.removeprefix("model."): v.contiguous() for k, v in source.state_dict().items()}
    state["extra.weight"] = torch.zeros(3)
    del state["layer4.0.conv1.weight"]
    save_file(state, tmp_path / "w.safetensors")
    with caplog.at_level("INFO", logger="medtransfer"):
        backbone = create_backbone(f"file:{tmp_path / 'w.safetensors'}", in_chans=1, arch="test_resnet")
    summary = backbone.card.changes[-1]
    assert "missing (random init) 1: layer4.0.conv1.weight" in summary
    assert "unexpected (ignored) 1: extra.weight" in summary
    assert "reshaped 1" in summary and "(3→1" not in summary
    assert "loaded" in caplog.text
    conv = backbone.model.conv1[0] if isinstance(backbone.model.conv1, torch.nn.Sequential) else backbone.model.conv1
    assert conv.weight.shape[1] == 1


def test_file_backbone_needs_arch_and_refuses_pickles(tmp_path):
    with pytest.raises(BackboneError, match="--arch"):
        create_backbone(f"file:{tmp_path / 'w.pt'}")
    torch.save({"weights": object()}, tmp_path / "evil.pt")
    with pytest.raises(BackboneError, match="--trust-checkpoint"):
        create_backbone(f"file:{tmp_path / 'evil.pt'}", arch="test_resnet")


def test_unknown_backbone_suggests_and_lists():
    with pytest.raises(BackboneError) as err:
        create_backbone("efficientnet_lite")
    assert "Did you mean" in str(err.value) and "efficientnet_lite0" in str(err.value)


def test_timm_scratch_builds_offline_and_unknown_arch_is_named():
    backbone = create_backbone("timm:resnet18", pretrained=False, in_chans=1)
    assert backbone.num_features == 512 and backbone.card.mean == (sum((0.485, 0.456, 0.406)) / 3,)
    with pytest.raises(BackboneError, match="timm has no architecture 'resnet_nope'"):
        create_backbone("timm:resnet_nope", pretrained=False)


def test_timm_pretrained_offline_names_the_offline_choices(monkeypatch):
    from medtransfer.backbones import image_backbones

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(image_backbones, "hub_reachable", lambda: False)  # hermetic: never touch the network
    with pytest.raises(BackboneError) as err:
        create_backbone("timm:resnet18", pretrained=True)
    assert "efficientnet_lite0" in str(err.value) and "--no-pretrained" in str(err.value)
