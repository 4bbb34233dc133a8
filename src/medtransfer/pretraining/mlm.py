"""Masked-language-model pretraining of a small BERT encoder on an unlabelled corpus of strings.

A plain step loop rather than Lightning: the corpus is consumed in a seeded order fixed by the step
number, so a run killed at any step resumes from its last checkpoint and ends with exactly the weights an
uninterrupted run would have (Lightning cannot restore a position inside an epoch of a plain dataset).
"""

from __future__ import annotations

import csv
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from medtransfer.backbones.base import Backbone
from medtransfer.data.tokens import SPECIAL_TOKENS, TokenEncoder
from medtransfer.errors import ConfigError, RunError
from medtransfer.pretraining.distill import TeacherTargets
from medtransfer.pretraining.masking import mask_span, mask_tokens
from medtransfer.progress import progress_bar

log = logging.getLogger("medtransfer")
STATE = "pretrain_state.pt"


@dataclass
class PretrainSettings:
    """Architecture and schedule of one pretraining run (saved in the model card)."""

    hidden_size: int = 256
    layers: int = 4
    heads: int = 4
    intermediate_size: int = 512
    max_length: int = 128
    # DNA / protein corpora are cut into pieces this long (default: max_length − 2, one window each); shorter
    # pieces match short downstream inputs, such as peptides, and make each step cheaper
    piece_length: int | None = None
    steps: int = 4000
    batch_size: int = 128
    lr: float = 5e-4
    warmup_fraction: float = 0.05
    weight_decay: float = 0.01
    heldout: int = 512  # texts kept out of training to measure the masked-LM loss
    eval_every: int = 250
    save_every: int = 100
    seed: int = 0
    # distillation: a backbone with the same vocabulary whose per-token states the student also regresses
    # (pretrain/distill.py), and that loss's weight beside the masked-LM loss
    teacher: str | None = None
    distill_weight: float = 1.0
    # continued (domain-adaptive) pretraining: the backbone whose encoder and vocabulary training starts from
    # (its architecture replaces the four size settings above; see pretraining/continued.py)
    init: str | None = None

    def bert_config(self, vocab_size: int) -> dict:
        return {
            "model_type": "bert",
            "vocab_size": vocab_size,
            "hidden_size": self.hidden_size,
            "num_hidden_layers": self.layers,
            "num_attention_heads": self.heads,
            "intermediate_size": self.intermediate_size,
            "max_position_embeddings": self.max_length,
            "pad_token_id": 0,
        }


@dataclass
class PretrainOutcome:
    steps: int
    train_loss: float  # mean of the last eval window
    heldout_loss_first: float  # masked-LM loss on held-out texts before training
    heldout_loss: float  # and after
    seconds: float
    # with a teacher: the distillation loss on held-out texts (fraction of the teacher's variance missed)
    heldout_distill_first: float | None = None
    heldout_distill: float | None = None


