"""The Open Inference Protocol v2 (KServe / Triton / MLServer) request and response, for this server's models:
one BYTES input (texts as they are, or files base64-encoded with ``parameters.content_type = "base64"``) and
FP32 outputs."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Literal

from pydantic import BaseModel, Field

from medtransfer.serving.limits import RequestProblem


class InferInput(BaseModel):
    name: str
    shape: list[int]
    datatype: Literal["BYTES"]
    data: list[str]
    parameters: dict[str, str] | None = None


class InferRequest(BaseModel):
    id: str | None = None
    inputs: list[InferInput] = Field(min_length=1, max_length=1)
    parameters: dict[str, str] | None = None


def request_inputs(request: InferRequest) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(files, texts) of the request's one input tensor."""
    tensor = request.inputs[0]
    if tensor.shape != [len(tensor.data)]:
        raise RequestProblem(422, f"input {tensor.name!r}: shape {tensor.shape} does not match its "
                                  f"{len(tensor.data)} data elements (expected [{len(tensor.data)}]).")  # fmt: skip
    kind = (tensor.parameters or {}).get("content_type", "str")
    if kind == "str":
        return [], list(tensor.data)
    if kind != "base64":
        raise RequestProblem(422, f"input {tensor.name!r}: content_type {kind!r} is unknown: use str (SMILES, "
                                  "sequences) or base64 (image files).")  # fmt: skip
    files = []
    for i, item in enumerate(tensor.data):
        try:
            files.append((f"{tensor.name}[{i}]", base64.b64decode(item, validate=True)))
        except (binascii.Error, ValueError) as exc:
            raise RequestProblem(422, f"input {tensor.name!r}, element {i}: not valid base64 ({exc}).") from exc
    return files, []


def model_metadata(name: str, kind: str, classes: list[str], task: str) -> dict:
    outputs = [{"name": "prediction", "datatype": "FP32", "shape": [-1, 1]}]
    if task != "regression":
        outputs = [{"name": "probabilities", "datatype": "FP32", "shape": [-1, len(classes)]},
                   {"name": "label", "datatype": "BYTES", "shape": [-1]}]  # fmt: skip
    return {
        "name": name,
        "versions": ["1"],
        "platform": "scikit-learn" if kind == "classical" else "pytorch",
        "inputs": [{"name": "input", "datatype": "BYTES", "shape": [-1]}],
        "outputs": outputs,
        "parameters": {"classes": json.dumps(classes), "task": task},  # JSON: a class name may hold a comma
    }


def infer_response(name: str, request_id: str | None, rows: list[dict], classes: list[str], task: str) -> dict:
    n = len(rows)
    if task == "regression":
        outputs = [{"name": "prediction", "datatype": "FP32", "shape": [n, 1],
                    "data": [float(r["prediction"]) for r in rows]}]  # fmt: skip
    else:
        flat = [float(r["probabilities"][c]) for r in rows for c in classes]
        labels = [str(r["prediction"]) for r in rows]
        outputs = [{"name": "probabilities", "datatype": "FP32", "shape": [n, len(classes)], "data": flat},
                   {"name": "label", "datatype": "BYTES", "shape": [n], "data": labels}]  # fmt: skip
    return {"model_name": name, "model_version": "1", "id": request_id, "outputs": outputs}
