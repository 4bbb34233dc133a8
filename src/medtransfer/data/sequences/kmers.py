"""k-mer profiles of sequences: the classical baseline's features, near-duplicate hashes for the leakage
audit, and the clusters of the similarity-aware split. One sparse count matrix serves all three."""

from __future__ import annotations

import numpy as np

from medtransfer.data.sequences.alphabets import DNA_STRICT, PROTEIN_EXTRA, PROTEIN_STRICT

K = {"dna": 5, "protein": 3}  # 1,024 DNA 5-mers; 15,625 protein 3-mers (over 25 symbols)


def symbols(kind: str) -> str:
    return DNA_STRICT + "N" if kind == "dna" else PROTEIN_STRICT + PROTEIN_EXTRA


def kmer_counts(sequences: list[str], kind: str, k: int | None = None):
    """Sparse (n, |alphabet|^k) counts of overlapping k-mers; k-mers with a symbol outside the alphabet
    (DNA: N and kept ambiguity codes) are skipped."""
    from scipy.sparse import csr_matrix

    k = k or K[kind]
    alphabet = symbols(kind) if kind == "protein" else DNA_STRICT
    code = np.full(256, -1, dtype=np.int64)
    code[np.frombuffer(alphabet.encode(), dtype=np.uint8)] = np.arange(len(alphabet))
    base = len(alphabet)
    rows, cols = [], []
    for i, seq in enumerate(sequences):
        c = code[np.frombuffer(seq.encode(), dtype=np.uint8)]
        if len(c) < k:
            continue
        windows = np.lib.stride_tricks.sliding_window_view(c, k)
        valid = (windows >= 0).all(axis=1)
        ids = windows[valid] @ (base ** np.arange(k - 1, -1, -1))
        rows.append(np.full(len(ids), i))
        cols.append(ids)
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    return csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(sequences), base**k))


def profile_features(sequences: list[str], kind: str) -> np.ndarray:
    """k-mer frequencies (counts / number of k-mers): dense features for logistic regression."""
    counts = kmer_counts(sequences, kind)
    totals = np.asarray(counts.sum(axis=1)).clip(min=1)
    return np.asarray(counts.multiply(1.0 / totals).todense(), dtype=np.float32)


def simhash(sequences: list[str], kind: str, bits: int = 256) -> np.ndarray:
    """Packed-bit SimHash of each k-mer profile (Charikar 2002): near-identical sequences differ in few bits."""
    counts = kmer_counts(sequences, kind)
    planes = np.random.default_rng(0).standard_normal((counts.shape[1], bits)).astype(np.float32)
    return np.packbits(np.asarray(counts @ planes) > 0, axis=1)


def similarity_clusters(sequences: list[str], kind: str, threshold: float = 0.8) -> list[str]:
    """Cluster ids: sequences joined (transitively) when their k-mer profiles have cosine similarity ≥
    ``threshold``; identical sequences always share a cluster."""
    from scipy.sparse.csgraph import connected_components
    from sklearn.preprocessing import normalize

    x = normalize(kmer_counts(sequences, kind))
    n = len(sequences)
    index: dict[str, int] = {}
    first = np.array([index.setdefault(s, i) for i, s in enumerate(sequences)])
    pairs_a, pairs_b = [np.arange(n)], [first]
    for start in range(0, n, 512):  # blocks bound memory at 512 × n similarities
        sim = (x[start : start + 512] @ x.T).toarray()
        a, b = np.nonzero(sim >= threshold)
        pairs_a.append(a + start)
        pairs_b.append(b)
    from scipy.sparse import coo_matrix

    a, b = np.concatenate(pairs_a), np.concatenate(pairs_b)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return [f"cluster {c}" for c in labels]
