"""``medtransfer pretrain``: corpus → vocabulary → masked-LM pretraining → a backbone folder with a card."""

from __future__ import annotations

import json
import logging
import platform
from dataclasses import asdict, replace
from pathlib import Path

from medtransfer.backbones.base import Backbone, BackboneCard
from medtransfer.backbones.zoo import save_backbone_folder
from medtransfer.data.modality import get_modality
from medtransfer.data.tokens import SPLITTERS, build_vocab
from medtransfer.errors import ConfigError
from medtransfer.pretraining.continued import ARCHITECTURE_FIELDS, continued_card_fields, starting_encoder
from medtransfer.pretraining.distill import load_teacher
from medtransfer.pretraining.mlm import PretrainOutcome, PretrainSettings, pretrain_mlm
from medtransfer.run.seeding import seeded_torch

log = logging.getLogger("medtransfer")
TOKENIZER = "tokenizer.json"


def run_pretrain(
    modality: str,
    corpus: str,
    out: Path,
    settings: PretrainSettings,
    name: str | None = None,
    progress: bool = True,
    tokenizer: str | None = None,
    exclude: tuple[str, ...] = (),
) -> Path:
    """Pretrain the modality's encoder on ``corpus`` into ``out`` (resuming when ``out`` holds a checkpoint).

    ``tokenizer`` names a token splitter (default: the modality's own, e.g. ``char``; ``kmer3``–``kmer6`` for
    DNA). ``exclude``: datasets or FASTA files whose sequences are cut out of a DNA / protein corpus."""
    plugin = get_modality(modality)
    if not hasattr(plugin, "read_corpus"):
        raise ConfigError(
            f"modality {modality!r} has no pretraining stage; pretrain molecule, dna, protein or text models."
        )
    init = settings.init or getattr(plugin, "pretrain_from", None)
    if init and tokenizer:
        raise ConfigError(f"--tokenizer cannot change the vocabulary of the encoder pretraining continues ({init}).")
    start, fixed_vocab = None, None
    if init:
        start, init_spec, settings = starting_encoder(init, settings)
    else:
        splitter = tokenizer or plugin.token_splitter
        SPLITTERS.get(splitter)  # an unknown name fails here, with the list
        fixed_vocab = plugin.vocab_for(splitter) if hasattr(plugin, "vocab_for") else None  # else: from the corpus
    if exclude and not getattr(plugin, "corpus_exclusion", False):
        raise ConfigError(
            f"--exclude cuts sequences out of DNA and protein corpora; {modality} corpora do not take it."
        )
    extra = {"exclude": tuple(exclude)} if exclude else {}
    if settings.piece_length and not getattr(plugin, "corpus_in_pieces", False):
        raise ConfigError(f"--piece-length cuts DNA and protein corpora; {modality} corpora hold one text per record.")
    piece = settings.piece_length or settings.max_length - 2
    if not 1 <= piece <= settings.max_length - 2:
        raise ConfigError(f"--piece-length {piece} must be between 1 and --max-length − 2 ({settings.max_length - 2}).")
    texts, corpus_note = plugin.read_corpus(corpus, piece_length=piece, **extra)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer_file = out / TOKENIZER
    if tokenizer_file.is_file():  # resuming: the vocabulary must be the one the checkpoint was trained with
        spec = json.loads(tokenizer_file.read_text())
        if tokenizer and spec["splitter"] != tokenizer:
            raise ConfigError(f"{out} was pretrained with {spec['splitter']} tokens: use a new --out for {tokenizer}.")
    elif start is not None:
        spec = init_spec
    else:
        vocab = fixed_vocab or build_vocab(texts, splitter)
        spec = {"splitter": splitter, "vocab": vocab, "max_length": settings.max_length,
                **getattr(plugin, "tokenizer_options", {})}  # fmt: skip
    teacher = load_teacher(settings.teacher, spec) if settings.teacher else None  # refused before anything is written
    if not tokenizer_file.is_file():
        tokenizer_file.write_text(json.dumps(spec))
    with seeded_torch(settings.seed):  # pretraining seeds torch per step; the caller's generator is restored
        encoder, outcome = pretrain_mlm(texts, spec, settings, out, progress, teacher, getattr(start, "encoder", None))
    taught = f", distilled from {teacher.card.name} ({teacher.card.source})" if teacher else ""
    card = BackboneCard(
        name=name or out.name,
        architecture=f"BERT encoder, {settings.layers} layers × {settings.hidden_size} hidden, {settings.heads} heads",
        modality=modality,
        source=f"{PRETRAINED_ON}{corpus_note}{taught}",
        # weights learnt from a teacher's outputs carry the teacher's licence
        licence=f"{teacher.card.licence}, as its teacher's" if teacher else LICENCE,
        pretrained=True,
        citation="Devlin et al., BERT (NAACL 2019); this project's pretraining stage"
        + ("; Sanh et al., DistilBERT (2019)" if teacher else ""),
        in_chans=0,
        input_size=settings.max_length,
        mean=(),
        std=(),
        tokenizer=spec,
        finetune_rates=getattr(plugin, "finetune_rates", None),
    )
    if start is not None:
        card = replace(card, **continued_card_fields(start, corpus_note + taught))
    save_backbone_folder(encoder, card, out)
    flag = "" if init or spec["splitter"] == plugin.token_splitter else f" --tokenizer {spec['splitter']}"
    flag += "".join(f" --exclude {source}" for source in exclude)
    card_text = model_card(card, settings, outcome, len(texts), corpus, modality, out, fixed_vocab is not None, flag)
    card_text += _distill_note(teacher, settings, outcome)
    (out / "MODEL_CARD.md").write_text(card_text)
    log.info("pretrained backbone written to %s (use --backbone %s)", out, out)
    return out


