"""DNA and protein backbones: the project's own pretrained BERTs, a CNN to train from scratch, AntiBERTy,
and tiny test models. Hub models (ESM-2, Nucleotide Transformer, DNABERT-2) load through ``hf:<repo>``.

- ``dna_bert_*`` and ``protein_bert_*``: pretrained here by ``medtransfer pretrain`` (zoo folders);
  ``protein_bert_unirep_distilled`` also learnt UniRep's per-residue states (``--teacher unirep_256``).
- ``dna_cnn`` / ``protein_cnn``: two convolutions over learnt character embeddings (DeepBind / Basset
  style), max and mean pooled over the sequence: the classic from-scratch architecture for sequences.
- ``antiberty``: AntiBERTy (Ruffolo et al. 2021), a BERT pretrained on 558M antibody sequences (OAS).
"""

from __future__ import annotations

import torch
from torch import nn

from medtransfer.backbones.base import Backbone, BackboneCard
from medtransfer.backbones.registry import BACKBONES
from medtransfer.backbones.token_encoder import TokenEncoderBackbone, _transformers, config_dict, encoder_from_config
from medtransfer.backbones.zoo import PACKAGED_ZOO, load_backbone_folder
from medtransfer.data.sequences.alphabets import SYMBOLS
from medtransfer.data.tokens import SPECIAL_TOKENS
from medtransfer.errors import BackboneError


def char_tokenizer(kind: str, max_length: int) -> dict:
    return {"splitter": "char", "vocab": [*SPECIAL_TOKENS, *SYMBOLS[kind]], "max_length": max_length}


