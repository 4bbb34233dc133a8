"""The FastAPI app of ``medtransfer serve``: Open Inference Protocol v2, a friendly ``/predict``, the model
card, and a page at ``/`` to try the model in a browser.

Every refusal is a 4xx JSON ``{"error": ...}`` naming the field and the fix; a slow request ends in 504 after
``timeout_s``; bodies past ``max_upload_mb`` are cut off at 413 while they stream in.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from medtransfer.exporting.model_card import RESEARCH_ONLY
from medtransfer.serving.limits import RequestProblem, ServeLimits
from medtransfer.serving.predictor import Predictor
from medtransfer.serving.protocol import InferRequest, infer_response, model_metadata, request_inputs

OPEN = ("/v2/health/live", "/v2/health/ready", "/", "/docs", "/openapi.json")  # no API key needed
PREDICT_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "array", "items": {"type": "string", "format": "binary"}}}}},
            "application/json": {"schema": {"type": "object", "required": ["inputs"], "properties": {
                "inputs": {"type": "array", "items": {"type": "string"}}}}},
        }
    }
}  # fmt: skip


def create_app(run: str | Path, limits: ServeLimits | None = None, api_key: str | None = None) -> FastAPI:
    """The app serving the run (or its model folder) at ``run``."""
    limits = limits or ServeLimits()
    predictor = Predictor(run, limits)
    from medtransfer import __version__

    app = FastAPI(title=f"medtransfer: {predictor.name}", version=__version__, description=RESEARCH_ONLY)
    app.add_middleware(BodyLimit, max_bytes=limits.max_bytes)
    classes, task = list(predictor.task.class_names), predictor.task.kind

    @app.middleware("http")
    async def require_key(request: Request, call_next):
        if api_key and request.url.path not in OPEN:
            given = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(given.encode(), api_key.encode()):
                return _error(401, "missing or wrong API key: send it in the X-API-Key header.")
        return await call_next(request)

    @app.exception_handler(RequestProblem)
    async def refused(request: Request, exc: RequestProblem):
        return _error(exc.status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        return _error(422, f"{where}: {first.get('msg', 'invalid')}")

    async def run_predict(files, texts, explain: bool = False, skip_invalid: bool = False):
        try:
            return await asyncio.wait_for(run_in_threadpool(predictor.predict, files, texts, explain, skip_invalid),
                                          limits.timeout_s)  # fmt: skip
        except TimeoutError as exc:
            raise RequestProblem(504, f"the prediction took longer than {limits.timeout_s:g} s (--timeout).") from exc

    def check_name(name: str) -> None:
        if name != predictor.name:
            raise RequestProblem(404, f"model {name!r} is not served here; this server serves {predictor.name!r}.")

    @app.get("/v2/health/live")
    def live() -> dict:
        return {"live": True}

    @app.get("/v2/health/ready")
    def ready() -> dict:
        return {"ready": True}

    @app.get("/v2")
    def server_metadata() -> dict:
        return {"name": "medtransfer", "version": __version__, "extensions": []}

    @app.get("/v2/models/{name}")
    def metadata(name: str) -> dict:
        check_name(name)
        return model_metadata(predictor.name, predictor.model_card()["model"]["kind"], classes, task)

    @app.get("/v2/models/{name}/ready")
    def model_ready(name: str) -> dict:
        check_name(name)
        return {"name": name, "ready": True}

    @app.post("/v2/models/{name}/infer")
    async def infer(name: str, request: InferRequest) -> dict:
        check_name(name)
        files, texts = request_inputs(request)
        rows, _ = await run_predict(files, texts)
        return infer_response(predictor.name, request.id, rows, classes, task)

    @app.post("/predict", openapi_extra=PREDICT_BODY)
    async def predict(request: Request, explain: bool = False, skip_invalid: bool = False) -> dict:
        """Upload files (multipart field ``file``) or send JSON ``{"inputs": [SMILES or sequences]}``;
        ``explain`` adds an explanation picture per input, ``skip_invalid`` answers for the valid ones."""
        files, texts = await _read_predict_body(request, limits)
        rows, skipped = await run_predict(files, texts, explain, skip_invalid)
        return {"model": predictor.name, "predictions": rows, "skipped": skipped, "note": RESEARCH_ONLY}

    @app.get("/model-card")
    def model_card() -> dict:
        return predictor.model_card()

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return resources.files("medtransfer.serving").joinpath("page.html").read_text(encoding="utf-8")

    return app


async def _read_predict_body(request: Request, limits: ServeLimits) -> tuple[list[tuple[str, bytes]], list[str]]:
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        form = await request.form(max_files=limits.max_batch + 1, max_fields=limits.max_batch + 1)
        uploads = [v for k, v in form.multi_items() if k == "file" and not isinstance(v, str)]
        texts = [v for k, v in form.multi_items() if k == "text" and isinstance(v, str) and v.strip()]
        if not uploads and not texts:
            raise RequestProblem(422, "no field 'file' in the form: upload the input as file=@scan.png.")
        return [(u.filename or "", await u.read()) for u in uploads], texts
    if kind.startswith("application/json"):
        try:
            payload = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestProblem(422, f"malformed JSON: {exc}.") from exc
        inputs = payload.get("inputs") if isinstance(payload, dict) else None
        if not isinstance(inputs, list) or not all(isinstance(t, str) for t in inputs):
            raise RequestProblem(422, 'inputs: send {"inputs": ["<SMILES or sequence>", ...]}, a list of strings.')
        return [], inputs
    raise RequestProblem(415, f"content type {kind or '(none)'!r}: send multipart/form-data (field 'file') or "
                              'application/json ({"inputs": [...]}).')  # fmt: skip


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: a body past ``max_bytes`` is refused with 413, by its Content-Length or as it streams."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope, receive, send) -> None:
        mb = self.max_bytes / 1024 / 1024
        await _error(413, f"request body over {mb:g} MB (--max-upload-mb).")(scope, receive, send)
