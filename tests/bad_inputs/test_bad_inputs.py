"""Every case of the bad-input corpus: one line naming the file / row and the fix, exit 2, no run directory."""

from __future__ import annotations

import sys

import pytest

from medtransfer.data.sources import read_data
from tests.bad_inputs.corpus import CASES, HANDLED


def run_main(args: list[str], monkeypatch) -> int:
    from medtransfer.cli import main

    monkeypatch.setattr(sys, "argv", ["medtransfer", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_ends_in_one_clear_line(case, tmp_path, monkeypatch, capsys):
    args = case.build(tmp_path / "in")
    out = tmp_path / "run"
    code = run_main(["fit", *args, "--out", str(out), "--no-progress"], monkeypatch)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for needle in case.needles:
        assert needle in lines[0], lines[0]
    assert not out.exists() and not out.with_name("run.partial").exists()


@pytest.mark.parametrize("name", list(HANDLED))
def test_unusual_but_valid_inputs_are_read(name, tmp_path):
    data, expected_rows = HANDLED[name](tmp_path)
    table = read_data(data, for_training=False)
    assert len(table) == expected_rows
    assert all(x is not None for x in table.inputs)
