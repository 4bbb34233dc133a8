"""Molecule explanations per atom: token attributions summed onto the atoms they spell, drawn with RDKit.

Atoms of a SMILES appear in RDKit's atom order, so the k-th atom symbol in the string is atom k. A token
that spells (part of) an atom gives it its attribution; bond, ring and branch tokens belong to no atom,
and their share of the total is reported rather than spread.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from medtransfer.data.tokens import TokenEncoder
from medtransfer.errors import ExplainError
from medtransfer.explanations.display import DISPLAYS

_ATOM = re.compile(r"\[[^\]]+\]|Br|Cl|B|C|N|O|P|S|F|I|b|c|n|o|s|p|\*")


def atom_spans(smiles: str) -> list[tuple[int, int]]:
    """Character span of every atom in ``smiles``, in RDKit's atom order."""
    return [m.span() for m in _ATOM.finditer(smiles)]


def token_spans(tokens: list[str], text: str) -> list[tuple[int, int] | None]:
    """Where each token sits in ``text`` (None for tokens a hub tokenizer rewrote beyond recognition)."""
    spans, cursor = [], 0
    for tok in tokens:
        at = text.find(tok.lstrip("Ġ▁#"), cursor)
        if at < 0 or not tok.strip("Ġ▁#"):
            spans.append(None)
            continue
        cursor = at + len(tok.lstrip("Ġ▁#"))
        spans.append((at, cursor))
    return spans


def atom_weights(smiles: str, token_attribution: np.ndarray, tokenizer: dict) -> np.ndarray:
    """Per-atom attribution from per-token attribution (position 0 is [CLS], as the model saw it)."""
    enc = TokenEncoder(tokenizer)
    tokens = enc.split(smiles)[: enc.max_length - 2]
    atoms = atom_spans(smiles)
    weights = np.zeros(len(atoms))
    for pos, span in enumerate(token_spans(tokens, smiles), start=1):
        if span is None or pos >= len(token_attribution):
            continue
        hit = [k for k, (a, b) in enumerate(atoms) if a < span[1] and span[0] < b]
        for k in hit:
            weights[k] += token_attribution[pos] / len(hit)
    return weights


def _mol(smiles: str):
    from rdkit import Chem

    params = Chem.SmilesParserParams()
    params.removeHs = False  # keep every atom the string spells, so atom k is the k-th atom symbol
    mol = Chem.MolFromSmiles(smiles, params)
    if mol is None:
        raise ExplainError(f"RDKit cannot draw {smiles!r}.")
    return mol


class MoleculeDisplay:
    unit = "atom"

    def display(self, raw: str, attribution: np.ndarray, pre: dict) -> np.ndarray:
        weights = atom_weights(raw, attribution, pre["tokenizer"])
        atoms = _mol(raw).GetNumAtoms()
        if atoms != len(weights):
            raise ExplainError(f"{raw!r}: {len(weights)} atom symbols but RDKit reads {atoms} atoms.")
        return weights

    def render(self, raw: str, values: np.ndarray, path: Path) -> None:
        """Atoms coloured red (towards the target) or blue (against), by |attribution| relative to the max."""
        from rdkit.Chem.Draw import rdMolDraw2D

        mol = _mol(raw)
        scale = float(np.abs(values).max()) or 1.0
        colours, radii = {}, {}
        for k, v in enumerate(values):
            s = min(1.0, abs(float(v)) / scale)
            colours[k] = (1.0, 1.0 - s, 1.0 - s) if v >= 0 else (1.0 - s, 1.0 - s, 1.0)
            radii[k] = 0.3 + 0.25 * s
        drawer = rdMolDraw2D.MolDraw2DCairo(420, 320)
        rdMolDraw2D.PrepareAndDrawMolecule(
            drawer, mol, highlightAtoms=list(colours), highlightAtomColors=colours, highlightAtomRadii=radii
        )
        drawer.FinishDrawing()
        path.write_bytes(drawer.GetDrawingText())


DISPLAYS.register("molecule")(MoleculeDisplay())
