"""Data: read, validate and split labelled samples of any modality into SampleTables."""

from medtransfer.data.table import SampleTable
from medtransfer.data.task import TaskSpec

__all__ = ["SampleTable", "TaskSpec"]
