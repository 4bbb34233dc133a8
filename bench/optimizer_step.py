"""AdamW's step on CPU: the default (one tensor at a time), ``foreach`` and ``fused``, side by side in one run.

Two parameter sets a fit trains: the default head on cached features (Dense(1024, ReLU) → Dense(2) on
EfficientNet-Lite0's 1,280 features: a linear probe's whole optimizer step) and every EfficientNet-Lite0 weight
(a full fine-tune). Median of ``--rounds`` rounds of 20 steps each, after 3 warm-up steps.

    python -m bench.optimizer_step [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from bench.common import write_section

DEFAULT = "default (one tensor at a time)"
VARIANTS = {DEFAULT: {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}


def step_ms(params: list[torch.nn.Parameter], steps: int = 20, **kwargs) -> float:
    """Milliseconds per AdamW step over ``params`` (gradients fixed, random)."""
    optimizer = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01, **kwargs)
    g = torch.Generator().manual_seed(0)
    for p in params:
        p.grad = torch.randn(p.shape, generator=g)
    for _ in range(3):
        optimizer.step()
    started = time.perf_counter()
    for _ in range(steps):
        optimizer.step()
    return (time.perf_counter() - started) / steps * 1000


def parameter_sets() -> dict[str, list[torch.nn.Parameter]]:
    import timm

    head = torch.nn.Sequential(torch.nn.Linear(1280, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 2))
    backbone = timm.create_model("efficientnet_lite0", pretrained=False)
    return {"head on cached features": list(head.parameters()), "EfficientNet-Lite0, every weight":
            list(backbone.parameters())}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    lines = ["| parameters | tensors | variant | ms per step (median) | × faster than the default |", "|---" * 5 + "|"]
    for name, params in parameter_sets().items():
        times = {v: [] for v in VARIANTS}
        for _ in range(args.rounds):  # variants alternate within each round
            for variant, kwargs in VARIANTS.items():
                times[variant].append(step_ms(params, **kwargs))
        base = statistics.median(times[DEFAULT])
        for variant, values in times.items():
            ms = statistics.median(values)
            lines.append(f"| {name} | {len(params)} | {variant} | {ms:.2f} | {base / ms:.1f} |")
            print(lines[-1], flush=True)
    write_section("optimizer_step", f"""## AdamW's step on CPU (`python -m bench.optimizer_step`)

Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__},
{torch.get_num_threads()} threads; {args.rounds} rounds of 20 steps, variants alternating.

{chr(10).join(lines)}

Fits use the fused step wherever every parameter is a plain CPU or CUDA tensor (`train/module.py:
fused_adam_ok`); it takes the same step to float rounding (`tests/train/test_optimizer.py`).

Reproduce: `python -m bench.optimizer_step --rounds {args.rounds}`""")


if __name__ == "__main__":
    main()
