"""``model/``: safetensors weights plus model.json, enough to rebuild the architecture with no config."""

from __future__ import annotations

import json
from pathlib import Path

from medtransfer.adapt.head import HeadSpec
from medtransfer.adapt.model import TransferModel
from medtransfer.backbones.base import BackboneCard
from medtransfer.backbones.registry import create_backbone
from medtransfer.data.task import TaskSpec
from medtransfer.errors import RunError

WEIGHTS, META = "weights.safetensors", "model.json"
TOKENIZER = "tokenizer"  # a hub tokenizer saved beside the weights, so predict never goes back to the hub


def save_model(model: TransferModel, folder: Path, backbone: dict, task: TaskSpec, preprocessing: dict) -> None:
    """Write weights and the description that ``load_model`` rebuilds them from."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / WEIGHTS))
    preprocessing = _save_hub_tokenizer(preprocessing, folder)
    meta = {
        "format": 1,
        "backbone": backbone,
        "backbone_card": model.backbone.card.to_dict(),
        "head": model.head_spec.to_dict(),
        "task": task.to_dict(),
        "preprocessing": preprocessing,
    }
    (folder / META).write_text(json.dumps(meta, indent=2))


def load_model(folder: Path) -> tuple[TransferModel, dict]:
    """Rebuild the architecture from model.json (random init, no download) and load the saved weights."""
    from safetensors.torch import load_file

    if not (folder / META).is_file() or not (folder / WEIGHTS).is_file():
        raise RunError(f"{folder} has no saved model ({META} + {WEIGHTS}). Is it a finished run directory?")
    meta = json.loads((folder / META).read_text())
    tokenizer = meta["preprocessing"].get("tokenizer", {})
    if tokenizer.get("hf_tokenizer_saved"):
        tokenizer["hf_tokenizer"] = str((folder / tokenizer["hf_tokenizer_saved"]).resolve())
    spec = meta["backbone"]
    backbone = create_backbone(
        spec["name"],
        pretrained=False,
        in_chans=spec.get("in_chans", 3),
        arch=spec.get("arch"),
        card=meta["backbone_card"],
    )
    backbone.card = BackboneCard.from_dict(meta["backbone_card"])
    task = TaskSpec.from_dict(meta["task"])
    model = TransferModel(backbone, HeadSpec(**meta["head"]), task.num_outputs)
    model.load_state_dict(load_file(str(folder / WEIGHTS)))
    model.test_time_flip = meta["preprocessing"].get("tta") == "flip"
    model.eval()
    return model, meta


def _save_hub_tokenizer(preprocessing: dict, folder: Path) -> dict:
    """Save a hub (``hf:``) tokenizer into ``folder/tokenizer`` and point the preprocessing at it."""
    tokenizer = preprocessing.get("tokenizer") or {}
    if "hf_tokenizer" not in tokenizer or tokenizer.get("hf_tokenizer_saved"):
        return preprocessing
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(tokenizer["hf_tokenizer"]).save_pretrained(str(folder / TOKENIZER))
    return {**preprocessing, "tokenizer": {**tokenizer, "hf_tokenizer_saved": TOKENIZER}}