class SequenceCNN(Backbone):
    """Embedding → Conv1d(k=9) → ReLU → Conv1d(k=9, dilation 2) → ReLU → [max ‖ mean] over real positions."""

    def __init__(self, card: BackboneCard, channels: int = 128, embed: int = 32) -> None:
        super().__init__()
        self.card = card
        vocab = card.tokenizer["vocab"]
        self.pad_id = vocab.index("[PAD]")
        self.embed = nn.Embedding(len(vocab), embed, padding_idx=self.pad_id)
        self.conv1 = nn.Conv1d(embed, channels, 9, padding=4)
        self.conv2 = nn.Conv1d(channels, channels, 9, padding=8, dilation=2)
        self.num_features = 2 * channels

    explain_kind = "tokens"

    def explain_layer(self) -> nn.Module:
        return self.embed

    def forward_features(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = ids != self.pad_id
        keep = mask.unsqueeze(1).to(torch.float32)
        x = self.embed(ids).transpose(1, 2)  # [PAD] embeds to zeros, like the convolutions' own padding
        # zero every position past the end between layers, so a sequence's features never depend on how
        # much padding its batch has
        x = torch.relu(self.conv1(x)) * keep
        return torch.relu(self.conv2(x)) * keep, mask

    def pool(self, features: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, mask = features
        m = mask.unsqueeze(1).to(x.dtype)
        peak = x.masked_fill(m == 0, float("-inf")).amax(dim=2)
        mean = (x * m).sum(2) / m.sum(2).clamp(min=1.0)
        return torch.cat([peak, mean], dim=1)

    def param_blocks(self) -> list[list[nn.Parameter]]:
        return [list(self.embed.parameters()), list(self.conv1.parameters()), list(self.conv2.parameters())]


def _cnn(kind: str) -> Backbone:
    card = BackboneCard(name=f"{kind}_cnn", architecture="2-layer CNN over character embeddings (256 features)",
                        modality=kind, source="random init (trained from scratch)", licence="Apache-2.0",
                        pretrained=False, in_chans=0, input_size=1024, mean=(), std=(),
                        tokenizer=char_tokenizer(kind, 1024))  # fmt: skip
    return SequenceCNN(card)


def _tiny_bert(kind: str) -> Backbone:
    tokenizer = char_tokenizer(kind, 256)
    config = {"model_type": "bert", "vocab_size": len(tokenizer["vocab"]), "hidden_size": 32, "num_hidden_layers": 2,
              "num_attention_heads": 2, "intermediate_size": 64, "max_position_embeddings": 256}  # fmt: skip
    encoder = encoder_from_config(config)
    card = BackboneCard(name=f"test_{kind}_bert", architecture="BERT encoder, 2 layers × 32 hidden", modality=kind,
                        source="random init (test model)", licence="Apache-2.0", pretrained=False, in_chans=0,
                        input_size=256, mean=(), std=(), tokenizer=tokenizer,
                        hf_config=config_dict(encoder))  # fmt: skip
    return TokenEncoderBackbone(encoder, card)


for _kind in ("dna", "protein"):
    BACKBONES.register(
        f"{_kind}_cnn",
        modality=_kind,
        source="random init: the from-scratch sequence CNN",
        licence="Apache-2.0",
        offline=True,
        params="0.2M",
    )(lambda _kind=_kind, **_: _cnn(_kind))
    BACKBONES.register(
        f"test_{_kind}_bert",
        modality=_kind,
        source="random init (tiny test model)",
        licence="Apache-2.0",
        offline=True,
        params="<0.1M",
    )(lambda _kind=_kind, **_: _tiny_bert(_kind))
# fmt: skip


# the project's own pretrained encoders (pretrain/): name → (modality, corpus, licence of the weights)
OWN_MODELS = {
    "dna_bert_ecoli": ("dna", "the E. coli 536 genome", "Apache-2.0"),
    "dna_bert_augustus": ("dna", "eukaryotic splice-site windows (AUGUSTUS training sets)", "Apache-2.0"),
    "protein_bert_uniprot": ("protein", "20,000 UniProt proteins", "Apache-2.0"),
    "protein_bert_uniprot_long": ("protein", "20,000 UniProt proteins, 3,000 steps instead of 800", "Apache-2.0"),
    "protein_bert_peptides": (
        "protein", "20,000 UniProt proteins cut into 50-residue pieces, amp's peptides cut out", "Apache-2.0"),
    "protein_bert_peptides_wide": (
        "protein", "the same pieces as protein_bert_peptides, 4 × 128 instead of 4 × 64", "Apache-2.0"),
    # learnt from UniRep's outputs, so under UniRep's licence
    "protein_bert_unirep_distilled": (
        "protein", "the same pieces as protein_bert_peptides, distilling unirep_256's per-residue states", "GPL-3.0"),
}  # fmt: skip
for _name, (_kind, _corpus, _licence) in OWN_MODELS.items():
    BACKBONES.register(
        _name,
        modality=_kind,
        licence=_licence,
        offline=True,
        params="0.2M",
        source=f"this project: masked-LM pretraining on {_corpus}, see zoo/{_name}",
    )(lambda pretrained=True, _name=_name, **_: load_backbone_folder(PACKAGED_ZOO / _name, pretrained))
# fmt: skip


@BACKBONES.register(
    "antiberty",
    modality="protein",
    licence="MIT",
    offline=True,
    params="25.8M",
    source="AntiBERTy: BERT on 558M antibody sequences (OAS), PyPI antiberty==0.1.3",
)
def antiberty(pretrained: bool = True, **_) -> Backbone:  # fmt: skip
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("antiberty")
    if spec is None or not spec.submodule_search_locations:
        raise BackboneError("antiberty is not installed: pip install --no-deps antiberty==0.1.3")
    folder = Path(next(iter(spec.submodule_search_locations))) / "trained_models"
    transformers = _transformers()
    model_dir = folder / "AntiBERTy_md_smooth"
    config = transformers.BertConfig.from_pretrained(str(model_dir))
    if pretrained:
        encoder = transformers.BertModel.from_pretrained(str(model_dir), add_pooling_layer=False)
    else:
        encoder = transformers.BertModel(config, add_pooling_layer=False)
    vocab = (folder / "vocab.txt").read_text().split()
    card = BackboneCard(name="antiberty", architecture=f"BERT encoder, {config.num_hidden_layers} layers × "
                        f"{config.hidden_size} hidden", modality="protein",
                        source="AntiBERTy (OAS antibodies), PyPI antiberty 0.1.3" if pretrained else "random init",
                        licence="MIT", pretrained=pretrained, citation="Ruffolo et al., arXiv:2112.07782 (2021)",
                        in_chans=0, input_size=512, mean=(), std=(),
                        # AntiBERTy's vocabulary is residues plus BERT specials: a plain character lookup
                        tokenizer={"splitter": "char", "vocab": vocab, "max_length": 512},
                        hf_config=config_dict(encoder))  # fmt: skip
    return TokenEncoderBackbone(encoder, card)
