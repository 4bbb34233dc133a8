"""The served page in headless Chromium: upload a BreastMNIST image, read the prediction, see the explanation.

Playwright drives Debian's chromium (it cannot download its own browser here); the server runs on a free
localhost port in a thread. Set MEDTRANSFER_SCREENSHOT=path to keep the page's screenshot (docs/serve-page.png).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

import medtransfer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]


@pytest.fixture
def served(tmp_path):
    """A small BreastMNIST run served by uvicorn on a free port; yields (url, a test image as PNG)."""
    import uvicorn

    from medtransfer.data.sources import read_data
    from medtransfer.serving.app import create_app
    from tests.serving.test_app import png

    table = read_data("breastmnist")
    run = medtransfer.fit("breastmnist", backbone="test_efficientnet", image_size=32, epochs=1, batch_size=64,
                          head_hidden=16, positive_class="malignant", progress=False, gallery=False,
                          out=str(tmp_path / "run")).run_dir  # fmt: skip
    image = tmp_path / "breast.png"
    image.write_bytes(png(table.inputs[(table.split == "test").argmax()].squeeze()))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(run), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/", image
    server.should_exit = True
    thread.join(timeout=10)


def test_the_page_predicts_an_uploaded_image_and_shows_its_explanation(served, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    url, image = served
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_function("document.getElementById('title').textContent.includes(':')")
        assert "Research use only" in page.inner_text("body")
        page.set_input_files("#file", str(image))
        page.click("#go")
        page.wait_for_selector("#explanation-image", timeout=60_000)
        label = page.inner_text("#label")
        assert label.removeprefix("Prediction: ") in ("normal, benign", "malignant")  # BreastMNIST's classes
        assert "validation-chosen threshold" in page.inner_text("#decision")
        assert page.eval_on_selector("#explanation-image", "img => img.complete && img.naturalWidth > 0")
        assert len(page.query_selector_all(".bar")) == 2 and page.inner_text("#limitations")
        shot = Path(os.environ.get("MEDTRANSFER_SCREENSHOT", tmp_path / "page.png"))
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert not errors and shot.stat().st_size > 10_000
