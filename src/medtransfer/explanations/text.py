"""Text explanations: one value per word (its WordPiece tokens' attributions summed), drawn as highlighted text."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np

from medtransfer.data.tokens import TokenEncoder
from medtransfer.explanations.display import DISPLAYS
from medtransfer.explanations.molecules import token_spans

_WORD = re.compile(r"\S+")
LINE_CHARS = 96


def word_values(text: str, token_attribution: np.ndarray, tokenizer: dict) -> np.ndarray:
    """Per whitespace-separated word of ``text``: the sum of the attributions of the tokens inside it. Tokens
    past the model's length (truncated) and [UNK] tokens count for nothing."""
    enc = TokenEncoder(tokenizer)
    tokens = enc.split(text)
    positions = enc.token_positions(len(tokens))
    spans = token_spans(tokens[: len(positions)], text.lower() if tokenizer.get("lowercase") else text)
    words = [m.span() for m in _WORD.finditer(text)]
    starts = np.array([a for a, _ in words])
    values = np.zeros(len(words))
    for pos, span in zip(positions, spans, strict=True):
        if span is not None and pos < len(token_attribution) and len(words):
            values[max(0, int(np.searchsorted(starts, span[0], side="right")) - 1)] += token_attribution[pos]
    return values


class TextDisplay:
    unit = "word"

    def display(self, raw: str, attribution: np.ndarray, pre: dict) -> np.ndarray:
        return word_values(raw, attribution, pre["tokenizer"])

    def render(self, raw: str, values: np.ndarray, path: Path) -> None:
        """The text, wrapped, each word on a background as red as it pushes towards the target (blue: against)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        words = raw.split()
        lines = textwrap.wrap(" ".join(words), LINE_CHARS, break_long_words=False) or [""]
        scale = float(np.abs(values).max()) or 1.0
        fig = plt.figure(figsize=(LINE_CHARS * 0.075, 0.25 * len(lines) + 0.3), dpi=100)
        k = 0
        for row, line in enumerate(lines):
            column = 0
            for word in line.split():
                v = values[k] / scale if k < len(values) else 0.0
                colour = (1.0, 1 - max(v, 0), 1 - max(v, 0)) if v >= 0 else (1 + v, 1 + v, 1.0)
                fig.text(0.01 + column / (LINE_CHARS + 2), 1 - (row + 1) / (len(lines) + 0.5), word,
                         fontfamily="monospace", fontsize=8, va="bottom",
                         bbox={"facecolor": colour, "edgecolor": "none", "pad": 0.6})  # fmt: skip
                column += len(word) + 1
                k += 1
        fig.savefig(path)
        plt.close(fig)


DISPLAYS.register("text")(TextDisplay())
