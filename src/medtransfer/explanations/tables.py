"""Table explanations: one value per column (the attributions of the tokens of its 'column: value' text summed),
drawn as a bar per column."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medtransfer.data.tables.rows import ASSIGN, SEPARATOR, serialize
from medtransfer.explanations.display import DISPLAYS
from medtransfer.explanations.text import word_values


def column_values(row: dict, attribution: np.ndarray, pre: dict) -> np.ndarray:
    """Per column of the model (``pre['columns']``): the summed attribution of its words in the serialized row;
    0 for a missing cell (left out of the text)."""
    present = [c for c in pre["columns"] if row.get(c) is not None]
    text = serialize({c: row[c] for c in present})
    per_word = word_values(text, attribution, pre["tokenizer"])
    owner = []  # the column each whitespace-separated word of the text belongs to
    for c in present:
        owner += [c] * len(f"{c}{ASSIGN}{row[c]}{SEPARATOR}".split())
    totals = dict.fromkeys(pre["columns"], 0.0)
    for column, value in zip(owner, per_word, strict=False):
        totals[column] += float(value)
    return np.array(list(totals.values()))


class TableDisplay:
    unit = "column"

    def __init__(self) -> None:
        self.columns: list[str] = []

    def display(self, raw: dict, attribution: np.ndarray, pre: dict) -> np.ndarray:
        self.columns = list(pre["columns"])
        return column_values(raw, attribution, pre)

    def render(self, raw: dict, values: np.ndarray, path: Path) -> None:
        """The columns as horizontal bars, strongest first: red pushes towards the target, blue against."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        names = self.columns if len(self.columns) == len(values) else [f"column {i}" for i in range(len(values))]
        order = np.argsort(-np.abs(values))[:20][::-1]
        fig, ax = plt.subplots(figsize=(6, 0.28 * len(order) + 0.8), dpi=100)
        ax.barh(np.arange(len(order)), values[order], color=np.where(values[order] >= 0, "#c0392b", "#2e6db4"))
        ax.set_yticks(np.arange(len(order)), [f"{names[i]} = {raw.get(names[i])}" for i in order], fontsize=7)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_xlabel("attribution")
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)


DISPLAYS.register("table")(TableDisplay())
