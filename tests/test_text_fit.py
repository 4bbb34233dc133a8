"""Clinical text end to end on a tiny BERT: a planted keyword is learnt beside the TF-IDF baseline, explained
word by word, and the saved model predicts new notes from .txt files and CSVs."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import medtransfer

pytestmark = pytest.mark.slow
WORDS = ["the", "lungs", "are", "clear", "heart", "size", "normal", "no", "acute", "disease", "mild", "opacity",
         "base", "left", "right", "mediastinum", "stable"]  # fmt: skip
KEYWORD = "effusion"


def note(rng: np.random.Generator, planted: bool) -> tuple[str, int]:
    """Twelve filler words; with ``planted``, the keyword at a random place. Returns the note and its word index."""
    words = list(rng.choice(WORDS, size=12))
    at = int(rng.integers(0, 12)) if planted else -1
    if planted:
        words.insert(at, KEYWORD)
    return " ".join(words) + ".", at


@pytest.fixture(scope="module")
def keyword_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("notes")
    rng = np.random.default_rng(0)
    with open(root / "notes.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["note", "label"])
        for i in range(240):
            writer.writerow([note(rng, i % 2 == 1)[0], KEYWORD if i % 2 else "clear"])
    result = medtransfer.fit(str(root / "notes.csv"), backbone="test_text_bert", strategy="full", epochs=20, lr=1e-3,
                             batch_size=32, progress=False, out=str(root / "run"))  # fmt: skip
    return result, root


def test_a_tiny_bert_learns_the_keyword_beside_the_tfidf_baseline(keyword_run):
    result, _ = keyword_run
    assert result.metrics["test"]["auroc"] > 0.9
    tfidf = next(v for k, v in result.metrics["baselines"].items() if k.startswith("TF-IDF"))
    assert tfidf["auroc"] > 0.9  # a keyword task is TF-IDF's home ground: the report must say so
    html = (result.run_dir / "report.html").read_text()
    assert "TF-IDF of word 1–2-grams" in html and "Explanations (test cases)" in html


def test_word_attributions_peak_on_the_planted_keyword(keyword_run, tmp_path):
    result, _ = keyword_run
    rng = np.random.default_rng(1)
    held_out = [note(rng, True) for _ in range(20)]
    path = tmp_path / "held_out.csv"
    path.write_text("text\n" + "".join(f"{t}\n" for t, _ in held_out))
    explained = medtransfer.explain(result.run_dir, [path], target=KEYWORD, out=tmp_path / "explained")
    peaks = [int(np.argmax(e.values)) for e in explained.explanations]
    hits = [p == at for p, (_, at) in zip(peaks, held_out, strict=True)]
    assert np.mean(hits) >= 0.8, f"top word is the keyword for {np.mean(hits):.0%} of 20 notes"
    assert explained.explanations[0].unit == "word" and len(explained.explanations[0].values) == 13
    assert len(list((tmp_path / "explained").glob("*.png"))) == 20


def test_the_saved_model_predicts_txt_files_and_csv_rows(keyword_run, tmp_path):
    result, _ = keyword_run
    (tmp_path / "a.txt").write_text(f"the heart is normal but a small {KEYWORD} on the left\n")
    (tmp_path / "b.txt").write_text("the lungs are clear and the heart size is normal\n")
    rows = medtransfer.predict(result.run_dir, [tmp_path / "a.txt", tmp_path / "b.txt"])
    assert [r["id"] for r in rows] == ["a.txt", "b.txt"]
    assert rows[0][f"prob_{KEYWORD}"] > 0.5 > rows[1][f"prob_{KEYWORD}"]
    (tmp_path / "new.csv").write_text(f"note\nmild {KEYWORD} right base\n")
    assert medtransfer.predict(result.run_dir, [tmp_path / "new.csv"])[0]["id"] == "new.csv:row 2"


def test_notes_are_served_one_document_per_input_and_an_empty_one_is_named(keyword_run):
    pytest.importorskip("fastapi")
    from tests.serving.test_app import client, predicted_as_in_python, refused

    result, _ = keyword_run
    api = client(result.run_dir)
    notes = [f"small {KEYWORD} at the left base\nheart size normal", "lungs are clear"]  # a line break stays inside
    rows = predicted_as_in_python(api, result.run_dir, notes, explain=True)
    assert [r["id"] for r in rows] == ["input 1", "input 2"] and "explanation" in json.dumps(rows[0])
    refused(api.post("/predict", json={"inputs": [notes[0], "   "]}), 422, "input 2", "empty text")
