"""Built-in clinical tables, from packages that ship them.

breast_cancer_wisconsin: scikit-learn's copy of the UCI Breast Cancer Wisconsin (Diagnostic) set (Street,
Wolberg & Mangasarian 1993): 569 fine-needle aspirates, 30 nuclear features, malignant vs benign.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from medtransfer.data.catalog import DATASETS
from medtransfer.data.table import SampleTable
from medtransfer.data.task import TaskSpec


def load_breast_cancer_wisconsin() -> SampleTable:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    names = [str(n) for n in data.feature_names]
    inputs = [{n: f"{v:g}" for n, v in zip(names, row, strict=True)} for row in data.data]
    classes = tuple(str(c) for c in data.target_names)  # sklearn: 0 = malignant, 1 = benign
    task = replace(TaskSpec("binary", classes), positive=classes.index("malignant"))
    ids = [f"case {i + 1}" for i in range(len(inputs))]
    source = "breast_cancer_wisconsin (scikit-learn load_breast_cancer; UCI, Street et al. 1993)"
    return SampleTable("table", inputs, np.asarray(data.target, dtype=np.int64), task, ids, source=source)


DATASETS.register("breast_cancer_wisconsin", modality="table", task="binary", classes=2, size=569,
                  licence="CC BY 4.0 (UCI); BSD-3 (scikit-learn)", split="stratified random",
                  description="breast fine-needle aspirates: 30 nuclear features, malignant vs benign")(
    load_breast_cancer_wisconsin)  # fmt: skip
