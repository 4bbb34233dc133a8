"""Tiny random hub models saved locally: the hf: path tested offline, as a hub folder would be."""

from __future__ import annotations

from pathlib import Path

ESM_TOKENS = ["<cls>", "<pad>", "<eos>", "<unk>", *"LAGVSERTIDPKQNFYMHWCXBUZO", ".", "-", "<null_1>", "<mask>"]


def tiny_esm(folder: Path) -> Path:
    """An EsmModel (ESM-2's and the Nucleotide Transformer's class) of 2 × 16 with its tokenizer."""
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(ESM_TOKENS))
    transformers.EsmTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    config = transformers.EsmConfig(vocab_size=len(ESM_TOKENS), hidden_size=16, num_hidden_layers=2,
                                    num_attention_heads=2, intermediate_size=32, max_position_embeddings=80,
                                    pad_token_id=1, mask_token_id=ESM_TOKENS.index("<mask>"),
                                    position_embedding_type="rotary")  # fmt: skip
    transformers.EsmModel(config, add_pooling_layer=False).save_pretrained(folder)
    return folder
