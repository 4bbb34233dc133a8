"""A rich progress bar on stderr, or nothing: ``with progress_bar(...) as advance: advance(n)``."""

from __future__ import annotations

from collections.abc import Callable


class progress_bar:
    """Bar labelled ``label`` over ``total`` units (``done`` already), showing ``loss`` when ``with_loss``.
    Entering yields ``advance(n=1, loss=None)``; disabled, the same call does nothing."""

    def __init__(self, label: str, total: int, enabled: bool = True, done: int = 0, with_loss: bool = False) -> None:
        self.label, self.total, self.enabled, self.done, self.with_loss = label, total, enabled, done, with_loss

    def __enter__(self) -> Callable[..., None]:
        if not self.enabled:
            return lambda n=1, loss=None: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = [TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
        if self.with_loss:
            columns.append(TextColumn("loss {task.fields[loss]:.3f}"))
        self.bar = Progress(*columns, console=Console(stderr=True))
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total, completed=self.done, loss=float("nan"))

        def advance(n: int = 1, loss: float | None = None) -> None:
            self.bar.update(task, advance=n, **({"loss": loss} if loss is not None else {}))

        return advance

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.bar.stop()
