"""Clinical text reading: CSV / JSON Lines / .txt folders, bad inputs named, near-copy groups, the
de-identification warning, the IU X-ray reports loader, and WordPiece tokens."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from medtransfer.data.options import ReadOptions
from medtransfer.data.sources import read_data
from medtransfer.data.text.features import exact_key, near_copy_clusters
from medtransfer.data.text.plugin import TextModality
from medtransfer.errors import DataError

REPORTS = [
    ("Heart size normal. Lungs are clear. No effusion.", "normal"),
    ("Mild cardiomegaly. Small left pleural effusion.", "abnormal"),
    ("No acute cardiopulmonary abnormality.", "normal"),
    ("Patchy opacity at the right base, pneumonia likely.", "abnormal"),
] * 5


def write_csv(path, rows, header="report,label"):
    path.write_text(header + "\n" + "".join(f'"{t}",{y}\n' for t, y in rows), encoding="utf-8")
    return path


def test_a_csv_with_a_report_column_is_text(tmp_path):
    table = read_data(write_csv(tmp_path / "reports.csv", REPORTS))
    assert table.modality == "text" and len(table) == 20
    assert table.task.class_names == ("abnormal", "normal")
    assert table.inputs[1].startswith("Mild cardiomegaly")
    assert len(set(table.groups)) == 4  # the five copies of each report share one split group


def test_modality_flag_overrides_what_the_columns_suggest(tmp_path):
    """English words are letters a protein alphabet holds: named as text, the 'sequence' column is text."""
    path = write_csv(tmp_path / "seq.csv", [("MILD EFFUSION SEEN", "a"), ("LUNGS CLEAR", "b")] * 4, "sequence,label")
    assert read_data(path).modality == "protein"
    table = read_data(path, ReadOptions(modality="text", input_column="sequence"))
    assert table.modality == "text" and table.inputs[0] == "MILD EFFUSION SEEN"


def test_a_malformed_row_is_named_with_its_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nlungs clear,normal\nsmall effusion, left side,abnormal\nclear,normal\n")
    with pytest.raises(DataError, match=r"bad.csv: 1 row\(s\) do not have the header's 2 fields: line 3 \(3 fields\)"):
        read_data(path)


def test_empty_texts_stop_the_run_or_are_dropped_on_request(tmp_path):
    rows = [*REPORTS[:8], ("", "normal"), ("   ", "abnormal")]
    path = write_csv(tmp_path / "gaps.csv", rows)
    with pytest.raises(DataError, match=r"2 invalid text\(s\): row 10: empty text; row 11: empty text"):
        read_data(path)
    table = read_data(path, ReadOptions(skip_invalid=True))
    assert len(table) == 8 and [d["row"] for d in table.dropped] == ["row 10", "row 11"]


def test_non_utf8_bytes_name_the_file_and_byte(tmp_path):
    folder = tmp_path / "notes"
    for label in ("normal", "abnormal"):
        (folder / label).mkdir(parents=True)
        for i in range(3):
            (folder / label / f"{i}.txt").write_text(f"{label} report number {i}", encoding="utf-8")
    (folder / "abnormal" / "latin.txt").write_bytes("épanchement pleural".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin.txt is not UTF-8 text \(byte 0"):
        read_data(folder)
    table = read_data(folder, ReadOptions(skip_invalid=True))
    assert len(table) == 6 and table.dropped[0]["row"] == "abnormal/latin.txt"
    assert "abnormal/0.txt" in table.ids


def test_json_lines_with_a_bad_line(tmp_path):
    path = tmp_path / "notes.jsonl"
    lines = [json.dumps({"note": t, "label": y}) for t, y in REPORTS]
    path.write_text("\n".join(lines) + "\n")
    table = read_data(path)
    assert table.modality == "text" and len(table) == 20 and table.ids[0] == "line 1"
    path.write_text("\n".join([*lines[:3], '{"note": "unclosed', *lines[3:]]) + "\n")
    with pytest.raises(DataError, match=r"notes.jsonl, line 4: not JSON"):
        read_data(path)


def test_near_copies_share_a_group_and_different_reports_do_not():
    texts = ["Heart size is normal. The lungs are clear. No pleural effusion or pneumothorax. No acute disease.",
             "Heart size is normal. The lungs are clear. No pleural effusion or pneumothorax. 1. No acute disease.",
             "HEART SIZE IS NORMAL.  The lungs are clear; no pleural effusion or pneumothorax. No acute disease",
             "Large right pleural effusion with compressive atelectasis of the right lower lobe."]  # fmt: skip
    groups = near_copy_clusters(texts)
    assert groups[0] == groups[1] == groups[2] != groups[3]
    assert exact_key(texts[0]) == exact_key(texts[2]) != exact_key(texts[1])


def test_identifiers_in_texts_are_warned_about(tmp_path, caplog):
    rows = [*REPORTS[:6], ("Seen on 03/14/2019, call 317-555-0142 with results.", "abnormal")]
    with caplog.at_level(logging.WARNING, logger="medtransfer"):
        read_data(write_csv(tmp_path / "phi.csv", rows))
    assert "may not be de-identified: 1 with a date (first: row 8); 1 with a phone number" in caplog.text


def test_baseline_features_are_stateless_ngram_counts():
    modality = TextModality()
    x = modality.simple_features(["pleural effusion", "no effusion", "pleural effusion"])
    assert x.shape[0] == 3 and np.array_equal(x[0], x[2]) and x[0].sum() > x[1].sum() > 0


def test_iu_reports_loader_counts():
    pytest.importorskip("torchxrayvision", reason="pip install --no-deps torchxrayvision==1.5.7")
    from medtransfer.data.catalog import load_dataset

    table = load_dataset("iu_xray_reports")
    assert len(table) == 3927 and len(table.dropped) == 28  # 3,955 reports, 28 with no findings or impression
    assert table.class_counts() == {"abnormal": 2564, "normal": 1363}
    assert table.task.class_names[table.task.positive_index] == "abnormal"
    assert table.ids[0] == "CXR1" and "cardiac silhouette" in table.inputs[0]
    findings = load_dataset("iu_xray_findings")
    assert findings.task.kind == "multilabel" and findings.class_counts()["cardiomegaly"] == 375
    assert findings.targets.shape == (3927, 11)


def test_wordpiece_splitter_matches_minilm_own_tokenizer():
    transformers = pytest.importorskip("transformers")
    from medtransfer.backbones.text_backbones import minilm_folder, wordpiece_spec
    from medtransfer.data.tokens import TokenEncoder
    from medtransfer.errors import BackboneError

    try:
        folder = minilm_folder()
    except BackboneError as exc:
        pytest.skip(str(exc))
    theirs = transformers.AutoTokenizer.from_pretrained(str(folder))
    ours = TokenEncoder(wordpiece_spec((folder / "vocab.txt").read_text().splitlines(), 256))
    for text in ("Normal heart size. XXXX opacity in the Left base; café 12/03/2011", "Pneumothoraces!! T11-T12"):
        assert ours.ids(text) == theirs(text)["input_ids"]
