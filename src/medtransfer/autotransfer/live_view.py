"""What ``medtransfer auto`` shows while it runs: the stage, the leaderboard so far and the time left (rich)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

SHOWN = 12  # leaderboard rows in the live view: the best ones


def leaderboard_rows(board: list[dict]) -> list[dict]:
    """Leaderboard rows, best validation score first, with their figures as text."""
    ordered = sorted(board, key=lambda r: (r["val_score"] is None, -(r["val_score"] or 0.0)))
    return [
        {**r, "val": "–" if r["val_score"] is None else f"{r['val_score']:.3f}", "seconds": f"{r['seconds']:.0f}"}
        for r in ordered
    ]


def render(stage: str, board: list[dict], elapsed: float, budget: float):
    """One frame: a table of the best trials so far under a title with the stage and the time left."""
    from rich.markup import escape
    from rich.table import Table

    left = max(0.0, budget - elapsed)
    table = Table(title=f"auto: {stage} · {elapsed:.0f} s of {budget:.0f} s used, {left:.0f} s left",
                  title_justify="left", box=None, pad_edge=False)  # fmt: skip
    columns = ("trial", "val", "seconds", "stage")  # the stage names the rung; epochs are in leaderboard.csv
    for k, column in enumerate(columns):
        table.add_column(column, no_wrap=k == 0, overflow="fold")
    rows = leaderboard_rows(board)
    for r in rows[:SHOWN]:
        table.add_row(*(escape(str(r.get(c, ""))) for c in columns))
    if len(rows) > SHOWN:
        table.caption = f"{len(rows) - SHOWN} more in leaderboard.csv when the search ends"
    return table


@contextmanager
def live_view(console=None) -> Iterator[Callable]:
    """A rich Live display; yields the ``on_update(stage, board, clock)`` callback ``run_auto`` takes.

    ``console`` should be the one log lines go to, so they print above the table instead of through it."""
    from rich.live import Live
    from rich.text import Text

    with Live(Text("auto: ranking the sources on frozen train + val features…"), console=console,
              refresh_per_second=2, transient=True) as live:  # fmt: skip

        def update(stage: str, board: list[dict], clock) -> None:
            live.update(render(stage, board, clock.elapsed, clock.budget))

        yield update
