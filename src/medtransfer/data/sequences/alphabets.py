"""Sequence alphabets and the policy for symbols outside the strict alphabet.

DNA: A C G T, plus the IUPAC ambiguity codes (N R Y S W K M B D H V). By default (``iupac="n"``) an
ambiguity code becomes N, the one ambiguous symbol every DNA vocabulary has; ``keep`` keeps the code (a
model whose vocabulary lacks it reads [UNK]); ``error`` refuses the record. U (RNA) is read as T.
Protein: the 20 amino acids plus X (unknown), B (D/N), Z (E/Q), U (selenocysteine), O (pyrrolysine);
a trailing stop '*' is removed. Case and whitespace are ignored. Anything else names its record.
"""

from __future__ import annotations

from dataclasses import dataclass

DNA_STRICT = "ACGT"
DNA_AMBIGUOUS = "NRYSWKMBDHV"
PROTEIN_STRICT = "ACDEFGHIKLMNPQRSTVWY"
PROTEIN_EXTRA = "XBZUO"
IUPAC_POLICIES = ("n", "keep", "error")
GAPS = "-."  # alignment gaps: refused with their own message, not as unknown letters
SYMBOLS = {"dna": DNA_STRICT + DNA_AMBIGUOUS, "protein": PROTEIN_STRICT + PROTEIN_EXTRA}  # every accepted symbol


@dataclass
class Checked:
    sequence: str | None  # None when the record is invalid
    reason: str = ""
    ambiguous: int = 0  # ambiguity codes seen (DNA)


def check_sequence(raw: str, kind: str, iupac: str = "n") -> Checked:
    """Normalise one sequence (upper case, no whitespace) and validate it against ``kind``'s alphabet."""
    seq = "".join(raw.split()).upper()
    if kind == "protein" and seq.endswith("*"):
        seq = seq[:-1]
    if not seq:
        return Checked(None, "empty sequence")
    if kind == "dna":
        seq = seq.replace("U", "T")
        allowed = DNA_STRICT + DNA_AMBIGUOUS
    else:
        allowed = PROTEIN_STRICT + PROTEIN_EXTRA
    gaps = sorted({c for c in seq if c in GAPS})
    if gaps:
        at = min(seq.index(c) for c in gaps) + 1
        unit = "DNA sequence" if kind == "dna" else "protein sequence"
        return Checked(None, f"alignment gap {', '.join(repr(c) for c in gaps)} (first at position {at}): each record "
                       f"must be an unaligned {unit}; remove the gap characters from the file")  # fmt: skip
    bad = sorted({c for c in seq if c not in allowed})
    if bad:
        at = min(seq.index(c) for c in bad) + 1
        what = "nucleotide" if kind == "dna" else "amino acid"
        return Checked(None, f"unknown {what} {', '.join(repr(c) for c in bad)} (first at position {at})")
    if kind != "dna":
        return Checked(seq)
    ambiguous = sum(seq.count(c) for c in DNA_AMBIGUOUS[1:])
    if ambiguous and iupac == "error":
        return Checked(None, f"{ambiguous} IUPAC ambiguity code(s); pass --iupac n or keep to accept them")
    if iupac == "n":
        seq = seq.translate(str.maketrans(DNA_AMBIGUOUS[1:], "N" * (len(DNA_AMBIGUOUS) - 1)))
    return Checked(seq, ambiguous=ambiguous)


def guess_kind(sequences: list[str]) -> str:
    """'dna' when at least 90% of the letters are A, C, G, T, U or N; else 'protein'. Case, gaps and other
    non-letters are ignored, so an aligned lower-case DNA file is still DNA."""
    letters = "".join(c for s in sequences[:200] for c in s.upper() if c.isalpha())
    if not letters:
        return "dna"
    nucleotide = sum(letters.count(c) for c in "ACGTUN")
    return "dna" if nucleotide >= 0.9 * len(letters) else "protein"
