"""Scaling: wall time and peak memory of one image fit against the number of images, at two resolutions.

The sets are real BreastMNIST images (all 780, official splits pooled) drawn with replacement and each
augmented (rotation ±20°, a random crop of 70–100% of the side, horizontal flip, brightness ×0.8–1.2, pixel
noise), written as a MedMNIST-format .npz of 28-px images with an 80 / 10 / 10 split. Augmented copies of one
image land in different splits, so test figures here say nothing about accuracy: time and memory only.

Every measurement is one ``medtransfer.fit`` (EfficientNet-Lite0, linear probe: the features pass dominates) in
its own process with an empty feature cache: the whole run as a user pays it (read, audit, features, head,
scoring, report), and that process's peak resident memory.

    MEDTRANSFER_DATA=../shared/data python -m bench.scaling [--sizes 1000,5000,20000,50000] [--sizes-px 64,128]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.common import DOCS, OUT, in_child, load_results, run_once, write_section

RESULTS = OUT / "scaling.jsonl"
# the same cells measured at 3a953a8, before features were streamed and per-sample seeding fixed (same machine)
BEFORE = OUT / "scaling-3a953a8.jsonl"
PLOT = DOCS.parent / "scaling.svg"
SOURCE_SIDE = 28


def augmented_set(n: int, seed: int, path: Path) -> None:
    """``n`` augmented BreastMNIST images with their labels, split 80 / 10 / 10, written to ``path`` (.npz)."""
    from PIL import Image

    from medtransfer.data.catalog import data_dir

    src = np.load(data_dir() / "medmnist" / "breastmnist.npz")
    images = np.concatenate([src[f"{s}_images"] for s in ("train", "val", "test")])
    labels = np.concatenate([src[f"{s}_labels"] for s in ("train", "val", "test")])
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(images), n)
    out = np.empty((n, SOURCE_SIDE, SOURCE_SIDE), dtype=np.uint8)
    for k, i in enumerate(picks):
        img = Image.fromarray(images[i]).rotate(float(rng.uniform(-20, 20)), Image.Resampling.BILINEAR)
        side = int(SOURCE_SIDE * rng.uniform(0.7, 1.0))
        x0, y0 = rng.integers(0, SOURCE_SIDE - side + 1, 2)
        img = img.crop((x0, y0, x0 + side, y0 + side)).resize((SOURCE_SIDE, SOURCE_SIDE), Image.Resampling.BILINEAR)
        x = np.asarray(img, dtype=np.float32) * rng.uniform(0.8, 1.2) + rng.normal(0, 3, (SOURCE_SIDE, SOURCE_SIDE))
        out[k] = np.clip(x[:, ::-1] if rng.random() < 0.5 else x, 0, 255).astype(np.uint8)
    cut = [int(0.8 * n), int(0.9 * n)]
    parts = dict(zip(("train", "val", "test"), np.split(np.arange(n), cut), strict=True))
    np.savez(path, **{f"{s}_images": out[ix] for s, ix in parts.items()},
             **{f"{s}_labels": labels[picks[ix]] for s, ix in parts.items()})  # fmt: skip


def run_one(n: int, px: int, seed: int) -> dict:
    """One fit on a fresh set of ``n`` images at ``px``, in this (child) process, with an empty feature cache."""
    import time

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / f"scaling-{n}.npz"
        augmented_set(n, seed, data)
        os.environ["MEDTRANSFER_CACHE"] = str(Path(tmp) / "cache")
        import medtransfer

        started = time.perf_counter()
        result = medtransfer.fit(str(data), backbone="efficientnet_lite0", strategy="linear_probe", image_size=px,
                                 seed=seed, out=str(Path(tmp) / "run"), progress=False)  # fmt: skip
        fit_s = time.perf_counter() - started
        cache_mb = sum(f.stat().st_size for f in (Path(tmp) / "cache").rglob("*") if f.is_file()) / 2**20
        data_mb = data.stat().st_size / 2**20
        return {"fit_s": fit_s, "cache_mb": cache_mb, "data_mb": data_mb, "test_auroc": result.metrics["test"]["auroc"]}


def table(sizes: list[int], pxs: list[int]) -> str:
    done, before = load_results(RESULTS), load_results(BEFORE)
    lines = ["| px | images | n | fit wall time (s, median) | images / s | process peak memory (MB, median) "
             "| peak − the smallest set's (MB) | feature cache on disk (MB) | at 3a953a8: wall time (s) "
             "| at 3a953a8: peak (MB) |", "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for px in pxs:
        base = None
        for n in sizes:
            rows = [r for k, r in done.items() if k.startswith(f"{px}|{n}|")]
            if not rows:
                continue
            fit_s = statistics.median(r["fit_s"] for r in rows)
            peak = statistics.median(r["peak_mb"] for r in rows)
            base = peak if base is None else base
            old = [r for k, r in before.items() if k.startswith(f"{px}|{n}|")]
            old_cells = (f"{statistics.median(r['fit_s'] for r in old):.0f} | "
                         f"{statistics.median(r['peak_mb'] for r in old):.0f}") if old else "– | –"  # fmt: skip
            lines.append(f"| {px} | {n:,} | {len(rows)} | {fit_s:.0f} | {n / fit_s:.0f} | {peak:.0f} "
                         f"| {peak - base:+.0f} | {statistics.median(r['cache_mb'] for r in rows):.1f} | {old_cells} |")
    return "\n".join(lines)


def plot(sizes: list[int], pxs: list[int], path: Path) -> None:
    """Wall time and peak memory against the number of images, a line per resolution (SVG, reproducible)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = load_results(RESULTS)
    plt.rcParams["svg.hashsalt"] = "medtransfer-scaling"  # stable element ids: the file changes only with the data
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    for px in pxs:
        cells = [(n, [r for k, r in done.items() if k.startswith(f"{px}|{n}|")]) for n in sizes]
        cells = [(n, rows) for n, rows in cells if rows]
        ns = [n for n, _ in cells]
        left.plot(ns, [statistics.median(r["fit_s"] for r in rows) for _, rows in cells], "o-", label=f"{px} px")
        right.plot(ns, [statistics.median(r["peak_mb"] for r in rows) / 1024 for _, rows in cells], "o-",
                   label=f"{px} px")  # fmt: skip
    for ax, ylabel in ((left, "fit wall time (s)"), (right, "process peak memory (GiB)")):
        ax.set_xlabel("images")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("medtransfer.fit, EfficientNet-Lite0 linear probe, 2 CPU cores")
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def write_docs(args: argparse.Namespace) -> None:
    sizes, pxs = [int(s) for s in args.sizes.split(",")], [int(p) for p in args.sizes_px.split(",")]
    plot(sizes, pxs, PLOT)
    write_section("scaling", f"""## Scaling with the number of images (`python -m bench.scaling`)

Augmented BreastMNIST sets (real images drawn with replacement, each rotated, cropped, flipped, brightness-
and noise-jittered; 28 px; 80 / 10 / 10) of growing size; one `medtransfer.fit` per cell (EfficientNet-Lite0,
linear probe, input resized to the px column), each in its own process with an empty feature cache: read,
leakage audit, features, head, scoring and report, as a user pays them. Seeds 0…n−1 draw different sets.
Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, no GPU.

{table(sizes, pxs)}

![Fit wall time and peak memory against the number of images](scaling.svg)

Reproduce: `MEDTRANSFER_DATA=../shared/data python -m bench.scaling --sizes {args.sizes} --sizes-px {args.sizes_px} \
--repeats {args.repeats}`""")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,5000,20000,50000")
    parser.add_argument("--sizes-px", default="64,128")
    parser.add_argument("--repeats", type=int, default=1, help="seeds per cell (each a different augmented set)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process: "n,px,seed"
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--write-only", action="store_true")
    args = parser.parse_args()
    if args.one:
        n, px, seed = (int(v) for v in args.one.split(","))
        Path(args.result).write_text(json.dumps(run_one(n, px, seed)))
        return
    if not args.write_only:
        for seed in range(args.repeats):
            for px in (int(p) for p in args.sizes_px.split(",")):
                for n in (int(s) for s in args.sizes.split(",")):
                    cmd = [sys.executable, "-m", "bench.scaling", "--one", f"{n},{px},{seed}"]
                    run_once(RESULTS, f"{px}|{n}|{seed}", lambda c=cmd: in_child(c))
                    write_docs(args)
    write_docs(args)


if __name__ == "__main__":
    main()
