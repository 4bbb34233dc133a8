"""RDKit at the boundary: parse and canonicalise SMILES, strip salts, Bemis–Murcko scaffolds, InChIKeys.

RDKit prints its parse errors to its own log instead of raising; ``parse_smiles`` captures that text so a
user sees the reason ("Explicit valence for atom # 1 N, 4, is greater than permitted") beside the row.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from medtransfer.errors import DataError

MAX_SMILES_LENGTH = 2000  # characters; longer strings are refused (RDKit is quadratic on some of them)


class _RDKitMessages(logging.Handler):
    """Collects what RDKit logs while one molecule is parsed."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = re.sub(r"^\[[\d:]+\]\s*", "", record.getMessage())
        self.messages.append(text.removeprefix("SMILES Parse Error: ").strip().rstrip(":"))


_captured = _RDKitMessages()


def _rdkit():
    try:
        from rdkit import Chem, rdBase
    except ImportError as exc:
        raise DataError("molecules need RDKit: pip install 'medtransfer[molecules]'.") from exc
    rdkit_log = logging.getLogger("rdkit")
    if _captured not in rdkit_log.handlers:
        rdBase.LogToPythonLogger()
        rdkit_log.handlers, rdkit_log.propagate = [_captured], False
    return Chem


@dataclass(frozen=True)
class ParsedMolecule:
    canonical: str | None  # canonical isomeric SMILES; None when invalid
    reason: str = ""  # why RDKit refused it
    stripped: bool = False  # a salt / solvent fragment was removed


def parse_smiles(smiles: str, strip_salts: bool = False) -> ParsedMolecule:
    """Sanitize and canonicalise one SMILES; an invalid one carries RDKit's reason instead."""
    text = smiles.strip()
    if not text:
        return ParsedMolecule(None, "empty SMILES")
    if len(text) > MAX_SMILES_LENGTH:
        return ParsedMolecule(None, f"SMILES of {len(text)} characters (limit {MAX_SMILES_LENGTH})")
    Chem = _rdkit()
    _captured.messages.clear()
    mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        said = [m for m in _captured.messages if m and not m.startswith("Failed parsing")][:2]
        return ParsedMolecule(None, "; ".join(said) or "not parseable as SMILES")
    try:
        Chem.SanitizeMol(mol)
    except Exception as exc:  # RDKit raises several unrelated types (AtomValenceException, KekulizeException, ...)
        return ParsedMolecule(None, str(exc).strip().splitlines()[0] or type(exc).__name__)
    stripped = False
    if strip_salts and "." in text:
        mol, stripped = _largest_fragment(mol), True
    return ParsedMolecule(Chem.MolToSmiles(mol), stripped=stripped)


def _largest_fragment(mol):
    from rdkit.Chem.MolStandardize import rdMolStandardize

    return rdMolStandardize.LargestFragmentChooser(preferOrganic=True).choose(mol)


def molecule_from_block(block: str):
    """An RDKit Mol from an SDF record's text, or None; used by the SDF reader."""
    Chem = _rdkit()
    return Chem.MolFromMolBlock(block, sanitize=True)


def to_smiles(mol) -> str:
    return _rdkit().MolToSmiles(mol)


@lru_cache(maxsize=200_000)
def scaffold_of(canonical: str) -> str:
    """Bemis–Murcko scaffold SMILES; acyclic molecules share the empty scaffold ''."""
    from rdkit.Chem.Scaffolds import MurckoScaffold

    mol = _rdkit().MolFromSmiles(canonical)
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)


def inchikey_of(canonical: str) -> str:
    """InChIKey: the identity key for duplicates (canonical SMILES can differ for tautomers)."""
    Chem = _rdkit()
    key = Chem.MolToInchiKey(Chem.MolFromSmiles(canonical))
    return key or canonical


def morgan_fingerprints(smiles: list[str], radius: int = 2, n_bits: int = 2048):
    """(n, n_bits) uint8 Morgan / ECFP4 bit vectors: the classical cheminformatics baseline features."""
    import numpy as np
    from rdkit.Chem import rdFingerprintGenerator

    Chem = _rdkit()
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    out = np.zeros((len(smiles), n_bits), dtype=np.uint8)
    for i, s in enumerate(smiles):
        out[i] = generator.GetFingerprintAsNumPy(Chem.MolFromSmiles(s))
    return out
