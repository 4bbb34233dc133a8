"""Frozen-backbone feature extraction: images per second, and the share of this machine's float32 matmul
ceiling it reaches, measured in the same run.

- ceiling: the best of several 2048 × 2048 float32 matrix products (GFLOP/s), with the threads PyTorch uses;
- FLOPs per image: PyTorch's own FlopCounterMode over one forward of the backbone;
- "pipeline": medtransfer's feature pass as a fit runs it (train/predict.py: the image plug-in's dataset and
  transforms, DataLoader, forward, copy out) over BreastMNIST images upsampled to the resolution;
- "forward only": the same backbone on an already-transformed batch, contiguous and channels_last, at several
  batch sizes: what the pipeline would reach without its data preparation.
Median of 3 rounds per variant.

    MEDTRANSFER_DATA=../shared/data python -m bench.throughput [--backbone efficientnet_lite0] [--size 224] [--n 256]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch

from bench.common import write_section


def matmul_ceiling(n: int = 2048, reps: int = 10) -> float:
    """Best float32 GEMM rate of several, GFLOP/s."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)  # warm-up
    best = float("inf")
    for _ in range(reps):
        started = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - started)
    return 2 * n**3 / best / 1e9


def flops_per_image(backbone: torch.nn.Module, x: torch.Tensor) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        backbone(x[:1])
    return float(counter.get_total_flops())


def images_per_second(fn, n: int, rounds: int = 3) -> float:
    fn()  # warm-up (allocator, oneDNN primitive cache)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return n / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--n", type=int, default=256)
    args = parser.parse_args()

    from medtransfer.backbones.registry import create_backbone
    from medtransfer.data.modality import get_modality
    from medtransfer.data.sources import read_data
    from medtransfer.train.predict import batched_outputs

    table = read_data("breastmnist")
    table = table.subset(np.arange(len(table))[np.arange(args.n) % len(table)])
    modality = get_modality(table.modality)
    backbone = create_backbone(args.backbone, True, **modality.backbone_kwargs(table)).eval()
    pre = modality.preprocessing(backbone.card, table, {"image_size": args.size, "augment": "none"})
    dataset = modality.dataset(table.inputs, None, pre, train=False)
    batch = torch.stack([dataset[i] for i in range(min(args.n, 128))])

    ceiling = matmul_ceiling()
    flops = flops_per_image(backbone, batch)
    rows = [("pipeline (medtransfer's feature pass: transforms, loader, channels_last forward), CPU batches of 32",
             images_per_second(lambda: batched_outputs(backbone, backbone, dataset, 64), args.n), 1)]  # fmt: skip
    for layout in ("contiguous", "channels_last"):
        fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
        backbone.to(memory_format=fmt)
        x_all = batch.contiguous(memory_format=fmt)
        for size in (32, 64):

            def forward(size=size, x_all=x_all):
                with torch.inference_mode():
                    for i in range(0, len(x_all), size):
                        backbone(x_all[i : i + size])

            rows.append((f"forward only, batch {size}, {layout}", images_per_second(forward, len(x_all)), 1))
    # the layout's effect on training too: forward + backward + Adam step of the whole backbone (a full fine-tune)
    for layout in ("contiguous", "channels_last"):
        fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
        backbone.to(memory_format=fmt).train()
        optimizer = torch.optim.Adam(backbone.parameters(), lr=1e-5)
        x_all = batch.contiguous(memory_format=fmt)

        def step(x_all=x_all, optimizer=optimizer):
            for i in range(0, len(x_all), 32):
                optimizer.zero_grad()
                backbone(x_all[i : i + 32]).square().mean().backward()
                optimizer.step()

        # a training step costs about 3 forwards' FLOPs (forward, and backward's two products)
        rows.append((f"training step (all weights), batch 32, {layout}", images_per_second(step, len(x_all)), 3))
        backbone.eval()
    backbone.to(memory_format=torch.contiguous_format)

    lines = ["| variant | images / s | GFLOP/s reached | share of the matmul ceiling |", "|---|---|---|---|"]
    for name, rate, factor in rows:
        reached = rate * flops * factor / 1e9
        lines.append(f"| {name} | {rate:.1f} | {reached:.1f} | {reached / ceiling:.1%} |")
    write_section("throughput", f"""## Frozen-backbone throughput (`python -m bench.throughput`)

{args.backbone} at {args.size} px ({flops / 1e9:.2f} GFLOP per image, PyTorch's FlopCounterMode), BreastMNIST
images upsampled; float32, inference mode, {torch.get_num_threads()} threads. Ceiling: the best float32 2048² matrix
product, {ceiling:.1f} GFLOP/s, measured in the same run. Median of 3 passes over {args.n} images (forward only:
{len(batch)} pre-transformed images; training steps: the same images, each counted as 3 forwards' FLOPs).
Machine: {platform.processor() or platform.machine()}, no GPU.

{chr(10).join(lines)}

Reproduce: `MEDTRANSFER_DATA=../shared/data python -m bench.throughput --backbone {args.backbone} --size {args.size} \\
--n {args.n}`""")


if __name__ == "__main__":
    main()
