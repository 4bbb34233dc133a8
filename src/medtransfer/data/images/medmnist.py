"""Every MedMNIST v2 2D dataset (28 px) by name, with the official Zenodo URL and md5 (medmnist 3.0.2)."""

from __future__ import annotations

import json
from pathlib import Path

from medtransfer.data.catalog import DATASETS, fetch_file
from medtransfer.data.images.readers import read_image_npz
from medtransfer.data.table import SampleTable

ZENODO = "https://zenodo.org/records/10519652/files/{name}.npz?download=1"
CATALOG = json.loads((Path(__file__).parent.parent / "medmnist_catalog.json").read_text())
CITATION = "Yang et al., MedMNIST v2, Scientific Data 10, 41 (2023)"


def load_medmnist(name: str) -> SampleTable:
    """The official train / val / test splits of MedMNIST ``name`` at 28×28."""
    info = CATALOG[name]
    path = fetch_file(f"medmnist/{name}.npz", ZENODO.format(name=name), info["md5"])
    table = read_image_npz(path, class_names=info["labels"], task=info["task"])
    table.source = name
    return table


for _name, _info in CATALOG.items():
    DATASETS.register(
        _name,
        modality="image",
        task=_info["task"],
        licence=_info["license"],
        citation=CITATION,
        source="MedMNIST v2 (Zenodo)",
        classes=len(_info["labels"]),
        size=sum(_info["sizes"].values()),
    )(lambda _name=_name: load_medmnist(_name))
