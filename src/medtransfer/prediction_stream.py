"""``medtransfer predict --out``: predictions streamed to a CSV a batch at a time, behind a progress bar.

The CSV is written beside its final name and renamed when every input is done, so an interrupted or failed
predict never leaves half a file that looks whole. Invalid inputs (with ``skip_invalid``) go to their own
CSV, each with its row and the reason, and the rest carry on.
"""

from __future__ import annotations

import csv
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from medtransfer.evaluation.predictions import write_dropped
from medtransfer.inference import LoadedModel
from medtransfer.progress import progress_bar

log = logging.getLogger("medtransfer")


@dataclass
class StreamResult:
    """What a streamed predict wrote: rows predicted, inputs refused, and where."""

    predicted: int
    invalid: int
    out: Path
    invalid_out: Path | None


def predict_to_csv(
    loaded: LoadedModel,
    sources: list[Path],
    out: Path,
    skip_invalid: bool = False,
    batch_size: int = 256,
    progress: bool = True,
) -> StreamResult:
    """Predict ``sources`` into ``out`` (CSV); invalid inputs, with ``skip_invalid``, into ``<out>.invalid.csv``."""
    total, batches = loaded.iter_predictions(sources, skip_invalid, batch_size)
    invalid_out = out.with_suffix(".invalid.csv")
    partial = out.with_name(out.name + ".partial")
    out.parent.mkdir(parents=True, exist_ok=True)
    predicted, dropped = 0, []
    try:
        with open(partial, "w", newline="") as fh, progress_bar("predicting", total, progress) as advance:
            writer = None
            for rows, refused in batches:
                if rows and writer is None:
                    writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                    writer.writeheader()
                if writer is not None:
                    writer.writerows(rows)
                predicted += len(rows)
                dropped += refused
                advance(len(rows) + len(refused))
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    if dropped:
        write_dropped(dropped, invalid_out)
        log.warning("%d invalid inputs left out; listed in %s", len(dropped), invalid_out)
    return StreamResult(predicted, len(dropped), out, invalid_out if dropped else None)
