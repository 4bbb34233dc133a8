"""The report is one self-contained file: every image embedded and decodable, and Chromium opens it cleanly."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess

import pytest
from PIL import Image

import medtransfer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from tests.conftest import planted_npz

    folder = tmp_path_factory.mktemp("report")
    npz = planted_npz(folder / "planted.npz")
    result = medtransfer.fit(
        npz,
        backbone="test_efficientnet",
        image_size=32,
        epochs=2,
        head_hidden=16,
        progress=False,
        out=str(folder / "run"),
    )
    return result.run_dir / "report.html"


def test_report_embeds_decodable_images_and_loads_nothing_external(report):
    html = report.read_text()
    sources = re.findall(r'<img[^>]+src="([^"]+)"', html)
    assert len(sources) >= 5
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).verify()
    assert not re.search(r'(src|href)="(https?:)?//', html)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test installs it as root)")
def test_report_opens_in_headless_chromium_without_console_errors(report, tmp_path):
    res = subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Not a medical device" in res.stdout and res.stdout.count("<img") >= 5
    console = [line for line in res.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
