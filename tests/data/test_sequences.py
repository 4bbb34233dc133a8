"""DNA / protein reading: alphabets and policies, FASTA and CSV readers, k-mer tokens, similarity split."""

from __future__ import annotations

import numpy as np
import pytest

from medtransfer.data.options import ReadOptions
from medtransfer.data.sequences.alphabets import check_sequence, guess_kind
from medtransfer.data.sequences.corpora import cut_out, raw_sequences, read_corpus_pieces
from medtransfer.data.sequences.kmers import similarity_clusters
from medtransfer.data.sources import read_data
from medtransfer.data.splits import make_split
from medtransfer.data.tokens import SPLITTERS, TokenEncoder, build_vocab, join_kmers
from medtransfer.errors import DataError


def random_dna(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list("ACGT"), size=n))


@pytest.mark.parametrize(
    ("raw", "kind", "iupac", "expected"),
    [
        ("acgt ACGT\n", "dna", "n", "ACGTACGT"),  # case and whitespace
        ("ACGURY", "dna", "n", "ACGTNN"),  # RNA U read as T; ambiguity codes to N
        ("ACGTRY", "dna", "keep", "ACGTRY"),
        ("mktayiak*", "protein", "n", "MKTAYIAK"),  # trailing stop removed
        ("MKXBZUO", "protein", "n", "MKXBZUO"),
    ],
)
def test_alphabet_policies(raw, kind, iupac, expected):
    assert check_sequence(raw, kind, iupac).sequence == expected


@pytest.mark.parametrize(
    ("raw", "kind", "iupac", "reason"),
    [
        ("ACGTXACGT", "dna", "n", "unknown nucleotide 'X' (first at position 5)"),
        ("ACG-T", "dna", "n", "alignment gap '-' (first at position 4): each record must be an unaligned DNA"),
        ("ACGTRY", "dna", "error", "2 IUPAC ambiguity code(s)"),
        ("MK*TA", "protein", "n", "unknown amino acid '*'"),
        ("MKJ1", "protein", "n", "unknown amino acid '1', 'J'"),
        ("  ", "dna", "n", "empty sequence"),
    ],
)
def test_invalid_sequences_say_why(raw, kind, iupac, reason):
    checked = check_sequence(raw, kind, iupac)
    assert checked.sequence is None and reason in checked.reason


def test_kind_is_guessed_from_the_letters():
    assert guess_kind(["ACGTNACGTT", "GGCCA"]) == "dna"
    assert guess_kind(["MKTAYIAKQRQISFVKSHFSRQ"]) == "protein"


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_kmer_tokens_round_trip(k):
    rng = np.random.default_rng(k)
    for n in (k, k + 1, 37, 200):
        seq = random_dna(rng, n)
        tokens = SPLITTERS.get(f"kmer{k}")(seq)
        assert len(tokens) == n - k + 1 and all(len(t) == k for t in tokens)
        assert join_kmers(tokens) == seq


def write_fasta(path, records):
    path.write_text("".join(f">{h}\n{s}\n" for h, s in records))
    return path


