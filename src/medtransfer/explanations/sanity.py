"""The model-randomisation sanity check of Adebayo et al. (2018), "Sanity Checks for Saliency Maps".

An explanation that barely changes when every weight of the model is re-initialised describes the input,
not the model. We compare attribution magnitudes of the trained model and of a randomised copy on the
same inputs and targets by Spearman rank correlation; a method passes when the mean is below 0.5. A constant
map of the trained model ranks nothing: such inputs are left out, and when every one is constant the check is
undetermined (not passed).
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from medtransfer.adapt.model import TransferModel
from medtransfer.explanations.methods import attribute

THRESHOLD = 0.5


def randomised_copy(model: TransferModel, seed: int = 0) -> TransferModel:
    """The same architecture with every layer re-initialised (backbone and head)."""
    from medtransfer.run.seeding import seeded_torch

    clone = copy.deepcopy(model)
    with seeded_torch(seed):
        for module in clone.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return clone.eval()


def sanity_check(
    model: TransferModel,
    x: torch.Tensor,
    targets: torch.Tensor,
    method: str,
    lengths: list[int] | None = None,
    trained: list[np.ndarray] | None = None,
) -> dict:
    """Mean rank correlation of |attribution| between ``model`` and its randomised copy; passed if < 0.5.

    ``lengths`` trims token maps to each input's own tokens (padding would add tied zeros to both);
    ``trained`` are the trained model's maps of ``x`` when already computed (they are not recomputed).
    """
    from scipy.stats import spearmanr

    if trained is None:
        trained = list(attribute(model, x, targets, method).numpy())
    rand = attribute(randomised_copy(model), x, targets, method).abs().flatten(1).numpy()
    rhos = []
    for i, (a, b) in enumerate(zip(trained, rand, strict=True)):
        width = lengths[i] if lengths else b.size
        a, b = np.abs(a).ravel()[:width], b[:width]
        moved = (a != 0) | (b != 0)  # positions zero in both (e.g. [CLS], [SEP]) would only add ties
        a, b = a[moved], b[moved]
        # the trained model's map constant (e.g. Grad-CAM all zero after its ReLU): it ranks nothing, so the
        # input cannot be judged; the randomised model's map constant: it shares no ranking with it (rho 0)
        if len(a) <= 2 or np.ptp(a) == 0:
            rhos.append(None)
        else:
            rhos.append(float(spearmanr(a, b).statistic) if np.ptp(b) > 0 else 0.0)
    judged = [r for r in rhos if r is not None]
    mean = float(np.mean(judged)) if judged else None
    passed = None if mean is None else mean < THRESHOLD
    return {
        "method": method,
        "test": "model randomisation (Adebayo et al. 2018)",
        "inputs": len(rhos),
        "undetermined_inputs": len(rhos) - len(judged),
        "rank_correlation": mean,
        "threshold": THRESHOLD,
        "passed": passed,
        "verdict": _verdict(passed, len(rhos) - len(judged)),
    }


def _verdict(passed: bool | None, constant: int) -> str:
    if passed is None:
        return (
            "UNDETERMINED: every map is constant (nothing to rank), so the check cannot tell whether it depends "
            "on the weights; try another method"
        )
    words = "passed" if passed else "FAILED: the map barely depends on the weights; do not trust it"
    return words + (f" ({constant} constant maps left out)" if constant else "")
