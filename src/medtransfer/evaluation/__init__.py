"""Evaluation: metrics per task, computed from model outputs on a split."""

from medtransfer.evaluation.metrics import compute_metrics, probabilities

__all__ = ["compute_metrics", "probabilities"]