def pretrain_mlm(
    texts: list[str],
    tokenizer: dict,
    settings: PretrainSettings,
    out: Path,
    progress: bool = True,
    teacher: Backbone | None = None,
    start: torch.nn.Module | None = None,
):
    """Train a BERT masked LM on ``texts``; checkpoints to ``out`` and resumes from there when present.

    ``start``: a BERT encoder (``settings.init``'s) whose weights training continues from; its masked-LM head is
    new (sentence encoders ship none), the output layer tied to its word embeddings as in BERT.

    ``teacher`` (the backbone ``settings.teacher`` names, see ``load_teacher``): the student also regresses its
    per-token states. Returns (encoder without the LM head, outcome); the caller writes the backbone folder.
    """
    from transformers import BertConfig, BertForMaskedLM

    s = settings
    if s.heads <= 0 or s.hidden_size % s.heads:
        raise ConfigError(f"--hidden-size {s.hidden_size} must be a multiple of --heads {s.heads}.")
    if len(texts) <= s.heldout:
        raise ConfigError(f"the corpus has {len(texts)} texts; pretraining needs more than the {s.heldout} held out.")
    encoder = TokenEncoder(tokenizer)
    if (start is None) != (s.init is None):
        raise ValueError("pass the starting encoder that settings.init names, and only then")
    torch.manual_seed(s.seed)
    config = BertConfig(**start.config.to_dict()) if start is not None else None
    model = BertForMaskedLM(config or BertConfig(**s.bert_config(len(tokenizer["vocab"]))))
    if start is not None:
        model.bert.load_state_dict(start.state_dict())
    order = np.random.default_rng(s.seed).permutation(len(texts))
    heldout, train = order[: s.heldout], order[s.heldout :]
    held_ids = torch.from_numpy(encoder.encode([texts[i] for i in heldout]))
    if (teacher is None) != (s.teacher is None):
        raise ValueError("pass the teacher that settings.teacher names, and only then")
    targets = TeacherTargets(teacher, s.hidden_size, held_ids) if teacher is not None else None
    trained = [*model.parameters(), *(targets.project.parameters() if targets else ())]
    optimizer = torch.optim.AdamW(trained, lr=s.lr, weight_decay=s.weight_decay)
    warmup = max(1, int(s.warmup_fraction * s.steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda k: min((k + 1) / warmup, max(0.0, (s.steps - k) / max(1, s.steps - warmup)))
    )
    step, rows = 0, []
    out.mkdir(parents=True, exist_ok=True)
    if (out / STATE).is_file():
        state = torch.load(out / STATE, map_location="cpu", weights_only=True)
        if state["settings"] != asdict(s) or state["corpus_size"] != len(texts):
            raise RunError(f"{out / STATE} was made with other settings or another corpus: use a new --out.")
        model.load_state_dict(state["model"])
        if targets:
            targets.project.load_state_dict(state["distill_map"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step, rows = state["step"], state["rows"]
        log.info("resuming pretraining at step %d of %d", step, s.steps)
    if not rows:
        held = _heldout_losses(model, targets, held_ids, encoder, s.seed)
        rows.append({"step": 0, "train_loss": math.nan, **held, "seconds": 0.0} | _train_distill(targets, []))
    started, window = time.perf_counter() - rows[-1]["seconds"], []
    with progress_bar("pretraining", s.steps, progress, done=step, with_loss=True) as advance:
        while step < s.steps:
            ids = torch.from_numpy(encoder.encode([texts[i] for i in _batch(train, step, s.batch_size, s.seed)]))
            step_seed = s.seed * 1_000_003 + step
            torch.manual_seed(step_seed)  # dropout masks depend on the step alone: a resumed run matches
            generator = torch.Generator().manual_seed(step_seed)
            corrupted, labels = mask_tokens(
                ids, encoder.mask_id, len(SPECIAL_TOKENS), len(encoder.vocab), generator, span=mask_span(tokenizer)
            )
            model.train()
            loss, states = masked_lm_loss(model, corrupted, (ids != encoder.pad_id).long(), labels)
            distill = targets.loss(states, *targets.teacher_states(ids)) if targets else torch.zeros(())
            (loss + s.distill_weight * distill).backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            last_loss = float(loss.detach())
            window.append((last_loss, float(distill.detach())))
            if step % s.eval_every == 0 or step == s.steps:
                held = _heldout_losses(model, targets, held_ids, encoder, s.seed)
                rows.append({"step": step, "train_loss": float(np.mean([w[0] for w in window])), **held,
                             "seconds": time.perf_counter() - started} | _train_distill(targets, window))  # fmt: skip
                window = []
                log.info("step %d: train loss %.3f, held-out losses %s", step, rows[-1]["train_loss"], held)
            if step % s.save_every == 0 or step == s.steps:
                extra = {"distill_map": targets.trainable_state()} if targets else {}
                _save_state(out, model, optimizer, schedule, step, rows, s, len(texts), extra)
            advance(loss=last_loss)
    _write_log(out / "pretrain_log.csv", rows)
    first, last = rows[0], rows[-1]
    outcome = PretrainOutcome(step, last["train_loss"], first["heldout_loss"], last["heldout_loss"], last["seconds"],
                              first.get("heldout_distill"), last.get("heldout_distill"))  # fmt: skip
    return model.bert, outcome


def masked_lm_loss(model, corrupted: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor):
    """Cross-entropy over the masked positions only, and the encoder's last states. The same loss as
    ``BertForMaskedLM(labels=...)``, without projecting every unmasked position onto the vocabulary: with a
    30k-word vocabulary that projection costs more than the encoder."""
    states = model.bert(input_ids=corrupted, attention_mask=mask).last_hidden_state
    picked = labels != -100
    logits = model.cls(states[picked])
    return torch.nn.functional.cross_entropy(logits, labels[picked]), states


def _train_distill(targets: TeacherTargets | None, window: list[tuple[float, float]]) -> dict[str, float]:
    """The log's mean training distillation loss since the last evaluation, when there is a teacher."""
    if not targets:
        return {}
    return {"train_distill": float(np.mean([w[1] for w in window])) if window else math.nan}


def _batch(train: np.ndarray, step: int, batch_size: int, seed: int) -> np.ndarray:
    """Rows of step ``step``: epoch e walks its own seeded permutation of the training texts."""
    per_epoch = max(1, len(train) // batch_size)
    epoch, k = divmod(step, per_epoch)
    perm = np.random.default_rng([seed, epoch]).permutation(len(train))
    return train[perm[k * batch_size : (k + 1) * batch_size]]


@torch.inference_mode()
def _heldout_losses(
    model, targets: TeacherTargets | None, ids: torch.Tensor, encoder: TokenEncoder, seed: int
) -> dict[str, float]:
    """Masked-LM loss (and distillation loss) on the held-out texts with one fixed masking, so every
    measurement is comparable."""
    model.eval()
    generator = torch.Generator().manual_seed(seed + 7)
    corrupted, labels = mask_tokens(
        ids, encoder.mask_id, len(SPECIAL_TOKENS), len(encoder.vocab), generator, span=mask_span(encoder.spec)
    )
    losses, distill = [], []
    for lo in range(0, len(ids), 128):
        part = slice(lo, lo + 128)
        loss, states = masked_lm_loss(model, corrupted[part], (ids[part] != encoder.pad_id).long(), labels[part])
        losses.append(float(loss))
        if targets:
            target, pooled = (x[part] for x in targets.heldout)
            distill.append(float(targets.loss(states, target, pooled)))
    return {"heldout_loss": float(np.mean(losses)), **({"heldout_distill": float(np.mean(distill))} if targets else {})}


def _save_state(
    out: Path, model, optimizer, schedule, step: int, rows: list, s: PretrainSettings, n: int, extra: dict
) -> None:
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "schedule": schedule.state_dict(),
        "step": step,
        "rows": rows,
        "settings": asdict(s),
        "corpus_size": n,
        **extra,
    }
    tmp = out / (STATE + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, out / STATE)  # a kill during the save leaves the previous checkpoint intact


def _write_log(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
