"""Backbone folders made by ``medtransfer pretrain``: card.json + encoder.safetensors + MODEL_CARD.md.

A folder is usable as ``--backbone PATH``; the project's own default models live in the package's
``zoo/`` folder and are registered by name with the modality that uses them.
"""

from __future__ import annotations

import json
from pathlib import Path

from medtransfer.backbones.base import BackboneCard
from medtransfer.backbones.token_encoder import TokenEncoderBackbone, config_dict, encoder_from_config
from medtransfer.data.hashing import file_digest
from medtransfer.errors import BackboneError

CARD, WEIGHTS = "card.json", "encoder.safetensors"
PACKAGED_ZOO = Path(__file__).resolve().parent.parent / "zoo"


def is_backbone_folder(path: Path) -> bool:
    return path.is_dir() and (path / CARD).is_file()


def save_backbone_folder(encoder, card: BackboneCard, folder: Path) -> None:
    """Write an encoder and its card; the card records the config, tokenizer and weights hash."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in encoder.state_dict().items()}
    save_file(state, str(folder / WEIGHTS))
    card.hf_config = config_dict(encoder)
    card.weights_sha256 = file_digest(folder / WEIGHTS)
    (folder / CARD).write_text(json.dumps(card.to_dict(), indent=2))


def load_backbone_folder(folder: Path, pretrained: bool = True) -> TokenEncoderBackbone:
    """The encoder in ``folder``; ``pretrained=False`` gives the same architecture with random weights."""
    from safetensors.torch import load_file

    if not is_backbone_folder(folder):
        raise BackboneError(f"{folder} is not a backbone folder (no {CARD}). Make one with medtransfer pretrain.")
    card = BackboneCard.from_dict(json.loads((folder / CARD).read_text()))
    encoder = encoder_from_config(card.hf_config)
    if pretrained:
        missing, unexpected = encoder.load_state_dict(load_file(str(folder / WEIGHTS)), strict=False)
        if missing or unexpected:
            raise BackboneError(
                f"{folder / WEIGHTS} does not fit its card: missing {missing[:3]}, extra {unexpected[:3]}"
            )
    else:
        card.pretrained, card.weights_sha256 = False, None
        card.source = f"random init (architecture of {card.name})"
    return TokenEncoderBackbone(encoder, card)
