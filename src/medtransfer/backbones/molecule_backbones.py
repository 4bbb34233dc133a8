"""Molecule backbones: the project's own SMILES BERT, rxnfp's reaction BERT, ChemNet, and hub encoders.

- ``smiles_bert_moses``: pretrained here by ``medtransfer pretrain`` on MOSES (weights in the package).
- ``rxnfp_bert``: BERT pretrained by masked LM on reaction SMILES (Schwaller et al. 2021): cross-domain
  transfer from reactions to single molecules; the same regex tokenizer, its own vocabulary.
- ``chemnet``: the ChemNet LSTM of the ``fcd`` package, trained to predict bioactivities (Preuer 2018).
- ``hf:<repo or folder>``: any Hugging Face SMILES encoder (e.g. ChemBERTa), with its own tokenizer.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from torch import nn

from medtransfer.backbones.base import Backbone, BackboneCard
from medtransfer.backbones.registry import BACKBONES
from medtransfer.backbones.token_encoder import TokenEncoderBackbone, _transformers, config_dict
from medtransfer.backbones.zoo import PACKAGED_ZOO, load_backbone_folder
from medtransfer.data.hashing import file_digest
from medtransfer.data.tokens import CHEMNET_VOCAB, SPECIAL_TOKENS
from medtransfer.errors import BackboneError


def _package_dir(package: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)  # located, not imported: rxnfp and fcd have heavy imports
    if spec is None or not spec.submodule_search_locations:
        raise BackboneError(f"{package} is not installed: {install}")
    return Path(next(iter(spec.submodule_search_locations)))


@BACKBONES.register(
    "smiles_bert_moses",
    modality="molecule",
    source="this project: masked-LM pretraining on MOSES (1.58M molecules), see zoo/smiles_bert_moses",
    licence="Apache-2.0",
    offline=True,
    params="2.1M",
)
def smiles_bert_moses(pretrained: bool = True, **_) -> Backbone:
    return load_backbone_folder(PACKAGED_ZOO / "smiles_bert_moses", pretrained)


@BACKBONES.register(
    "rxnfp_bert",
    modality="molecule",
    source="rxnfp: BERT pretrained on reaction SMILES (USPTO), PyPI rxnfp",
    licence="MIT",
    offline=True,
    params="6.7M",
)
def rxnfp_bert(pretrained: bool = True, **_) -> Backbone:
    folder = _package_dir("rxnfp", "pip install --no-deps rxnfp") / "models" / "transformers" / "bert_pretrained"
    transformers = _transformers()
    if pretrained:
        encoder = transformers.BertModel.from_pretrained(str(folder), add_pooling_layer=False)
    else:
        encoder = transformers.BertModel(transformers.BertConfig.from_pretrained(str(folder)), add_pooling_layer=False)
    vocab = (folder / "vocab.txt").read_text().split("\n")
    vocab = [v for v in vocab if v]
    card = BackboneCard(
        name="rxnfp_bert",
        architecture="BERT encoder, 12 layers × 256 hidden, 4 heads",
        modality="molecule",
        source="rxnfp (Schwaller et al. 2021): masked LM on USPTO reaction SMILES" if pretrained else "random init",
        licence="MIT",
        pretrained=pretrained,
        citation="Schwaller et al., Mapping the space of chemical reactions using attention-based neural networks, "
        "Nature Machine Intelligence 2021",
        in_chans=0,
        input_size=512,
        mean=(),
        std=(),
        tokenizer={"splitter": "smiles_regex", "vocab": vocab, "max_length": 512, "bracket_fallback": True},
        hf_config=config_dict(encoder),
        weights_sha256=file_digest(folder / "pytorch_model.bin") if pretrained else None,
    )
    return TokenEncoderBackbone(encoder, card)


_CHEMNET_VOCAB = list(CHEMNET_VOCAB)


class ChemNetBackbone(Backbone):
    """ChemNet: one-hot SMILES characters → 2 strided convolutions → 2 LSTMs → the last state (512)."""

    def __init__(self, model: nn.Sequential, card: BackboneCard) -> None:
        super().__init__()
        self.model = model
        self.card = card
        self.num_features = 512
        vocab = card.tokenizer["vocab"]
        onehot = torch.zeros(len(vocab), len(_CHEMNET_VOCAB))
        for i, tok in enumerate(vocab):
            if tok in _CHEMNET_VOCAB:
                onehot[i, _CHEMNET_VOCAB.index(tok)] = 1.0
        onehot[vocab.index("[UNK]"), _CHEMNET_VOCAB.index("X")] = 1.0
        onehot[vocab.index("[SEP]"), _CHEMNET_VOCAB.index(".")] = 1.0  # ChemNet's end-of-SMILES token
        # fcd scales its one-hot rows by 1/35 before ChemNet; the weights expect that input scale
        self.register_buffer("onehot", onehot / len(_CHEMNET_VOCAB), persistent=False)
        self.token_inputs = nn.Identity()  # hook point: one one-hot row per token id, for explanations

    explain_kind = "tokens"

    def explain_layer(self) -> nn.Module:
        return self.token_inputs

    def forward_features(self, ids: torch.Tensor) -> torch.Tensor:
        # drop [CLS]; pads map to zero vectors as in fcd; (batch, length, 35) → channels first
        return self.model(self.token_inputs(self.onehot[ids])[:, 1:].transpose(1, 2))

    def pool(self, features: torch.Tensor) -> torch.Tensor:
        return features

    def param_blocks(self) -> list[list[nn.Parameter]]:
        convs = [p for m in self.model if isinstance(m, nn.Conv1d) for p in m.parameters()]
        lstms = [list(m.parameters()) for m in self.model if isinstance(m, nn.LSTM)]
        return [convs, *lstms]


@BACKBONES.register(
    "chemnet",
    modality="molecule",
    source="fcd: ChemNet trained on ~6,000 bioassays (ChEMBL, ZINC, PubChem)",
    licence="LGPL-3.0",
    offline=True,
    params="1.4M",
)
def chemnet(pretrained: bool = True, **_) -> Backbone:
    package = _package_dir("fcd", "pip install fcd")
    from fcd.utils import load_imported_model  # light: torch layers only

    model = load_imported_model(torch.load(package / "ChemNet_v0.13_pretrained.pt", weights_only=True))
    if not pretrained:
        for module in model.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    card = BackboneCard(
        name="chemnet",
        architecture="ChemNet: 2 Conv1d + 2 LSTM over one-hot SMILES characters",
        modality="molecule",
        source="Preuer et al. 2018, weights from the fcd package" if pretrained else "random init",
        licence="LGPL-3.0",
        pretrained=pretrained,
        citation="Preuer et al., Fréchet ChemNet Distance, J. Chem. Inf. Model. 2018",
        in_chans=0,
        input_size=350,
        mean=(),
        std=(),
        # fcd pads every SMILES to 350 characters: the LSTM reads the padding, so the length is fixed
        tokenizer={
            "splitter": "chemnet",
            "vocab": [*SPECIAL_TOKENS, *_CHEMNET_VOCAB],
            "max_length": 351,
            "fixed_length": True,
        },  # fmt: skip
        weights_sha256=file_digest(package / "ChemNet_v0.13_pretrained.pt") if pretrained else None,
    )
    return ChemNetBackbone(model, card)


def hub_encoder(repo: str, pretrained: bool = True, trust_remote_code: bool = False) -> Backbone:
    """``hf:<repo or folder>``: a Hugging Face encoder with its own tokenizer (ChemBERTa, ESM-2, Nucleotide
    Transformer; DNABERT-2 ships its own model code, which runs only with ``--trust-checkpoint``).

    The vocabulary is copied into the card; the tokenizer itself is reloaded by name (hub cache or folder).
    """
    transformers = _transformers()
    try:
        remote = {"trust_remote_code": True} if trust_remote_code else {}
        tokenizer = transformers.AutoTokenizer.from_pretrained(repo, **remote)
        if pretrained:
            encoder = transformers.AutoModel.from_pretrained(repo, add_pooling_layer=False, **remote)
        else:
            encoder = transformers.AutoModel.from_config(transformers.AutoConfig.from_pretrained(repo, **remote))
    except OSError as exc:
        raise BackboneError(
            f"hf:{repo} could not be loaded ({exc.__class__.__name__}): the hub is unreachable or the name is wrong. "
            "Offline, pass a local folder saved with save_pretrained (hf:/path/to/folder)."
        ) from exc
    vocab = [tok for tok, _ in sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])]
    # ESM tokenizers end a sequence with <eos> and have no separator token: the first name present wins
    names = {
        "[PAD]": ("pad_token",),
        "[UNK]": ("unk_token",),
        "[CLS]": ("cls_token", "bos_token"),
        "[SEP]": ("sep_token", "eos_token"),
        "[MASK]": ("mask_token",),
    }
    specials = {}
    for ours, attrs in names.items():
        found = next((getattr(tokenizer, a) for a in attrs if getattr(tokenizer, a, None)), None)
        if found:
            specials[ours] = found
    card = BackboneCard(
        name=f"hf:{repo}",
        architecture=f"{encoder.config.model_type} encoder, {encoder.config.num_hidden_layers} layers",
        modality="any",
        source=repo,
        licence="see the model's hub card",
        pretrained=pretrained,
        in_chans=0,
        input_size=int(getattr(encoder.config, "max_position_embeddings", 512)),
        mean=(),
        std=(),
        tokenizer={
            "hf_tokenizer": repo,
            "vocab": vocab,
            "specials": specials,
            "max_length": min(512, tokenizer.model_max_length),
        },  # fmt: skip
        hf_config=config_dict(encoder),
    )
    return TokenEncoderBackbone(encoder, card)


_TEST_VOCAB = ["C", "c", "(", ")", "1", "2", "3", "O", "N", "=", "n", "[nH]", "F", "Cl", "Br", "S", "s", "o", "#",
               "-", "[C@@H]", "[C@H]", "/", "\\", "P", "I", "[N+]", "[O-]", "4", "5"]  # fmt: skip


@BACKBONES.register(
    "test_smiles_bert",
    modality="molecule",
    source="random init (tiny test model: 2 layers × 32 hidden)",
    licence="Apache-2.0",
    offline=True,
    params="<0.1M",
)
def test_smiles_bert(pretrained: bool = False, **_) -> Backbone:
    """A tiny random BERT over SMILES tokens: the molecule counterpart of timm's test models."""
    from medtransfer.backbones.token_encoder import encoder_from_config

    vocab = [*SPECIAL_TOKENS, *_TEST_VOCAB]
    config = {"model_type": "bert", "vocab_size": len(vocab), "hidden_size": 32, "num_hidden_layers": 2,
              "num_attention_heads": 2, "intermediate_size": 64, "max_position_embeddings": 128}  # fmt: skip
    encoder = encoder_from_config(config)
    card = BackboneCard(
        name="test_smiles_bert",
        architecture="BERT encoder, 2 layers × 32 hidden",
        modality="molecule",
        source="random init (test model)",
        licence="Apache-2.0",
        pretrained=False,
        in_chans=0,
        input_size=128,
        mean=(),
        std=(),
        tokenizer={"splitter": "smiles_regex", "vocab": vocab, "max_length": 128, "bracket_fallback": True},
        hf_config=config_dict(encoder),
    )
    return TokenEncoderBackbone(encoder, card)
