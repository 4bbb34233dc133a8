"""Built-in clinical tables made from survival studies that the lifelines wheel ships (read in place).

A survival table becomes a classification task at a horizon: positive when the event happened by then,
negative when the patient was followed past it event-free, and left out (counted in dropped.csv) when
censored before it, since that patient's outcome at the horizon is unknown. Both sets keep their missing
cells and categorical columns as the studies recorded them.

- gbsg2_recurrence_3y: German Breast Cancer Study Group 2 trial (Schumacher et al., JCO 1994; R package
  TH.data), 686 node-positive breast cancer patients; recurrence or death within 3 years.
- ncctg_lung_death_1y: North Central Cancer Treatment Group lung cancer study (Loprinzi et al., JCO 1994;
  R package survival), 228 advanced lung cancer patients with performance scores; death within 1 year.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from medtransfer.data.catalog import DATASETS
from medtransfer.data.sequences.datasets import package_file
from medtransfer.data.table import SampleTable
from medtransfer.data.tables.readers import raw_rows
from medtransfer.data.task import TaskSpec

INSTALL = "pip install --no-deps lifelines==0.30.0"


def survival_at_horizon(
    file: str, time: str, event: str, horizon: int, outcome: str, source: str, drop: tuple[str, ...] = ()
) -> SampleTable:
    """``lifelines/datasets/<file>`` as "``outcome`` within ``horizon`` days" (event cells: 1 = happened);
    the time, event and ``drop`` columns are not features."""
    path = package_file("lifelines", f"datasets/{file}", INSTALL)
    header, rows = raw_rows(path)
    features = [h for h in header if h not in (time, event, *drop)]
    inputs, targets, ids, dropped = [], [], [], []
    for i, r in enumerate(rows):
        days, happened = float(r[time]), r[event] == "1"
        if days <= horizon and not happened:
            dropped.append({"row": f"row {i + 2}", "input": f"{time}={r[time]}, {event}={r[event]}",
                            "reason": f"censored at day {days:g}, before the {horizon}-day horizon: outcome unknown"})
            continue  # fmt: skip
        inputs.append({h: r[h] for h in features})
        targets.append(int(happened and days <= horizon))
        ids.append(f"patient {i + 1}")
    classes = (f"no {outcome}", outcome)
    task = replace(TaskSpec("binary", classes), positive=1)
    table = SampleTable("table", inputs, np.asarray(targets, dtype=np.int64), task, ids, source=source)
    table.dropped = dropped
    return table


DATASETS.register("gbsg2_recurrence_3y", modality="table", task="binary", classes=2, size=555,
                  licence="GPL-2 (R package TH.data); MIT (lifelines)", split="stratified random",
                  description="breast cancer trial: recurrence or death in 3 years (686; 131 censored earlier out)")(
    lambda: survival_at_horizon("gbsg2.csv", "time", "cens", 3 * 365, "recurrence or death",
                                "gbsg2_recurrence_3y (German Breast Cancer Study Group 2, via lifelines)"))  # fmt: skip
DATASETS.register("ncctg_lung_death_1y", modality="table", task="binary", classes=2, size=186,
                  licence="LGPL (R package survival); MIT (lifelines)", split="stratified random",
                  description="advanced lung cancer: death within 1 year (228; 42 censored earlier out)")(
    lambda: survival_at_horizon("lung.csv", "time", "status", 365, "death",
                                "ncctg_lung_death_1y (NCCTG lung cancer study, via lifelines)",
                                drop=("inst",)))  # fmt: skip
