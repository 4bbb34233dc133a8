"""The AutoTransfer search space as data: candidates × strategies × settings, each a ``Trial``.

A modality adds its own levers (image resolution, say) through an optional ``search_settings(table)`` on its
plug-in, options the finalist's tuning chooses among (mixup) through ``tuned_levers(table)``, and strategies of
its own (SetFit for text) through ``search_strategies(table)``; nothing here knows any modality.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from medtransfer.autotransfer.rank import CLASSICAL, Candidate
from medtransfer.backbones.concat_backbone import concat_name
from medtransfer.data.table import SampleTable

FINE_TUNES = ("linear_probe", "full")  # what each shortlisted pretrained source is tried with
ADAPTERS = ("lora",)  # also tried where the source's backbone has attention layers to adapt
# rung 0; each later rung trains ETA times longer
BASE_EPOCHS = {"linear_probe": 10, "setfit": 10, "full": 2, "lora": 2}
ETA = 3  # successive halving keeps the best 1 / ETA of a rung
RUNGS = 3
MAX_CONCAT = 4  # sources read as one by the concatenated probe: its forward pass costs the sum of theirs


@dataclass(frozen=True)
class Trial:
    """One contestant: a source (or the classical model), how it is trained, and extra fit settings."""

    candidate: Candidate
    strategy: str = "full"
    settings: tuple[tuple[str, object], ...] = field(default=())

    @property
    def label(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in self.settings)
        if self.candidate.name == CLASSICAL:
            return CLASSICAL
        return f"{self.candidate.label}/{self.strategy}" + (f"[{extra}]" if extra else "")

    @property
    def classical(self) -> bool:
        return self.candidate.name == CLASSICAL

    def fit_settings(self, rung: int) -> dict:
        """The ``fit`` keyword arguments of this trial at ``rung`` (more epochs at each rung)."""
        return {
            "backbone": self.candidate.name,
            "pretrained": self.candidate.pretrained,
            "strategy": self.strategy,
            "epochs": BASE_EPOCHS.get(self.strategy, 2) * ETA**rung,
            **dict(self.settings),
        }


def searched_settings(table: SampleTable, plugin, fixed: set[str] = frozenset()) -> list[dict]:
    """The modality's levers for this data (``search_settings`` on its plug-in), less the ones the user fixed."""
    offered = getattr(plugin, "search_settings", lambda t: [{}])(table)
    unique = {tuple(sorted((k, v) for k, v in s.items() if k not in fixed)): None for s in offered}
    return [dict(s) for s in unique] or [{}]


def searched_strategies(table: SampleTable, plugin) -> tuple[str, ...]:
    """The strategies the modality adds for this data (``search_strategies`` on its plug-in; none by default)."""
    return tuple(getattr(plugin, "search_strategies", lambda t: ())(table))


def tuned_levers(table: SampleTable, plugin, fixed: set[str] = frozenset()) -> dict[str, tuple]:
    """Fit options Optuna chooses among for the finalist, besides its rates and depth, less the ones the user
    fixed: class weights wherever there are classes (imbalanced sets), and the modality's own
    (``tuned_levers(table)`` on its plug-in: mixup for images). Choices on validation, like every other."""
    levers: dict[str, tuple] = {"class_weights": (False, True)} if table.task.is_classification else {}
    levers.update(getattr(plugin, "tuned_levers", lambda t: {})(table))
    return {name: tuple(choices) for name, choices in levers.items() if name not in fixed}


def concat_candidate(ranked_sources: list[str], plugin) -> Candidate | None:
    """The modality's best-ranked pretrained sources (up to ``MAX_CONCAT``, in rank order) read as one
    (``concat:a+b``), where its plug-in says their features concatenate (``concat_sources``: images, whose
    sources all read the same pixels); None elsewhere or with fewer than two sources."""
    names = ranked_sources[:MAX_CONCAT]
    if not getattr(plugin, "concat_sources", False) or len(names) < 2:
        return None
    return Candidate(concat_name(names))


def search_space(
    shortlist: list[Candidate],
    scratch: Candidate,
    extra: list[dict],
    lora: frozenset[str] = frozenset(),
    more: tuple[str, ...] = (),
    concat: Candidate | None = None,
) -> list[Trial]:
    """Every shortlisted source with every fine-tuning strategy and each of the ``extra`` settings, the default
    architecture trained from scratch, and the classical model: the last two are always in the race.

    Ordered setting by setting (the modality lists the cheaper first), and within one the probes, the
    from-scratch control, then the fine-tunes; this order names each trial (its folder), and ``race_order``
    decides the order they run in. Sources whose label is in ``lora`` are also raced with LoRA. A ``concat``
    candidate (``concat_candidate``) is raced as a probe after the single sources' probes, whose cached features
    it reads."""
    probes = [(c, s) for c in shortlist for s in FINE_TUNES if s == "linear_probe"]
    probes += [(concat, "linear_probe")] if concat is not None else []
    tunes = [
        (c, s) for c in shortlist for s in (*FINE_TUNES, *(ADAPTERS if c.label in lora else ())) if s != "linear_probe"
    ] + [(c, s) for c in shortlist for s in more]
    kinds = [*probes, (scratch, "full"), *tunes]
    trials = [Trial(c, strategy, tuple(sorted(s.items()))) for s in extra for c, strategy in kinds]
    return [*trials, Trial(Candidate(CLASSICAL))]


def race_order(trials: list[Trial], cost: Callable[[Trial], float]) -> list[Trial]:
    """The order rung 0 runs ``trials`` in: setting by setting, as listed; within one the probes as listed, then
    the fine-tunes (the from-scratch control among them) cheapest first by ``cost``, a pretrained source before
    the from-scratch control of the same cost; the classical model as listed.

    A budget that runs out mid-rung has then seen the most contestants it could, and the first fine-tune, whose
    seconds are projected from its forward pass alone (no fine-tune has run to scale from), is the cheapest. With
    the control always first, GBSG2's 26-43 s budgets ran MiniLM from scratch (19-31 s) and never its pretrained
    full fine-tune or LoRA: the control caught no negative transfer, and the source was never tried."""
    groups: dict[tuple, list[Trial]] = {}
    for trial in trials:
        groups.setdefault(trial.settings, []).append(trial)

    def key(trial: Trial) -> tuple:
        if trial.classical or trial.strategy == "linear_probe":
            return (0, 0.0, False)  # stable sort: as listed
        return (1, cost(trial), not trial.candidate.pretrained)

    return [trial for group in groups.values() for trial in sorted(group, key=key)]
