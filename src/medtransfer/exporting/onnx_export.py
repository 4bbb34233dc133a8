"""``medtransfer export --format onnx``: the run's network as an ONNX graph with a dynamic batch (and, for token
models, a dynamic length), checked against PyTorch with onnxruntime on real inputs at batch 1 and N.

The graph takes what the network takes after preprocessing: normalised image tensors (N, C, H, W) or token ids
(N, L). ``model.json`` beside it holds that preprocessing, the tokenizer and the class names, so a reader in
any language can feed it; ``parity.json`` holds the largest difference from PyTorch on the inputs it checked.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medtransfer.adapt.model import TransferModel
from medtransfer.errors import ExportError
from medtransfer.inference import LoadedModel, load
from medtransfer.run.rundir import atomic_write_text

GRAPH, PARITY = "model.onnx", "parity.json"
TOLERANCE = 1e-4  # largest absolute difference in logits accepted between onnxruntime and PyTorch


def export_onnx(run: str | Path, out: str | Path, inputs: list[Any] | None = None, n: int = 8) -> Path:
    """Write ``out/model.onnx`` (+ model.json, parity.json, the tokenizer where the run saved one); returns it.

    ``inputs``: raw inputs to check the graph on (default: ``n`` rows of the run's own validation split)."""
    loaded = load(run)
    if not isinstance(loaded.model, TransferModel):
        raise ExportError(
            f"{run} holds {loaded.model.handed_over} (it won the search on validation), not one network: ONNX "
            "export covers a fine-tuned network; --format bundle exports this run, medtransfer.load(run) predicts."
        )
    x = _batch(loaded, inputs if inputs is not None else _run_inputs(loaded, n))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = loaded.model.eval()
    _export(model, x, out / GRAPH, loaded)
    parity = _parity(model, x, out / GRAPH)
    saved = loaded.run_dir / "model"
    meta = json.loads((saved / "model.json").read_text())
    meta["onnx"] = {
        "file": GRAPH,
        "input": "input",
        "output": "output",
        "input_dtype": str(x.dtype).removeprefix("torch."),
        "input_shape": ["batch", *(["length"] if _is_tokens(x) else list(x.shape[1:]))],
        "output_means": "logits (softmax / sigmoid give probabilities); regression: values in the data's units",
    }
    atomic_write_text(out / "model.json", json.dumps(meta, indent=2))
    if (saved / "tokenizer").is_dir():  # a hub tokenizer the run saved: the graph takes its ids
        shutil.copytree(saved / "tokenizer", out / "tokenizer", dirs_exist_ok=True)
    atomic_write_text(out / PARITY, json.dumps(parity, indent=2))
    if parity["max_abs_difference"] > TOLERANCE:
        raise ExportError(
            f"the ONNX graph in {out} differs from the PyTorch model by up to {parity['max_abs_difference']:.2g} "
            f"(tolerance {TOLERANCE}): do not use it; see {PARITY}."
        )
    return out / GRAPH


def _run_inputs(loaded: LoadedModel, n: int) -> list[Any]:
    from medtransfer.pipeline import replay_split

    try:
        table, _ = replay_split(loaded.run_dir, "val")
    except (OSError, KeyError, ValueError) as exc:
        raise ExportError(f"the run's own data cannot be read to check the export ({exc}): pass inputs to check "
                          "it on (Python: export_onnx(run, out, inputs=[...])).") from exc  # fmt: skip
    return list(table.inputs[:n])


def _batch(loaded: LoadedModel, inputs: list[Any]) -> torch.Tensor:
    """The preprocessed tensor the network reads for ``inputs``: what the graph's input will be."""
    if len(inputs) < 2:
        raise ExportError("checking the export needs at least 2 inputs (batch 1 and batch N).")
    ds = loaded.modality.dataset(inputs, None, loaded.preprocessing, train=False)
    items = [ds[i][0] if isinstance(ds[i], tuple | list) else ds[i] for i in range(len(ds))]
    return torch.stack(items)


def _is_tokens(x: torch.Tensor) -> bool:
    return not x.is_floating_point() and x.dim() == 2


def _export(model: torch.nn.Module, x: torch.Tensor, path: Path, loaded: LoadedModel) -> None:
    from torch.export import Dim

    shapes = {0: Dim("batch", min=1)}
    if _is_tokens(x):
        shapes[1] = Dim("length", min=2)
    # written under its final name in a scratch folder (the exporter names the external weights file after the
    # graph), then moved: weights first, the graph last, so a reader never sees half of it
    partial = path.with_name(path.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        torch.onnx.export(model, (x[:2],), str(partial / path.name), dynamo=True, input_names=["input"],
                          output_names=["output"], dynamic_shapes=(shapes,), verbose=False)  # fmt: skip
        for written in sorted(partial.iterdir(), key=lambda f: f.name == path.name):
            written.replace(path.parent / written.name)
    except ImportError as exc:
        raise ExportError("ONNX export needs onnx and onnxscript: pip install 'medtransfer[export]'") from exc
    except Exception as exc:  # the exporter's own errors: which backbone, and what it could not trace
        name = json.loads((loaded.run_dir / "model" / "model.json").read_text())["backbone"]["name"]
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(f"backbone {name} could not be exported to ONNX: {first}") from exc
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _parity(model: torch.nn.Module, x: torch.Tensor, path: Path) -> dict:
    """Largest |onnxruntime − PyTorch| at batch 1 and at batch N, on the same inputs."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with torch.inference_mode():
        reference = model(x).float().numpy()
    diffs = {}
    for n in (1, len(x)):
        got = session.run(None, {"input": x[:n].numpy()})[0]
        diffs[f"batch_{n}"] = float(np.abs(got - reference[:n]).max())
    return {"max_abs_difference": max(diffs.values()), "by_batch": diffs, "n_inputs": len(x),
            "tolerance": TOLERANCE, "onnxruntime": onnxruntime.__version__, "torch": torch.__version__}  # fmt: skip
