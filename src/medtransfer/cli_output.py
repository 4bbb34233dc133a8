"""What the command line prints: tables whose first column is never cut, and a run's metrics with their CIs."""

from __future__ import annotations


def show_table(rows: list[dict], columns: tuple[str, ...], footer: str) -> None:
    """A table whose first column (a name to type) is never cut or wrapped; later columns wrap to fit."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_lines=False, pad_edge=False, box=None)
    for k, column in enumerate(columns):
        first = k == 0
        table.add_column(column, no_wrap=first, min_width=max(len(str(r.get(column, ""))) for r in rows) if first
                         else None, overflow="fold", ratio=None if first else 1)  # fmt: skip
    for r in rows:  # escaped: a trial label's [image_size=64] is text, not rich markup
        table.add_row(*(escape(str(r.get(c, ""))) for c in columns))
    console = Console()
    console.print(table)
    console.print(footer)


def show_metrics(metrics: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    skip = {
        "details",
        "training",
        "calibration",
        "operating_point",
        "baselines",
        "versus_baseline",
        "subgroups",
        "val_per_seed",
        "test_per_seed",
        "transfer_gain",
        "auto",
    }
    splits = [k for k, v in metrics.items() if isinstance(v, dict) and k not in skip]
    names = sorted({m for s in splits for m in metrics[s] if not m.endswith("_ci")})
    table = Table("metric", *splits, title=f"{metrics.get('task', '')} metrics (95% bootstrap CI)")
    for m in names:
        table.add_row(m, *(with_ci(metrics[s], m) for s in splits))
    Console().print(table)
    for name, b in metrics.get("baselines", {}).items():
        shown = ", ".join(f"{k} {b[k]:.3f}" for k in ("auroc", "accuracy", "rmse") if k in b)
        Console().print(f"baseline {name}: {shown}")
    versus = metrics.get("versus_baseline")
    if versus:
        ci = versus["difference_ci"]
        interval = f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""
        Console().print(
            f"this model − baseline ({versus['metric']}): {versus['difference']:+.3f}{interval}: {versus['verdict']}"
        )
    gain = metrics.get("transfer_gain")
    if gain:
        ci = gain.get("difference_ci")
        interval = f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""
        Console().print(f"transfer gain ({gain['metric']}): {gain['difference']:+.3f}{interval}: {gain['verdict']}")
    point = metrics.get("operating_point")
    if point and "threshold" in point:
        test = point.get("test", {})
        Console().print(
            f"operating point ({point['method']}, chosen on validation): threshold {point['threshold']:.3f} → "
            + ", ".join(f"{k} {test[k]:.3f}" for k in ("sensitivity", "specificity", "ppv", "npv") if k in test)
            + " on test"
        )


def with_ci(values: dict, name: str) -> str:
    if name not in values:
        return "–"
    ci = values.get(f"{name}_ci")
    return f"{values[name]:.4f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