LICENCE = "Apache-2.0 (weights); corpus licence as stated in MODEL_CARD.md"
PRETRAINED_ON = "medtransfer masked-LM pretraining on "
VOCAB_NOTE = {
    "init": "the starting encoder's own, unchanged",
    False: "built from the corpus; tokens never seen in it map to [UNK]",
    True: "every token of the modality's alphabet, including those the corpus lacks",
}


def model_card(
    card: BackboneCard,
    s: PretrainSettings,
    outcome: PretrainOutcome,
    n_texts: int,
    corpus: str,
    modality: str,
    out: Path,
    fixed_vocab: bool = False,
    tokenizer_flag: str = "",
) -> str:
    """The human-readable card: what the model is, how it was made, the exact command, its losses."""
    params = ", ".join(f"{k}={v}" for k, v in asdict(s).items())
    seen = outcome.steps * s.batch_size
    return f"""# {card.name}

{card.architecture}, {_how(s)} (15% of tokens; 80% [MASK], 10% random,
10% kept) on {card.source.rsplit(PRETRAINED_ON, 1)[-1]}.{_start_note(card, s)}

- Modality: {modality}; tokenizer: `{card.tokenizer["splitter"]}`, vocabulary of {len(card.tokenizer["vocab"])} tokens
  ({VOCAB_NOTE["init" if s.init else fixed_vocab]}), at most {s.max_length} tokens per input in
  pretraining.{_pieces_note(s, modality)}
- Training: {outcome.steps} steps × {s.batch_size} texts = {seen:,} texts seen
  ({seen / max(1, n_texts - s.heldout):.2f} passes over {n_texts - s.heldout:,} training texts),
  AdamW, linear warm-up and decay; {outcome.seconds / 60:.1f} min on {platform.machine()} CPU.
- Masked-LM loss on {s.heldout} held-out texts: {outcome.heldout_loss_first:.3f} before training,
  {outcome.heldout_loss:.3f} after (per-step log: pretrain_log.csv).
- Weights sha256: `{card.weights_sha256}`.
- Licence: weights {"Apache-2.0 (this project)" if card.licence == LICENCE else card.licence}; the corpus's own
  licence applies to the data.
- Intended use: a starting point for fine-tuning on small {modality} datasets. Not a medical device.{_rates_note(card)}

Reproduce:

```
medtransfer pretrain --modality {modality} --corpus {corpus} --out {out}{tokenizer_flag} {_flags(s)}
```

Settings: {params}.
"""


def _distill_note(teacher: Backbone | None, s: PretrainSettings, outcome: PretrainOutcome) -> str:
    """What the card says of a teacher: which, how its states were learnt, and how well."""
    if teacher is None:
        return ""
    return f"""
Distillation: beside the masked-LM loss (weight 1), the student regresses the last-layer states of the teacher
`{teacher.card.name}` ({teacher.card.architecture}; {teacher.card.source}; weights sha256
`{teacher.card.weights_sha256}`) at every position the teacher pools, through a linear map dropped after
training (loss weight {s.distill_weight}; targets standardised per dimension on the held-out texts; the teacher
reads the clean text, the student the masked one). Held-out distillation loss, the fraction of the teacher's
variance the student misses: {outcome.heldout_distill_first:.3f} before training, {outcome.heldout_distill:.3f} after.
"""


def _pieces_note(s: PretrainSettings, modality: str) -> str:
    if not s.piece_length:
        return ""
    unit = "nucleotide" if modality == "dna" else "residue"
    return f"\n- Corpus cut into {s.piece_length}-{unit} pieces (shorter than the window, like the intended inputs)."


def _rates_note(card: BackboneCard) -> str:
    if not card.finetune_rates:
        return ""
    rates = ", ".join(f"{k}={v}" for k, v in card.finetune_rates.items())
    return f"\n- Fine-tuning rates recorded in card.json and used by default: {rates} (flags override)."


def _how(s: PretrainSettings) -> str:
    if not s.init:
        return "pretrained by masked-language modelling"
    return f"continued from `{s.init}` by masked-language modelling (domain-adaptive pretraining)"


def _start_note(card: BackboneCard, s: PretrainSettings) -> str:
    if not s.init:
        return ""
    start = card.source.rsplit(", then " + PRETRAINED_ON, 1)[0]
    return f"\nThe starting weights: {start}; the masked-LM head was new (tied to the word embeddings)."


def _flags(s: PretrainSettings) -> str:
    defaults = PretrainSettings()
    fixed = ARCHITECTURE_FIELDS if s.init else ()  # read from the starting encoder, not from flags
    changed = {k: v for k, v in asdict(s).items() if getattr(defaults, k) != v and k not in fixed}
    return " ".join(f"--{k.replace('_', '-')} {v}" for k, v in changed.items())