def test_fasta_labels_from_headers_and_bad_records_named_by_line(tmp_path):
    rng = np.random.default_rng(0)
    good = [(f"s{i} label={'pos' if i % 2 else 'neg'}", random_dna(rng, 40)) for i in range(20)]
    table = read_data(write_fasta(tmp_path / "ok.fa", good))
    assert table.modality == "dna" and table.task.class_names == ("neg", "pos") and len(table) == 20
    assert table.ids[0] == "s0" and table.group_kind.startswith("similarity cluster")
    bad = [*good[:5], ("s5 label=pos", "ACGTTTXGA"), *good[6:9], ("s9 label=neg", ""), *good[10:]]
    with pytest.raises(DataError, match=r"bad.fa: 2 invalid dna sequence\(s\): line 11: unknown nucleotide 'X'.*"
                                        r"line 19: empty sequence.*--skip-invalid"):  # fmt: skip
        read_data(write_fasta(tmp_path / "bad.fa", bad))
    skipped = read_data(write_fasta(tmp_path / "bad.fa", bad), ReadOptions(skip_invalid=True))
    assert len(skipped) == 18 and [d["row"] for d in skipped.dropped] == ["line 11", "line 19"]
    with pytest.raises(DataError, match=r"line 1: header 's0' has no label matching.*--label-pattern"):
        read_data(write_fasta(tmp_path / "nolabel.fa", [("s0", "ACGT"), ("s1", "ACGA")]))
    table = read_data(write_fasta(tmp_path / "pipe.fa", [(f"s{i}|{i % 2}", random_dna(rng, 30)) for i in range(8)]),
                      ReadOptions(label_pattern=r"\|(\d)$"))  # fmt: skip
    assert table.task.class_names == ("0", "1")


def test_csv_of_peptides_with_numeric_labels(tmp_path):
    rng = np.random.default_rng(1)
    rows = [f"{''.join(rng.choice(list('ACDEFGHIKLMNPQRSTVWY'), 25))},{i % 2}" for i in range(30)]
    (tmp_path / "pep.csv").write_text("peptide,active\n" + "\n".join(rows) + "\n")
    table = read_data(tmp_path / "pep.csv", ReadOptions(label_column="active"))
    assert table.modality == "protein" and table.task.kind == "binary" and len(table) == 30


def test_similarity_split_keeps_identical_and_near_identical_sequences_together(tmp_path):
    rng = np.random.default_rng(2)
    bases = [random_dna(rng, 60) for _ in range(60)]
    records = []
    for i, seq in enumerate(bases):
        records.append((f"b{i} label={i % 2}", seq))
        if i % 3 == 0:  # an exact copy and a one-mismatch variant of every third sequence
            records.append((f"c{i} label={i % 2}", seq))
            variant = seq[:30] + ("A" if seq[30] != "A" else "C") + seq[31:]
            records.append((f"v{i} label={i % 2}", variant))
    table = read_data(write_fasta(tmp_path / "dups.fa", records))
    clusters = similarity_clusters(table.inputs, "dna", threshold=0.8)
    assert len(set(clusters)) == 60  # each family is one cluster, unrelated random sequences are not joined
    for seed in range(5):
        split = make_split(table, 0.2, 0.2, seed)
        where = {}
        for name, idx in split.indices.items():
            for i in idx:
                where.setdefault(table.ids[i][1:], set()).add(name)
        assert all(len(s) == 1 for s in where.values()), "a sequence family straddles two splits"


def test_window_encoding_places_every_token_and_reports_long_inputs():
    spec = {"splitter": "kmer3", "vocab": build_vocab(["ACGTACGTAACCGGTT"], "kmer3"), "max_length": 6}
    text = "ACGTACGTAACC"  # 10 overlapping 3-mers: windows of 4 → 3 windows
    windowed, truncated = TokenEncoder({**spec, "windows": True}), TokenEncoder(spec)
    ids = windowed.ids(text)
    assert len(ids) == 3 * 6 and ids[::6] == [windowed.cls_id] * 3
    tokens = windowed.split(text)
    assert [ids[p] for p in windowed.token_positions(len(tokens))] == [windowed.token_id(t) for t in tokens]
    assert truncated.token_positions(len(tokens)) == [1, 2, 3, 4]
    assert len(truncated.ids(text)) == 6
    assert windowed.encode([text, "ACGT"]).shape == (2, 18)
    cover = windowed.coverage([text, "ACGT"])
    assert (cover["truncated"], cover["windows"]) == (1, 3)


