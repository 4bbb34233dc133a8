"""DNA and protein sequences: FASTA / CSV readers, alphabet policies, k-mer profiles and datasets."""
