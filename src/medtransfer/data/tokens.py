"""Token sequences for every string modality (SMILES, DNA, protein, text): split, look up, pad.

A tokenizer is plain data stored in the backbone card and the saved model, ``{"splitter": name,
"vocab": [...], "max_length": n}``, so a model rebuilds its exact input encoding without the training
code. Splitters are registered by the modality that owns them (``smiles_regex`` by molecules).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache

import numpy as np

from medtransfer.errors import ConfigError
from medtransfer.registry import Registry

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
SPLITTERS: Registry[Callable[[str], list[str]]] = Registry("token splitter", ConfigError)

# Schwaller et al. 2019 (Molecular Transformer): bracket atoms, two-letter halogens, ring closures, bonds
_SMILES_TOKEN = re.compile(
    r"(\[[^\]]+\]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|/|:|~|@|\?|>|\*|\$|%[0-9]{2}|[0-9])"
)

_BRACKET_ELEMENT = re.compile(r"\[\d*([A-Z][a-z]?|se|as|[bcnops])")


@SPLITTERS.register("smiles_regex", description="SMILES atoms, bonds, rings and branches (Schwaller 2019)")
def split_smiles(smiles: str) -> list[str]:
    return _SMILES_TOKEN.findall(smiles)


# ChemNet's one-hot order (fcd); two-letter symbols are matched first, any other character alone
CHEMNET_VOCAB = ("C", "N", "O", "H", "F", "Cl", "P", "B", "Br", "S", "I", "Si", "#", "(", ")", "+", "-", "1", "2",
                 "3", "4", "5", "6", "7", "8", "=", "[", "]", "@", "c", "n", "o", "s", "X", ".")  # fmt: skip
_CHEMNET_SYMBOLS = sorted(CHEMNET_VOCAB, key=lambda t: (-len(t), t))
_CHEMNET_TOKEN = re.compile("|".join(re.escape(t) for t in _CHEMNET_SYMBOLS) + "|.")


@SPLITTERS.register("chemnet", description="ChemNet's characters (fcd): two-letter symbols first, else one char")
def split_chemnet(smiles: str) -> list[str]:
    return _CHEMNET_TOKEN.findall(smiles)


@SPLITTERS.register("char", description="one token per character (DNA, protein)")
def split_chars(text: str) -> list[str]:
    return list(text)


def split_kmers(text: str, k: int) -> list[str]:
    """Overlapping k-mers (DNABERT's tokens): every position starts one; shorter texts are one token."""
    return [text[i : i + k] for i in range(max(1, len(text) - k + 1))]


def join_kmers(tokens: list[str]) -> str:
    """The text overlapping k-mers spell: the first k-mer, then the last symbol of each next one."""
    return tokens[0] + "".join(t[-1] for t in tokens[1:]) if tokens else ""


for _k in (3, 4, 5, 6):
    SPLITTERS.register(f"kmer{_k}", description=f"overlapping {_k}-mers (DNA)")(lambda t, _k=_k: split_kmers(t, _k))


def build_vocab(texts: Iterable[str], splitter: str, min_count: int = 1) -> list[str]:
    """Special tokens, then every token seen at least ``min_count`` times, most frequent first."""
    split = SPLITTERS.get(splitter)
    counts = Counter(tok for t in texts for tok in split(t))
    ranked = sorted((tok for tok, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    return [*SPECIAL_TOKENS, *ranked]


def special_id(spec: dict, name: str) -> int:
    """The id of special token ``name`` ([PAD], [MASK], ...) in a tokenizer spec, under a hub tokenizer's own
    name for it when it has one; no splitter is loaded."""
    return spec["vocab"].index(spec.get("specials", {}).get(name, name))


class TokenEncoder:
    """Encodes strings as [CLS] tokens [SEP] ids padded with [PAD] to the longest in the batch.

    Inputs longer than ``max_length`` are truncated, or with ``"windows": true`` in the spec cut into
    consecutive windows, each [CLS] tokens [SEP] padded to ``max_length`` and laid end to end: the backbone
    encodes each window on its own and pools over all of them (token_encoder.py).
    """

    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.split = _splitter(spec)
        self.vocab = {tok: i for i, tok in enumerate(spec["vocab"])}
        if "specials" in spec:  # a hub tokenizer's own names for [PAD], [UNK], ...
            self.vocab.update({ours: self.vocab[theirs] for ours, theirs in spec["specials"].items()})
        self.max_length = int(spec["max_length"])
        self.pad_id, self.unk_id = self.vocab["[PAD]"], self.vocab["[UNK]"]
        self.cls_id, self.sep_id = self.vocab["[CLS]"], self.vocab["[SEP]"]
        self.mask_id = self.vocab["[MASK]"]
        self.windows = bool(spec.get("windows"))

    @property
    def body(self) -> int:
        """Tokens per window between [CLS] and [SEP]."""
        return self.max_length - 2

    def ids(self, text: str) -> list[int]:
        body = [self.token_id(t) for t in self.split(text)]
        if not self.windows or len(body) <= self.body:
            return [self.cls_id, *body[: self.body], self.sep_id]
        out: list[int] = []
        for start in range(0, len(body), self.body):
            window = [self.cls_id, *body[start : start + self.body], self.sep_id]
            out += window + [self.pad_id] * (self.max_length - len(window))
        return out

    def token_positions(self, n_tokens: int) -> list[int]:
        """Where each of a text's first ``n_tokens`` tokens sits in its ids (the rest were truncated)."""
        if not self.windows:
            return list(range(1, min(n_tokens, self.body) + 1))
        return [(i // self.body) * self.max_length + 1 + i % self.body for i in range(n_tokens)]

    def token_id(self, token: str) -> int:
        """The token's id; an unknown SMILES bracket atom ([C@@H], [N+]) falls back to its element when known."""
        if token in self.vocab:
            return self.vocab[token]
        if self.spec.get("bracket_fallback") and (element := _BRACKET_ELEMENT.match(token)):
            return self.vocab.get(element.group(1), self.unk_id)
        return self.unk_id

    def encode(self, texts: list[str]) -> np.ndarray:
        """(n, L) int64 ids: L is the longest encoded text, or ``max_length`` for models that need a fixed length."""
        rows = [self.ids(t) for t in texts]
        width = self.max_length if self.spec.get("fixed_length") else max(map(len, rows), default=2)
        if width > self.max_length:  # windows: every row a whole number of them
            width = -(-width // self.max_length) * self.max_length
        out = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        for i, r in enumerate(rows):
            out[i, : len(r)] = r
        return out

    def coverage(self, texts: list[str]) -> dict[str, int]:
        """How many texts were longer than one window (truncated, or read in windows), the most windows one
        text needed, and how many tokens fell outside the vocabulary (for the report)."""
        long = unknown = total = most = 0
        for t in texts:
            toks = self.split(t)
            total += len(toks)
            long += len(toks) > self.body
            most = max(most, -(-len(toks) // self.body))
            unknown += sum(self.token_id(tok) == self.unk_id for tok in toks)
        return {"texts": len(texts), "truncated": long, "tokens": total, "unknown_tokens": unknown, "windows": most}


def _splitter(spec: dict) -> Callable[[str], list[str]]:
    """A spec's splitter: a hub tokenizer by name, BERT WordPiece over the spec's own vocabulary (no files
    needed), or a registered one."""
    if "hf_tokenizer" in spec:
        return _hf_splitter(spec["hf_tokenizer"])
    if spec["splitter"] == "wordpiece":
        return wordpiece_splitter(tuple(spec["vocab"]), bool(spec.get("lowercase", True)))
    return SPLITTERS.get(spec["splitter"])


@lru_cache(maxsize=4)
def wordpiece_splitter(vocab: tuple[str, ...], lowercase: bool = True) -> Callable[[str], list[str]]:
    """BERT's uncased WordPiece (normalise, split on spaces and punctuation, greedy longest-match sub-words):
    token for token what BERT's own tokenizer makes from the same vocabulary."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    wordpiece = Tokenizer(models.WordPiece(vocab={t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return lambda text: wordpiece.encode(text, add_special_tokens=False).tokens


def _hf_splitter(name: str) -> Callable[[str], list[str]]:
    """A hub model's own tokenizer as a splitter (its files come from the hub cache or a local folder)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name).tokenize


class TokenDataset:
    """Token ids encoded once (n, L) with targets: what every string modality feeds its backbone."""

    def __init__(self, ids: np.ndarray, targets: np.ndarray | None) -> None:
        import torch

        self.ids = torch.from_numpy(ids)
        self.targets = None if targets is None else torch.as_tensor(targets)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int):
        return self.ids[i] if self.targets is None else (self.ids[i], self.targets[i])