def test_fasta_labels_from_a_side_csv_joined_on_the_record_id(tmp_path):
    fasta = tmp_path / "seqs.fa"
    fasta.write_text("".join(f">r{i} some description\nACGTACGTAC{'GT' * i}\n" for i in range(6)))
    labels = tmp_path / "labels.csv"  # rows in another order, a split column, and one id the FASTA lacks
    labels.write_text("id,activity,split\n" + "".join(f"r{i},{i * 0.5},{'test' if i > 3 else 'train'}\n"
                                                      for i in (5, 3, 1, 0, 2, 4, 9)))  # fmt: skip
    table = read_data(str(fasta), ReadOptions(labels_file=str(labels), label_column="activity", task="regression"))
    assert table.modality == "dna" and table.task.kind == "regression"
    assert table.ids == [f"r{i}" for i in range(6)]
    assert table.targets.tolist() == [i * 0.5 for i in range(6)]
    assert list(table.split) == ["train"] * 4 + ["test"] * 2
    labels.write_text("id,label\nr0,a\nr1,b\nr0,a\n")
    with pytest.raises(DataError, match="row 4: id 'r0' appears twice"):
        read_data(str(fasta), ReadOptions(labels_file=str(labels)))


def test_pretraining_corpora_read_fasta_and_augustus_splice_site_files(tmp_path):
    """Both layouts give bare, validated sequences; long ones become consecutive pieces, short tails dropped;
    dss / ass tags, comments and AUGUSTUS's offset sections are not sequences."""
    splice_sites = tmp_path / "species_splicefile"
    splice_sites.write_text("# splice sites of a species\n[DSS-OFFSET]\n# last exon position\n4\n"
                            "dss acgtgtaagtatttttctagatcg\nass ttttttttcctttttcagGTACCA\n#\n")  # fmt: skip
    genome = tmp_path / "genome.fa"
    genome.write_text(">chr1 a genome\n" + "ACGTTGCA" * 5 + "\nACG\n>chr2\nGGGGCCCCAAAATTTTGC\n")
    assert raw_sequences(splice_sites) == ["acgtgtaagtatttttctagatcg", "ttttttttcctttttcagGTACCA"]
    pieces, note = read_corpus_pieces(str(genome), "dna", piece_length=20)
    assert pieces == ["ACGTTGCA" * 2 + "ACGT", "TGCAACGTTGCAACGTTGCA", "GGGGCCCCAAAATTTTGC"]  # the 3-nt tail dropped
    assert note == "genome.fa"
    assert read_corpus_pieces(str(splice_sites), "dna", 20)[0] == ["ACGTGTAAGTATTTTTCTAG", "TTTTTTTTCCTTTTTCAGGT"]


def test_excluded_sequences_are_cut_out_of_a_corpus_on_both_dna_strands(tmp_path):
    """A test sequence hidden in a genome, forwards and reverse-complemented, is cut out; its flanks stay, split
    in two; a protein corpus loses a planted peptide the same way; an unknown source is named."""
    test_site = "GATTACAGATTACACCGG"
    genome = tmp_path / "genome.fa"
    genome.write_text(">g\n" + "A" * 20 + test_site + "C" * 20 + "CCGGTGTAATCTGTAATC" + "T" * 20 + "\n")
    excluded = tmp_path / "test.fa"
    excluded.write_text(f">t\n{test_site.lower()}\n")
    pieces, note = read_corpus_pieces(str(genome), "dna", piece_length=100, exclude=(str(excluded),))
    assert pieces == ["A" * 20, "C" * 20, "T" * 20]  # the second site is the reverse complement
    assert "2 occurrences of sequences from" in note
    proteins, _ = cut_out(["MSTAKWKLFKKIGAVLKVLQQQNNNEEE", "MKKLLPTAAAGLLLLAAQPAMA"], {"KWKLFKKIGAVLKVL"}, "protein")
    assert proteins == ["MSTA", "QQQNNNEEE", "MKKLLPTAAAGLLLLAAQPAMA"]
    with pytest.raises(DataError, match="no_such_set: not a built-in dataset or a FASTA file"):
        read_corpus_pieces(str(genome), "dna", 100, exclude=("no_such_set",))
