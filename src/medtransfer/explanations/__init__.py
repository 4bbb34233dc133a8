"""Explanations for every modality on Captum: Grad-CAM, Integrated Gradients and occlusion, a sanity
check, per-modality pictures (heatmaps over images, per-atom colours on molecules) and the report gallery."""

from medtransfer.explanations.attribute_inputs import Explanation
from medtransfer.explanations.explain_run import ExplainResult, explain

__all__ = ["ExplainResult", "Explanation", "explain"]
