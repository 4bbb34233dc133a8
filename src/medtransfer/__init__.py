"""medtransfer: transfer learning for medicine.

>>> import medtransfer
>>> result = medtransfer.fit("breastmnist", backbone="efficientnet_lite0", strategy="full")  # doctest: +SKIP
>>> model = medtransfer.load(result.run_dir)  # doctest: +SKIP
"""

from medtransfer.api import (
    audit,
    auto,
    backbones,
    compare,
    datasets,
    evaluate,
    explain,
    export,
    fit,
    load,
    predict,
    pretrain,
    rank,
)
from medtransfer.errors import BackboneError, ConfigError, DataError, MedtransferError, RunError

__version__ = "0.1.0"
__all__ = [
    "BackboneError",
    "ConfigError",
    "DataError",
    "MedtransferError",
    "RunError",
    "audit",
    "auto",
    "backbones",
    "compare",
    "datasets",
    "evaluate",
    "explain",
    "export",
    "fit",
    "load",
    "predict",
    "pretrain",
    "rank",
]
