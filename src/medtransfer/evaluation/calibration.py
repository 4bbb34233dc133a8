"""Calibration: expected calibration error, Brier score, reliability bins, and temperature scaling."""

from __future__ import annotations

import numpy as np

N_BINS = 15


def calibration_summary(y: np.ndarray, probs: np.ndarray, positive: int | None = None) -> dict:
    """ECE and Brier score; binary tasks use the positive class's probability, multiclass the top class's."""
    if positive is not None:
        conf, correct = probs[:, positive], (y == positive).astype(float)
        brier = float(np.mean((conf - correct) ** 2))
    else:
        conf, correct = probs.max(axis=1), (probs.argmax(axis=1) == y).astype(float)
        brier = float(np.mean(((probs - np.eye(probs.shape[1])[y]) ** 2).sum(axis=1)))
    bins = reliability_bins(conf, correct)
    ece = sum(b["count"] * abs(b["mean_confidence"] - b["observed"]) for b in bins) / len(conf)
    return {"ece": float(ece), "brier": brier, "bins": bins}


def reliability_bins(conf: np.ndarray, outcome: np.ndarray, n_bins: int = N_BINS) -> list[dict]:
    """Equal-width confidence bins with their mean confidence and observed frequency (empty bins dropped)."""
    which = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    out = []
    for b in range(n_bins):
        members = which == b
        if members.any():
            out.append(
                {
                    "low": b / n_bins,
                    "high": (b + 1) / n_bins,
                    "count": int(members.sum()),
                    "mean_confidence": float(conf[members].mean()),
                    "observed": float(outcome[members].mean()),
                }
            )
    return out


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature T minimising validation NLL of softmax(logits / T) (Guo et al., 2017)."""
    import torch

    z = torch.as_tensor(logits, dtype=torch.float64)
    t = torch.as_tensor(y, dtype=torch.long)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200)

    def nll():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(z / log_t.exp(), t)
        loss.backward()
        return loss

    opt.step(nll)
    return float(log_t.detach().exp())
