"""Bounded load test of ``medtransfer serve`` on localhost: requests/s and p50 / p95 latency, single and batched.

The server runs in its own process (``medtransfer serve``, as a user starts it); this process is the client
and sends a fixed number of requests one after another, in 3 rounds. Into docs/benchmarks.md.

    MEDTRANSFER_DATA=../shared/data python -m bench.serve_load [--run runs/demo-breastmnist] [--requests 100]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.common import mean_sd, write_section

ROUNDS = 3
BATCH = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def png(array: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def timed(client, n: int, send) -> dict:
    """``n`` requests one after another: requests/s and latency percentiles in ms."""
    latencies = []
    started = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        response = send(client)
        response.raise_for_status()
        latencies.append((time.perf_counter() - t) * 1000)
    wall = time.perf_counter() - started
    return {"rps": n / wall, "p50": float(np.percentile(latencies, 50)), "p95": float(np.percentile(latencies, 95))}


def main() -> None:
    import httpx

    from medtransfer.data.sources import read_data

    parser = argparse.ArgumentParser()
    parser.add_argument("--run", default="runs/demo-breastmnist")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    table = read_data("breastmnist")
    test = [png(table.inputs[i].squeeze()) for i in np.where(table.split == "test")[0][:BATCH]]
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "medtransfer", "serve", args.run, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            for _ in range(300):
                try:
                    if client.get("/v2/health/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            single = lambda c: c.post("/predict", files={"file": ("x.png", test[0], "image/png")})  # noqa: E731
            batch = lambda c: c.post("/predict", files=[("file", (f"{i}.png", b, "image/png")) for i, b in enumerate(test)])  # noqa: E501, E731
            explained = lambda c: c.post("/predict?explain=true", files={"file": ("x.png", test[0], "image/png")})  # noqa: E731
            timed(client, 5, single)  # warm-up
            rows = {"1 image": [], f"{BATCH} images": [], "1 image, explained": []}
            for _ in range(ROUNDS):
                rows["1 image"].append(timed(client, args.requests, single))
                rows[f"{BATCH} images"].append(timed(client, max(1, args.requests // 4), batch))
                rows["1 image, explained"].append(timed(client, max(1, args.requests // 10), explained))
    finally:
        server.terminate()
        server.wait(timeout=30)
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"
    lines = ["## Serving: `medtransfer serve` under a bounded load (`python -m bench.serve_load`)", "",
             f"The run {Path(args.run).name} (a `make demo` model) served by `medtransfer serve` in its own "
             f"process on localhost; one client process sends requests one after another to `POST /predict` "
             f"(BreastMNIST test images as PNG uploads): {args.requests} single-image requests, "
             f"{max(1, args.requests // 4)} of {BATCH} images and {max(1, args.requests // 10)} single images with "
             f"a Grad-CAM explanation, per round; {ROUNDS} rounds, mean ± sd over rounds (n = {ROUNDS}). "
             f"Machine: {machine}.", "",
             "| request | requests/s | images/s | p50 latency (ms) | p95 latency (ms) |",
             "|---|---|---|---|---|"]  # fmt: skip
    for name, results in rows.items():
        images = BATCH if name.startswith(str(BATCH)) else 1
        rps = [r["rps"] for r in results]
        p50, p95 = mean_sd([r["p50"] for r in results], 0), mean_sd([r["p95"] for r in results], 0)
        lines.append(f"| {name} | {mean_sd(rps, 1)} | {mean_sd([v * images for v in rps], 1)} | {p50} | {p95} |")
    median = statistics.median(r["p50"] for r in rows["1 image"])
    lines += ["", f"Median over rounds of the single-image p50: {median:.0f} ms."]
    write_section("serving", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
