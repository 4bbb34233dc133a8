"""Resolve ``--data`` (a built-in name, a folder, a CSV, an .npz, ...) to a validated SampleTable."""

from __future__ import annotations

from pathlib import Path

from medtransfer.data.catalog import DATASETS, load_dataset, load_plugins
from medtransfer.data.modality import all_modalities, get_modality
from medtransfer.data.options import ReadOptions
from medtransfer.data.table import SampleTable
from medtransfer.errors import DataError


def read_data(data: str | Path, opts: ReadOptions | None = None, for_training: bool = True) -> SampleTable:
    """A built-in dataset by name, or a path read by the first modality that claims it.

    ``for_training`` also refuses data that cannot be split for training (e.g. a class with one example).
    """
    opts = opts or ReadOptions()
    load_plugins()
    if isinstance(data, str) and data in DATASETS:
        table = load_dataset(data)
    else:
        path = Path(data).expanduser()
        if not path.exists():
            close = DATASETS.unknown_message(str(data)) if "/" not in str(data) else ""
            raise DataError(f"--data {data}: no such file or folder, and not a built-in dataset. {close}".strip())
        if opts.modality:
            reader = get_modality(opts.modality)
        else:
            reader = next((m for m in all_modalities() if m.claims(path, opts)), None)
        if reader is None:
            raise DataError(
                f"no reader for {path}: expected a folder of class sub-folders (images or .txt files), a CSV with "
                "a column of image paths (--path-column), SMILES, sequences or texts (--input-column), a MedMNIST "
                ".npz, FASTA, SDF or JSON Lines; or name the modality with --modality."
            )
        table = reader.read(path, opts)
    if for_training:
        table.check_trainable()
    return table
