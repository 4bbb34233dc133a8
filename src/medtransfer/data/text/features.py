"""Hashed n-gram counts of texts: the TF-IDF baseline's input, near-duplicate hashes for the leakage audit and
the exact key of a text. Hashing keeps the features stateless (no vocabulary fitted on any split): TF-IDF
weighting is learnt on the training rows only, inside the baseline's estimator."""

from __future__ import annotations

import hashlib
import re

import numpy as np

WORD_FEATURES = 2**13  # word 1–2-grams
CHAR_FEATURES = 2**13  # character 3–5-grams inside word boundaries
_WORD = re.compile(r"\w+")


def normalised(text: str) -> str:
    """Lower-case words joined by single spaces: what two copies of a report share despite spacing, case or
    punctuation."""
    return " ".join(_WORD.findall(text.lower()))


def exact_key(text: str) -> str:
    return hashlib.sha1(normalised(text).encode()).hexdigest()


def _vectorizer(analyzer: str, ngrams: tuple[int, int], n_features: int):
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer=analyzer, ngram_range=ngrams, n_features=n_features, alternate_sign=False,
                             norm=None, lowercase=True, dtype=np.float32)  # fmt: skip


def word_counts(texts: list[str]):
    """Sparse (n, WORD_FEATURES) counts of word uni- and bigrams."""
    return _vectorizer("word", (1, 2), WORD_FEATURES).transform(texts)


def ngram_counts(texts: list[str]) -> np.ndarray:
    """Dense (n, WORD_FEATURES + CHAR_FEATURES) counts of word 1–2-grams and character 3–5-grams."""
    from scipy.sparse import hstack

    chars = _vectorizer("char_wb", (3, 5), CHAR_FEATURES).transform(texts)
    return np.asarray(hstack([word_counts(texts), chars]).todense(), dtype=np.float32)


def simhash(texts: list[str], bits: int = 256) -> np.ndarray:
    """Packed-bit SimHash (Charikar 2002) of each text's word n-gram counts: near-copies differ in few bits."""
    planes = np.random.default_rng(0).standard_normal((WORD_FEATURES, bits)).astype(np.float32)
    return np.packbits(np.asarray(word_counts([normalised(t) for t in texts]) @ planes) > 0, axis=1)


def near_copy_clusters(texts: list[str], max_bits: int = 5) -> list[str]:
    """Cluster ids: texts joined (transitively) when their SimHashes differ in at most ``max_bits`` of 256 (the
    leakage audit's own near-copy threshold); identical texts always share one. As split groups they keep a
    templated report and its one-word variant ("1. No acute disease.") out of different splits."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    hashes = simhash(texts)
    n = len(texts)
    pairs_a, pairs_b = [], []
    for start in range(0, n, 256):  # blocks bound memory at 256 × n × 32 bytes
        distance = np.bitwise_count(hashes[start : start + 256, None, :] ^ hashes[None, :, :]).sum(-1)
        a, b = np.nonzero(distance <= max_bits)
        pairs_a.append(a + start)
        pairs_b.append(b)
    a, b = np.concatenate(pairs_a), np.concatenate(pairs_b)
    _, labels = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)), directed=False)
    return [f"text cluster {c}" for c in labels]
