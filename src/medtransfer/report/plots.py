"""Report figures (matplotlib, Agg) returned as base64 PNG strings for embedding."""

from __future__ import annotations

import base64
import io

import numpy as np


def _figure(width: float = 4.2, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    return fig, ax


def _encode(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _observed(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cases whose label is known (multi-label cells may be missing: NaN)."""
    known = ~np.isnan(y.astype(float))
    return y[known].astype(int), p[known]


def roc_plot(y_onehot: np.ndarray, probs: np.ndarray, names: list[str]) -> str:
    """ROC curve per class (one-vs-rest), with AUROC in the legend."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fig, ax = _figure()
    for j, name in enumerate(names):
        y, p = _observed(y_onehot[:, j], probs[:, j])
        if len(np.unique(y)) < 2:
            continue
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=f"{name} (AUROC {roc_auc_score(y, p):.3f})")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set(xlabel="1 − specificity (FPR)", ylabel="sensitivity (TPR)", title="ROC, test split")
    ax.legend(fontsize=7, loc="lower right")
    return _encode(fig)


def pr_plot(y_onehot: np.ndarray, probs: np.ndarray, names: list[str]) -> str:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig, ax = _figure()
    for j, name in enumerate(names):
        y, p = _observed(y_onehot[:, j], probs[:, j])
        if len(np.unique(y)) < 2:
            continue
        prec, rec, _ = precision_recall_curve(y, p)
        ax.plot(rec, prec, label=f"{name} (AP {average_precision_score(y, p):.3f})")
    ax.set(xlabel="recall", ylabel="precision", title="Precision–recall, test split", ylim=(0, 1.02))
    ax.legend(fontsize=7, loc="lower left")
    return _encode(fig)


def confusion_plot(cm: np.ndarray, names: list[str]) -> str:
    fig, ax = _figure(3.8 + 0.25 * len(names), 3.4 + 0.25 * len(names))
    ax.imshow(cm, cmap="Blues")
    ticks = np.arange(len(names))
    ax.set_xticks(ticks, names, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(ticks, names, fontsize=7)
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center", color="white" if v > cm.max() / 2 else "black")
    ax.set(xlabel="predicted", ylabel="true", title="Confusion matrix, test split")
    return _encode(fig)


def curves_plot(rows: list[dict]) -> str:
    """Training and validation loss per epoch (and validation AUROC when logged)."""
    fig, ax = _figure(5.0, 3.4)
    for key in ("train_loss", "val_loss"):  # validation may run every few epochs (--min-steps): plot where logged
        logged = [r for r in rows if key in r]
        ax.plot([r["epoch"] for r in logged], [r[key] for r in logged], marker="o", ms=3, label=key)
    ax.set(xlabel="epoch", ylabel="loss", title="Training curves")
    if any("val_auroc" in r for r in rows):
        ax2 = ax.twinx()
        scored = [r for r in rows if "val_auroc" in r]
        ax2.plot(
            [r["epoch"] for r in scored],
            [r["val_auroc"] for r in scored],
            color="tab:green",
            marker="s",
            ms=3,
            label="val_auroc",
        )
        ax2.set_ylabel("val AUROC")
        ax2.legend(fontsize=7, loc="center right")
    ax.legend(fontsize=7, loc="upper right")
    return _encode(fig)


def parity_plot(y: np.ndarray, pred: np.ndarray) -> str:
    fig, ax = _figure()
    ax.scatter(y, pred, s=10, alpha=0.6)
    lo, hi = float(min(y.min(), pred.min())), float(max(y.max(), pred.max()))
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    ax.set(xlabel="true", ylabel="predicted", title="Parity, test split")
    return _encode(fig)


def reliability_plot(bins: list[dict], ece: float) -> str:
    """Observed frequency against mean confidence per bin; the diagonal is perfect calibration."""
    fig, ax = _figure()
    conf = [b["mean_confidence"] for b in bins]
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.plot(conf, [b["observed"] for b in bins], marker="o", label=f"model (ECE {ece:.3f})")
    ax.bar(
        [(b["low"] + b["high"]) / 2 for b in bins],
        [b["count"] / max(1, sum(x["count"] for x in bins)) for b in bins],
        width=1 / 15,
        alpha=0.2,
        color="grey",
        label="share of cases",
    )
    ax.set(
        xlabel="predicted probability",
        ylabel="observed frequency",
        title="Reliability, test split",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(fontsize=7, loc="upper left")
    return _encode(fig)


def residual_plot(y: np.ndarray, pred: np.ndarray) -> str:
    """Residuals (prediction − truth) against the prediction: structure here means systematic error."""
    fig, ax = _figure()
    ax.scatter(pred, pred - y, s=10, alpha=0.6)
    ax.axhline(0, color="k", ls="--", lw=0.8)
    ax.set(xlabel="predicted", ylabel="residual (predicted − true)", title="Residuals, test split")
    return _encode(fig)
