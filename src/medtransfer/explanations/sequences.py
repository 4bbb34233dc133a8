"""Sequence explanations: one value per nucleotide or residue, drawn as a bar track under the sequence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medtransfer.data.tokens import TokenEncoder
from medtransfer.explanations.display import DISPLAYS
from medtransfer.explanations.molecules import token_spans


def symbol_values(sequence: str, token_attribution: np.ndarray, tokenizer: dict) -> np.ndarray:
    """Per-symbol attribution: each token's value spread evenly over the symbols it covers; overlapping k-mers
    share every symbol they contain. Symbols past the model's length (truncated, not windowed) get 0."""
    enc = TokenEncoder(tokenizer)
    tokens = enc.split(sequence)
    positions = enc.token_positions(len(tokens))
    tokens = tokens[: len(positions)]
    splitter = tokenizer.get("splitter", "")
    if splitter.startswith("kmer"):
        k = int(splitter.removeprefix("kmer"))
        spans = [(i, i + k) for i in range(len(tokens))]
    else:
        spans = token_spans(tokens, sequence)
    values = np.zeros(len(sequence))
    for pos, span in zip(positions, spans, strict=True):
        if span is not None and pos < len(token_attribution):
            values[span[0] : span[1]] += token_attribution[pos] / (span[1] - span[0])
    return values


class SequenceDisplay:
    def __init__(self, unit: str) -> None:
        self.unit = unit

    def display(self, raw: str, attribution: np.ndarray, pre: dict) -> np.ndarray:
        return symbol_values(raw, attribution, pre["tokenizer"])

    def render(self, raw: str, values: np.ndarray, path: Path) -> None:
        """Bars above the axis push towards the target (red), below against it (blue); letters underneath."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        n = len(values)
        fig, ax = plt.subplots(figsize=(min(24, max(6, n * 0.12)), 2.2), dpi=100)
        ax.bar(np.arange(n), values, width=0.9, color=np.where(values >= 0, "#c0392b", "#2e6db4"))
        ax.axhline(0, color="black", linewidth=0.6)
        if n <= 150:
            ax.set_xticks(np.arange(n), list(raw), fontsize=7, fontfamily="monospace")
        else:
            ax.set_xticks(np.arange(0, n, 10))
        ax.set_xlim(-0.5, n - 0.5)
        ax.set_ylabel("attribution")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)


DISPLAYS.register("dna")(SequenceDisplay("nucleotide"))
DISPLAYS.register("protein")(SequenceDisplay("residue"))
