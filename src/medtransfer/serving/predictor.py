"""A run behind a server: requests in (uploaded files, texts), prediction rows and the model card out.

Every upload is written into a temporary folder that is deleted when the request ends, then read by the
run's own modality reader, so a served prediction is exactly ``medtransfer predict`` on the same inputs:
the same validation, the same preprocessing, the same errors (with the temporary paths taken out).
"""

from __future__ import annotations

import base64
import json
import tempfile
import threading
from pathlib import Path
from typing import Any

from medtransfer.errors import MedtransferError
from medtransfer.evaluation.predictions import prediction_rows
from medtransfer.exporting.model_card import model_card
from medtransfer.inference import load
from medtransfer.serving.limits import RequestProblem, ServeLimits, file_suffix


class Predictor:
    """The loaded run, its metrics and card, and ``predict`` for one request at a time."""

    def __init__(self, run: str | Path, limits: ServeLimits | None = None) -> None:
        self.loaded = load(run)
        self.run = self.loaded.run_dir  # an archive's unpacked folder
        self.limits = limits or ServeLimits()
        self.name = self.run.resolve().name
        metrics = self.run / "metrics.json"
        self.metrics = json.loads(metrics.read_text()) if metrics.is_file() else {}
        self._lock = threading.Lock()  # one forward pass at a time: the model is shared by every request

    @property
    def task(self):
        return self.loaded.task

    def predict(
        self, files: list[tuple[str, bytes]], texts: list[str], explain: bool = False, skip_invalid: bool = False
    ) -> tuple[list[dict], list[dict]]:
        """(one row per input: label, probabilities, the operating-point decision and, asked, an explanation;
        the invalid inputs left out, with ``skip_invalid``; otherwise the first invalid one refuses the batch)."""
        n = len(files) + len(texts)
        if n == 0:
            raise RequestProblem(422, "empty batch: send at least one file (field 'file') or text (JSON 'inputs').")
        if n > self.limits.max_batch:
            raise RequestProblem(413, f"{n} inputs in one request; at most {self.limits.max_batch} (--max-batch).")
        with tempfile.TemporaryDirectory(prefix="medtransfer-serve-") as tmp:
            folder, names = Path(tmp), {}
            paths = []
            for i, (name, data) in enumerate(files):
                path = folder / f"upload-{i}{file_suffix(data, name)}"
                path.write_bytes(data)
                names[path.name] = name or f"file {i + 1}"
                paths.append(path)
            for i, text in enumerate(texts, 1):  # one file each, so every message names its input
                path = folder / f"text-{i}.txt"
                path.write_text(text.strip() + "\n", encoding="utf-8")
                names.update({f"{path.name}:line 1": f"input {i}", path.name: f"input {i}"})
                paths.append(path)
            try:
                raw, ids, dropped = self.loaded.modality.read_inputs(paths, skip_invalid)
            except MedtransferError as exc:
                raise RequestProblem(422, _client_names(str(exc), folder, names)) from exc
            if not raw:
                raise RequestProblem(422, f"no valid input: {len(dropped)} left out as invalid (see 'skipped').")
            self._check_pixels(raw, [_client_names(i, folder, names) for i in ids])
            with self._lock:
                probs = self.loaded.predict_proba(raw)
                rows = [self._row(r) for r in prediction_rows(self.task, ids, "predict", None, probs)]
                if explain:
                    self._explain(raw, ids, rows, folder / "explained")
        for row in rows:
            row["id"] = _client_names(row["id"], folder, names)
        skipped = [{k: _client_names(str(v), folder, names) for k, v in d.items()} for d in dropped]
        return rows, skipped

    def _check_pixels(self, raw: list[Any], ids: list[str]) -> None:
        for x, name in zip(raw, ids, strict=True):
            shape = getattr(x, "shape", None)
            if shape is not None and len(shape) >= 2 and shape[0] * shape[1] > self.limits.max_pixels:
                raise RequestProblem(413, f"{name} has {shape[0]}×{shape[1]} pixels; at most "
                                          f"{self.limits.max_pixels:,} per image (--max-pixels).")  # fmt: skip

    def _row(self, row: dict) -> dict:
        """A predictions.csv row reshaped for JSON, with the decision at the run's validation-chosen threshold."""
        out = {"id": row["id"], "prediction": row["prediction"]}
        probs = {k.removeprefix("prob_"): v for k, v in row.items() if k.startswith("prob_")}
        if probs:
            out["probabilities"] = probs
        point = self.metrics.get("operating_point") or {}
        if "threshold" in point and point.get("positive_class") in probs:
            positive = point["positive_class"]
            other = next(c for c in self.task.class_names if c != positive)
            p = probs[positive]
            out["decision"] = {
                "label": positive if p >= point["threshold"] else other,
                "rule": f"P({positive}) ≥ {point['threshold']:.3f} (chosen on validation: {point['method']})",
            }
        return out

    def _explain(self, raw: list[Any], ids: list[str], rows: list[dict], out: Path) -> None:
        from medtransfer.explanations.explain_run import explain_inputs, write_explanations

        try:
            explanations = explain_inputs(self.loaded, raw, ids, None, None)
        except MedtransferError as exc:
            raise RequestProblem(422, f"no explanation: {exc}") from exc
        records = write_explanations(self.loaded, raw, explanations, None, out)
        for row, record in zip(rows, records, strict=True):
            picture = base64.b64encode((out / record["file"]).read_bytes()).decode()
            row["explanation"] = {"method": record["method"], "target": record["target"], "unit": record["unit"],
                                  "image": f"data:image/png;base64,{picture}"}  # fmt: skip

    def model_card(self) -> dict:
        """What the model is, what it was trained and measured on, and what it is not for."""
        return model_card(self.run)


def _client_names(text: str, folder: Path, names: dict[str, str]) -> str:
    """``text`` with the temporary folder taken out and upload names replaced by the client's own."""
    text = text.replace(f"{folder}/", "").replace(str(folder), "")
    text = text.replace("pass --skip-invalid", "send skip_invalid=true").replace("listed in dropped.csv", "listed")
    for ours, theirs in sorted(names.items(), key=lambda kv: -len(kv[0])):  # longest first: text-1.txt:line 1
        text = text.replace(ours, theirs)
    return text
