"""Backbone registry: ``name`` | ``timm:<arch>`` | ``file:<path>`` | ``hf:<repo>`` | a pretrain folder → a Backbone.

A registered factory is called as ``factory(pretrained=bool, in_chans=int)``. Modalities add their own
backbones by registering factories in their own module; nothing here knows about any of them.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from pathlib import Path

from medtransfer.backbones.base import Backbone
from medtransfer.errors import BackboneError
from medtransfer.registry import Registry

log = logging.getLogger("medtransfer")

BACKBONES: Registry[Callable[..., Backbone]] = Registry("backbone", BackboneError)
# modules whose import registers backbones; a new modality adds its module here
PLUGIN_MODULES = (
    "medtransfer.backbones.image_backbones",
    "medtransfer.backbones.capricorn_densenet",
    "medtransfer.backbones.molecule_backbones",
    "medtransfer.backbones.sequence_backbones",
    "medtransfer.backbones.unirep",
    "medtransfer.backbones.text_backbones",
)


def _load_plugins() -> None:
    for module in PLUGIN_MODULES:
        importlib.import_module(module)


def create_backbone(
    name: str,
    pretrained: bool = True,
    in_chans: int = 3,
    arch: str | None = None,
    trust_pickle: bool = False,
    card: dict | None = None,
    seed: int = 0,
    trust_remote_code: bool = False,
) -> Backbone:
    """Resolve ``name`` to a backbone with ``in_chans`` input channels.

    ``pretrained=False`` builds the same architecture with random weights (the from-scratch baseline, and how
    saved models are rebuilt before their own weights are loaded). A saved ``card`` that carries its
    architecture config rebuilds from that alone, so no hub or pretraining folder is needed to load a model.
    Random weights (a from-scratch model, a layer a pretrained one lacks) are drawn from ``seed`` alone,
    without touching the caller's global generator. ``trust_pickle`` allows pickled weight files;
    ``trust_remote_code`` lets a hub model run its own Python code: two separate permissions.
    """
    from medtransfer.run.seeding import derive_seed, seeded_torch

    _load_plugins()
    with seeded_torch(derive_seed(seed, "backbone")):
        return _resolve(name, pretrained, in_chans, arch, trust_pickle, card, trust_remote_code)


def _resolve(
    name: str,
    pretrained: bool,
    in_chans: int,
    arch: str | None,
    trust_pickle: bool,
    card: dict | None,
    trust_remote_code: bool,
) -> Backbone:
    if name.startswith(CONCAT):
        from medtransfer.backbones.concat_backbone import concat_backbone

        def member(m: str, p: bool, c: int) -> Backbone:
            return _resolve(m, p, c, None, trust_pickle, None, trust_remote_code)

        return concat_backbone(name, member, pretrained, in_chans)
    if card and card.get("hf_config") and not pretrained:
        from medtransfer.backbones.token_encoder import rebuild_from_card

        return rebuild_from_card(card)
    if name.startswith("hf:"):
        from medtransfer.backbones.molecule_backbones import hub_encoder

        return hub_encoder(name.removeprefix("hf:"), pretrained, trust_remote_code=trust_remote_code)
    if Path(name).expanduser().is_dir():
        from medtransfer.backbones.zoo import load_backbone_folder

        return load_backbone_folder(Path(name).expanduser(), pretrained)
    if name.startswith("timm:"):
        from medtransfer.backbones.image_backbones import timm_hub_backbone

        return timm_hub_backbone(name.removeprefix("timm:"), pretrained=pretrained, in_chans=in_chans)
    if name.startswith("file:"):
        from medtransfer.backbones.image_backbones import file_backbone

        if not arch:
            raise BackboneError(
                f"{name} needs the timm architecture its weights belong to: add --arch NAME (e.g. resnet18)."
            )
        return file_backbone(Path(name.removeprefix("file:")), arch, pretrained, in_chans, trust_pickle)
    return BACKBONES.get(name)(pretrained=pretrained, in_chans=in_chans)


SCHEMES = ("hf:", "timm:", "file:")
CONCAT = "concat:"  # several backbones read as one (backbones/concat_backbone.py)


def check_backbone_name(name: str) -> None:
    """Fail fast (before any data is read) on a registry name that does not exist, with close matches."""
    if name.startswith(CONCAT):
        from medtransfer.backbones.concat_backbone import member_names

        for member in member_names(name):
            check_backbone_name(member)
        return
    if name.startswith(SCHEMES) or Path(name).expanduser().is_dir():
        return
    _load_plugins()
    if name not in BACKBONES:
        raise BackboneError(
            BACKBONES.unknown_message(name) + " Or use hf:<repo or folder>, timm:<arch>, file:<path> --arch <arch>, "
            "concat:<name>+<name> (image sources read as one), or a folder written by medtransfer pretrain."
        )


def list_backbones() -> list[dict]:
    """Registered backbones with their modality, weight source and licence (for ``medtransfer backbones``)."""
    _load_plugins()
    return [{"name": n, **BACKBONES.meta(n)} for n in BACKBONES]


def offline_hint(arch: str) -> str:
    """What to do instead of downloading ``arch``'s weights: the sentence every offline error ends with."""
    _load_plugins()
    packaged = ", ".join(n for n in BACKBONES if BACKBONES.meta(n).get("offline"))
    return (
        f"Offline, use a packaged backbone ({packaged}), a local file (--backbone file:PATH --arch {arch}), "
        "cached weights (set HF_HUB_OFFLINE=1), or train from scratch with --no-pretrained."
    )
