"""``file:<path>``: a local state dict or safetensors file loaded into a timm architecture, with a report."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from medtransfer.errors import BackboneError

log = logging.getLogger("medtransfer")
_PREFIXES = ("module.", "model.", "backbone.", "encoder.")


@dataclass
class LoadReport:
    """Which keys of a weights file went where: printed for every file-backed backbone."""

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    reshaped: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        def few(keys: list[str]) -> str:
            return ", ".join(keys[:5]) + (f", … (+{len(keys) - 5})" if len(keys) > 5 else "")

        lines = [f"loaded {len(self.loaded)} tensors"]
        for label, keys in (
            ("missing (random init)", self.missing),
            ("unexpected (ignored)", self.unexpected),
            ("reshaped", self.reshaped),
            ("shape mismatch (random init)", self.skipped),
        ):
            if keys:
                lines.append(f"{label} {len(keys)}: {few(keys)}")
        return "; ".join(lines)


def read_state_dict(path: Path, trust_pickle: bool = False) -> dict[str, torch.Tensor]:
    """Read safetensors, or a torch checkpoint with ``weights_only=True`` (no arbitrary code)."""
    if not path.is_file():
        raise BackboneError(f"weights file {path} not found. Pass an existing .safetensors / .pt / .pth file.")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    try:
        obj = torch.load(path, map_location="cpu", weights_only=not trust_pickle)
    except Exception as exc:  # torch raises UnpicklingError and friends for unsafe or broken files
        raise BackboneError(
            f"{path} could not be read as plain tensors ({type(exc).__name__}). Convert it to safetensors, "
            "or, only if you trust its source, allow pickled objects with --trust-checkpoint."
        ) from exc
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise BackboneError(f"{path} does not hold a state dict (name → tensor).")
    return obj


def load_into(model: nn.Module, state: dict[str, torch.Tensor], first_conv: str) -> LoadReport:
    """Copy matching tensors into ``model``; adapt the first conv's channels; report everything else."""
    from timm.models import adapt_input_conv

    state = _strip_prefixes(state, model.state_dict().keys())
    target = model.state_dict()
    report, accepted = LoadReport(), {}
    for key, tensor in state.items():
        if key not in target:
            report.unexpected.append(key)
        elif tensor.shape == target[key].shape:
            accepted[key] = tensor
            report.loaded.append(key)
        elif key == f"{first_conv}.weight" and tensor.ndim == 4:
            accepted[key] = adapt_input_conv(target[key].shape[1], tensor.float())
            report.reshaped.append(f"{key} {tuple(tensor.shape)}→{tuple(target[key].shape)}")
        else:
            report.skipped.append(f"{key} {tuple(tensor.shape)}≠{tuple(target[key].shape)}")
    report.missing = [k for k in target if k not in accepted and not k.endswith("num_batches_tracked")]
    model.load_state_dict(accepted, strict=False)
    return report


def _strip_prefixes(state: dict[str, torch.Tensor], wanted: object) -> dict[str, torch.Tensor]:
    wanted = set(wanted)
    for prefix in _PREFIXES:
        if not any(k in wanted for k in state) and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix) :]: v for k, v in state.items()}
    return state
