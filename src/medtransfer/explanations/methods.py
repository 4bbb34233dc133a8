"""Attribution methods, all on Captum (explanations/), chosen by what the backbone exposes rather than by modality.

A backbone declares ``explain_kind``: ``feature_map`` (image CNNs: Grad-CAM reads its last spatial map;
Integrated Gradients and occlusion work on the pixels), ``pixels`` (images without one feature map to read, such
as a ``concat:`` composite: the pixel methods only) or ``tokens`` (string models: Integrated Gradients
on the per-token input vectors, occlusion replaces one token at a time by [MASK]). Every method returns
one map per input at the model's input resolution: (H, W) for images, (L,) per token id position.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from medtransfer.adapt.model import TransferModel
from medtransfer.data.tokens import special_id
from medtransfer.errors import ExplainError
from medtransfer.registry import Registry

Method = Callable[[TransferModel, torch.Tensor, torch.Tensor], torch.Tensor]
METHODS: Registry[Method] = Registry("explanation method", ExplainError)
IG_STEPS = 32
# inputs × steps that Integrated Gradients runs through the model at once: all 8 × 32 of a batch at once, with
# their activations kept for the backward pass, took a four-source composite at 128 px past 24 GB
IG_CHUNK = 32


def attribute(model: TransferModel, x: torch.Tensor, targets: torch.Tensor, method: str) -> torch.Tensor:
    """Attributions of ``model``'s output ``targets`` (one index per input) to the inputs ``x``."""
    fn = METHODS.get(method)
    kind = model.backbone.explain_kind
    if kind not in METHODS.meta(method)["kinds"]:
        usable = [m for m in METHODS if kind in METHODS.meta(m)["kinds"]]
        raise ExplainError(
            f"{method} cannot explain backbone {model.backbone.card.name} ({kind or 'no explanation layer'}). "
            + (f"Use --method {' or '.join(usable)}." if usable else "No method supports it yet.")
        )
    model.eval()
    with torch.enable_grad():
        return fn(model, x, targets).detach()


def methods_for(kind: str) -> list[str]:
    """The methods that can explain a backbone of this ``explain_kind``, default first."""
    return sorted((m for m in METHODS if kind in METHODS.meta(m)["kinds"]), key=lambda m: METHODS.meta(m)["rank"])


@METHODS.register("grad_cam", kinds=("feature_map",), rank=0, description="Grad-CAM on the last feature map")
def grad_cam(model: TransferModel, x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    captum = _captum()
    cam = captum.LayerGradCam(model, model.backbone.explain_layer()).attribute(
        x, target=targets, relu_attributions=True
    )
    if cam.dim() != 4:
        raise ExplainError(
            f"grad_cam needs a spatial feature map but {model.backbone.card.name} gives tokens "
            "(a vision transformer?): use --method integrated_gradients or occlusion."
        )
    return captum.LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), "bilinear")[:, 0]


@METHODS.register(
    "integrated_gradients",
    kinds=("tokens", "feature_map", "pixels"),
    rank=1,
    description="Integrated Gradients (32 steps)",
)
def integrated_gradients(model: TransferModel, x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    captum = _captum()
    if model.backbone.explain_kind == "tokens":  # signed: positive tokens push towards the target
        window = getattr(model.backbone, "window", None)
        if window and x.shape[1] > window:  # the embedding layer sees windows, not whole inputs
            raise ExplainError(
                "integrated_gradients cannot follow inputs read in windows (--long-inputs window): use --method "
                "occlusion, which masks each token of the whole input in turn."
            )
        ig = captum.LayerIntegratedGradients(model, model.backbone.explain_layer())
        attr = ig.attribute(
            x, baselines=token_baseline(model, x), target=targets, n_steps=IG_STEPS, internal_batch_size=IG_CHUNK
        )
        return attr.sum(-1)
    # images: the magnitude per pixel against a black (all-mean after normalisation) image
    attr = captum.IntegratedGradients(model).attribute(
        x, baselines=torch.zeros_like(x), target=targets, n_steps=IG_STEPS, internal_batch_size=IG_CHUNK
    )
    return attr.abs().sum(1)


@METHODS.register(
    "occlusion", kinds=("feature_map", "pixels", "tokens"), rank=2, description="occlusion (output drop)"
)
def occlusion(model: TransferModel, x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    captum = _captum()
    if model.backbone.explain_kind == "tokens":  # each token replaced by [MASK] in turn
        baseline = token_baseline(model, x)
        return (
            captum.FeatureAblation(model)
            .attribute(x, baselines=baseline, target=targets, perturbations_per_eval=16)
            .float()
        )
    channels, size = x.shape[1], max(2, x.shape[-1] // 8)  # 8×8 windows over the image, half overlapping
    attr = captum.Occlusion(model).attribute(
        x,
        sliding_window_shapes=(channels, size, size),
        strides=(channels, size // 2, size // 2),
        baselines=0.0,
        target=targets,
        perturbations_per_eval=16,
    )
    return attr.sum(1)


def _captum():
    try:
        import captum.attr
    except ImportError as exc:
        raise ExplainError("explanations need Captum: pip install 'medtransfer[explain]'.") from exc
    return captum.attr


def token_baseline(model: TransferModel, ids: torch.Tensor) -> torch.Tensor:
    """The input with every ordinary token replaced by [MASK] ([CLS], [SEP] and padding kept)."""
    spec = model.backbone.card.tokenizer  # ids only: a hub tokenizer is not loaded again per batch
    keep = torch.zeros_like(ids, dtype=torch.bool)
    for name in ("[PAD]", "[CLS]", "[SEP]"):
        keep |= ids == special_id(spec, name)
    return torch.where(keep, ids, torch.full_like(ids, special_id(spec, "[MASK]")))
