"""medtransfer serve, through FastAPI's TestClient: every endpoint on good inputs of each modality, and every
kind of bad request refused with a 4xx that names it, the server healthy after each."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

import medtransfer
from tests.test_sequence_fit import motif_fasta

pytest.importorskip("fastapi")
pytestmark = pytest.mark.slow


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    from tests.conftest import planted_npz

    folder = tmp_path_factory.mktemp("image")
    data = planted_npz(folder / "planted.npz")
    run = medtransfer.fit(str(data), backbone="test_efficientnet", image_size=32, epochs=2, batch_size=16,
                          head_hidden=16, progress=False, gallery=False, out=str(folder / "run")).run_dir  # fmt: skip
    return run, list(np.load(data)["test_images"][:3])


@pytest.fixture(scope="module")
def dna_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dna")
    data, held_out = motif_fasta(folder / "motif.fa", n=80)
    run = medtransfer.fit(str(data), backbone="test_dna_bert", epochs=1, batch_size=16, progress=False,
                          gallery=False, out=str(folder / "run")).run_dir  # fmt: skip
    return run, [s for s, _ in held_out[:2]]


@pytest.fixture(scope="module")
def molecule_run(tmp_path_factory):
    """A tiny SMILES BERT on 200 real BBBP molecules."""
    from medtransfer.data.sources import read_data

    folder = tmp_path_factory.mktemp("molecule")
    table = read_data("bbbp")
    data = folder / "bbbp200.csv"
    pairs = zip(table.inputs[:200], table.targets[:200], strict=True)
    data.write_text("smiles,p_np\n" + "".join(f"{s},{int(t)}\n" for s, t in pairs))
    run = medtransfer.fit(str(data), label_column="p_np", backbone="test_smiles_bert", epochs=1, batch_size=32,
                          progress=False, gallery=False, out=str(folder / "run")).run_dir  # fmt: skip
    return run, list(table.inputs[200:203])


def predicted_as_in_python(api, run, texts: list[str], explain: bool = False) -> list[dict]:
    """The rows ``POST /predict`` returns for ``texts``, checked against ``medtransfer.load(run)``."""
    got = api.post("/predict" + "?explain=true" * explain, json={"inputs": texts})
    assert got.status_code == 200, got.text
    rows = got.json()["predictions"]
    expected = medtransfer.load(run).predict_proba(texts)
    assert np.allclose([list(r["probabilities"].values()) for r in rows], expected, atol=1e-5)
    return rows


def client(run, **limits):
    from fastapi.testclient import TestClient

    from medtransfer.serving.app import create_app
    from medtransfer.serving.limits import ServeLimits

    key = limits.pop("api_key", None)
    return TestClient(create_app(run, ServeLimits(**limits), key))


def refused(response, status: int, *needles: str) -> None:
    assert response.status_code == status, response.text
    message = response.json()["error"]
    for needle in needles:
        assert needle in message, message


def test_an_image_is_predicted_and_explained_as_medtransfer_predict_would(image_run):
    run, images = image_run
    api = client(run)
    assert api.get("/v2/health/live").json() == {"live": True} and api.get("/v2/health/ready").status_code == 200
    name = run.name
    meta = api.get(f"/v2/models/{name}").json()
    assert meta["inputs"][0]["datatype"] == "BYTES" and meta["outputs"][0]["shape"] == [-1, 2]
    got = api.post("/predict?explain=true", files={"file": ("scan.png", png(images[0]), "image/png")})
    assert got.status_code == 200, got.text
    row = got.json()["predictions"][0]
    expected = medtransfer.load(run).predict_proba([images[0]])[0]
    assert row["id"] == "scan.png" and np.allclose(list(row["probabilities"].values()), expected, atol=1e-5)
    assert row["explanation"]["image"].startswith("data:image/png;base64,")
    assert "Research use only" in got.json()["note"]
    # the Open Inference Protocol: base64 image bytes in, FP32 probabilities out, the same numbers
    body = {"id": "r1", "inputs": [{"name": "input", "shape": [2], "datatype": "BYTES", "parameters":
            {"content_type": "base64"}, "data": [base64.b64encode(png(x)).decode() for x in images[:2]]}]}  # fmt: skip
    inferred = api.post(f"/v2/models/{name}/infer", json=body).json()
    probabilities = next(o for o in inferred["outputs"] if o["name"] == "probabilities")
    assert probabilities["shape"] == [2, 2] and inferred["id"] == "r1"
    assert np.allclose(np.reshape(probabilities["data"], (2, 2)), medtransfer.load(run).predict_proba(images[:2]))
    card = api.get("/model-card").json()
    assert card["intended_use"].startswith("Research use only") and card["limitations"]
    assert card["classes"] == json.loads(meta["parameters"]["classes"])
    assert "Research use only" in api.get("/").text


def test_bad_requests_are_refused_in_words_and_the_server_stays_healthy(image_run):
    run, images = image_run
    api = client(run, max_upload_mb=0.05, max_batch=2)
    bad = [
        (api.post("/predict", content=b"hello", headers={"content-type": "text/plain"}), 415, "multipart"),
        (api.post("/predict", content=b"{not json", headers={"content-type": "application/json"}), 422, "malformed"),
        (api.post("/predict", files={"file": ("big.png", b"\x89PNG\r\n\x1a\n" + bytes(60_000))}), 413, "MB"),
        (api.post("/predict", files={"file": ("scan.png", b"\x89PNG\r\n\x1a\n" + b"broken" * 20)}), 422, "scan.png"),
        (api.post("/predict", files={"file": ("blob.bin", bytes(range(256)) * 4)}), 415, "blob.bin"),
        (api.post("/predict", json={"inputs": []}), 422, "empty batch"),
        (api.post("/predict", json={"inputs": "CCO"}), 422, "list of strings"),
        (api.post("/predict", files=[("file", (f"{i}.png", png(images[0]))) for i in range(3)]), 413, "at most 2"),
        (api.post("/predict", data={"other": "x"}, files={"x": ("a.png", b"")}), 422, "field 'file'"),
        (api.get("/v2/models/another"), 404, run.name),
        (api.post(f"/v2/models/{run.name}/infer", json={"inputs": []}), 422, "inputs"),
        (api.post(f"/v2/models/{run.name}/infer", json={"inputs": [{"name": "input", "shape": [1], "datatype": "BYTES",
                  "parameters": {"content_type": "base64"}, "data": ["***"]}]}), 422, "base64"),  # fmt: skip
        (api.post(f"/v2/models/{run.name}/infer", json={"inputs": [{"name": "input", "shape": [3], "datatype": "BYTES",
                  "data": ["a"]}]}), 422, "shape"),  # fmt: skip
    ]
    for response, status, needle in bad:
        refused(response, status, needle)
        assert api.get("/v2/health/ready").status_code == 200


def test_sequences_are_predicted_from_json_and_a_bad_residue_is_named(dna_run):
    run, sequences = dna_run
    api = client(run)
    rows = predicted_as_in_python(api, run, sequences)
    assert [r["id"] for r in rows] == ["input 1", "input 2"]
    refused(api.post("/predict", json={"inputs": [sequences[0], "ACGT123"]}), 422, "input 2", "skip_invalid=true")
    kept = api.post("/predict?skip_invalid=true", json={"inputs": [sequences[0], "ACGT123"]}).json()
    assert [r["id"] for r in kept["predictions"]] == ["input 1"] and "input 2" in json.dumps(kept["skipped"])
    inferred = api.post(f"/v2/models/{run.name}/infer", json={"inputs": [{"name": "input", "shape": [1],
                        "datatype": "BYTES", "data": sequences[:1]}]})  # fmt: skip
    assert inferred.status_code == 200 and next(o for o in inferred.json()["outputs"] if o["name"] == "label")


def test_an_api_key_guards_everything_but_health(image_run):
    run, images = image_run
    api = client(run, api_key="s3cret")
    assert api.get("/v2/health/live").status_code == 200
    refused(api.get("/model-card"), 401, "X-API-Key")
    assert api.get("/model-card", headers={"X-API-Key": "s3cret"}).status_code == 200
    assert json.loads(api.get("/openapi.json").text)["paths"]["/predict"]


def test_smiles_are_predicted_and_explained_per_atom_and_an_invalid_one_is_named(molecule_run):
    run, smiles = molecule_run
    api = client(run)
    rows = predicted_as_in_python(api, run, smiles, explain=True)
    assert all(r.get("explanation") for r in rows)
    refused(api.post("/predict", json={"inputs": [smiles[0], "C1CC"]}), 422, "input 2", "unclosed ring")
    assert api.get("/v2/health/ready").status_code == 200
