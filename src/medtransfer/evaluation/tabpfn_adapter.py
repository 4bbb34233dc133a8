"""TabPFN (Hollmann et al., Nature 2025) as the classical contestant of a table run, for users who have its
checkpoint: a transformer pretrained on synthetic tables that classifies new rows in context, from the
training rows, without gradient steps. No wheel ships its weights (the package downloads them on first use),
so medtransfer never fetches them: ``--tabpfn PATH`` names a checkpoint file the user already has.

The estimator is named ``tabpfn:<path>`` where the other classical estimators are named by a word, so every
caller of ``classical_model`` (the run's baseline, its hand-over) takes it unchanged.
"""

from __future__ import annotations

from pathlib import Path

from medtransfer.errors import ConfigError

PREFIX = "tabpfn:"
INSTALL = "pip install 'medtransfer[tabpfn]'"


def is_tabpfn(estimator: str) -> bool:
    return estimator.startswith(PREFIX)


def tabpfn_checkpoint(path: str) -> Path:
    """The checkpoint ``--tabpfn`` names, checked before any training starts."""
    checkpoint = Path(path).expanduser()
    if not checkpoint.is_file():
        raise ConfigError(
            f"--tabpfn {path}: no such checkpoint file. TabPFN's weights do not ship in any package: download "
            "a classifier / regressor checkpoint (.ckpt) from its model hub once, then pass its path."
        )
    return checkpoint


def tabpfn_model(estimator: str, regression: bool, seed: int):
    """An unfitted TabPFN classifier or regressor reading the checkpoint in ``estimator`` (``tabpfn:<path>``)."""
    checkpoint = tabpfn_checkpoint(estimator.removeprefix(PREFIX))
    try:
        from tabpfn import TabPFNClassifier, TabPFNRegressor
    except ImportError as exc:
        raise ConfigError(f"--tabpfn needs the tabpfn package: {INSTALL}") from exc
    import torch

    kind = TabPFNRegressor if regression else TabPFNClassifier
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return kind(model_path=str(checkpoint), device=device, random_state=seed)


def tabpfn_name(estimator: str) -> str:
    return f"TabPFN in context ({Path(estimator.removeprefix(PREFIX)).name})"
