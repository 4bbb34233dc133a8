"""Commands that use a finished run elsewhere: ``export`` (ONNX, bundle) and ``serve`` (HTTP)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from medtransfer.cli import Opt, app


@app.command()
def export(
    run: Annotated[Path, typer.Argument(help="a finished run directory")],
    out: Annotated[Path, Opt("--out", "-o", help="folder for the export; a bundle may be one .tar.gz archive")],
    format: Annotated[str, Opt("--format", help="onnx (checked against PyTorch with onnxruntime) or bundle (what load and serve read)")] = "onnx",  # noqa: E501
) -> None:
    """Export a run: ONNX for other tools, or a bundle (weights, model card, checksums) to load and serve."""
    from medtransfer.api import export as api_export

    written = api_export(run, out, format)
    if format == "bundle":
        typer.echo(f"written: {written}  (MODEL_CARD.md inside; medtransfer serve {written} serves it)")
        return
    parity = json.loads((written.parent / "parity.json").read_text())
    typer.echo(
        f"written: {written}  (largest difference from PyTorch on {parity['n_inputs']} inputs: "
        f"{parity['max_abs_difference']:.1e}; preprocessing and labels in {written.parent / 'model.json'})"
    )


@app.command()
def serve(
    run: Annotated[Path, typer.Argument(help="a run directory, or a bundle folder or .tar.gz (export --format bundle)")],  # noqa: E501,
    host: Annotated[str, Opt(help="address to listen on; localhost only unless told otherwise")] = "127.0.0.1",
    port: Annotated[int, Opt()] = 8000,
    max_upload_mb: Annotated[float, Opt(help="largest request body (413 past it)")] = 16.0,
    max_batch: Annotated[int, Opt(help="most inputs per request")] = 64,
    max_pixels: Annotated[int, Opt(help="most pixels per decoded image")] = 4096 * 4096,
    timeout: Annotated[float, Opt(help="seconds a request may take (504 past it)")] = 60.0,
    api_key: Annotated[str | None, Opt(envvar="MEDTRANSFER_API_KEY", help="require this key (X-API-Key header)")] = None,  # noqa: E501
) -> None:
    """Serve a run over HTTP: Open Inference Protocol v2 (/v2/...), POST /predict, /model-card, a page at /."""
    import uvicorn

    from medtransfer.serving.app import create_app
    from medtransfer.serving.limits import ServeLimits

    if host not in ("127.0.0.1", "localhost", "::1") and not api_key:
        logging.getLogger("medtransfer").warning("serving on %s without --api-key: anyone who can reach it may use "
                                                 "it", host)  # fmt: skip
    limits = ServeLimits(max_upload_mb=max_upload_mb, max_batch=max_batch, max_pixels=max_pixels, timeout_s=timeout)
    uvicorn.run(create_app(run, limits, api_key), host=host, port=port, log_level="info")
