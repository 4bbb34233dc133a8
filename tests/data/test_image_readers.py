"""Image readers on generated files: folders, CSV, .npz, DICOM, odd pixel formats, bad files named."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from medtransfer.data.images.decode import decode_image
from medtransfer.data.images.readers import read_image_csv, read_image_folder, read_image_npz
from medtransfer.data.options import ReadOptions
from medtransfer.data.sources import read_data
from medtransfer.errors import DataError


def test_folder_reader_gives_classes_and_images(image_folder):
    table = read_image_folder(image_folder)
    assert table.task.kind == "binary"
    assert table.task.class_names == ("benign", "malignant")
    assert len(table) == 24 and table.class_counts() == {"benign": 12, "malignant": 12}
    assert table.inputs[0].dtype == np.uint8 and table.inputs[0].shape == (24, 24, 1)


def test_folder_with_split_subfolders_keeps_them(tmp_path):
    for split in ("train", "val", "test"):
        for cls in ("a", "b"):
            folder = tmp_path / split / cls
            folder.mkdir(parents=True)
            for i in range(2):
                Image.new("L", (8, 8), 40 * i).save(folder / f"{i}.png")
    table = read_image_folder(tmp_path)
    assert sorted(set(table.split)) == ["test", "train", "val"]


def test_csv_reader_uses_columns_and_groups(image_csv):
    table = read_image_csv(image_csv, ReadOptions(label_column="diagnosis"))
    assert table.task.class_names == ("normal", "tumour")
    assert table.groups is not None and len(set(table.groups)) == 20


def test_csv_with_semicolons_and_bom(tmp_path, image_csv):
    text = image_csv.read_text().replace(",", ";")
    odd = image_csv.with_name("odd.csv")
    odd.write_bytes("\ufeff".encode() + text.encode())
    table = read_image_csv(odd, ReadOptions(label_column="diagnosis"))
    assert len(table) == 40


def test_csv_missing_label_column_names_columns_and_fix(image_csv):
    with pytest.raises(DataError) as err:
        read_image_csv(image_csv, ReadOptions(label_column="label"))
    msg = str(err.value)
    assert "'label' not found in labels.csv" in msg and "path, diagnosis, patient_id" in msg
    assert "--label-column" in msg


def test_csv_empty_label_names_the_row(image_csv):
    lines = image_csv.read_text().splitlines()
    lines[3] = lines[3].replace("tumour", "").replace("normal", "")
    image_csv.write_text("\n".join(lines))
    with pytest.raises(DataError, match="rows 4 have no value in column 'diagnosis'"):
        read_image_csv(image_csv, ReadOptions(label_column="diagnosis"))


def test_npz_reader_keeps_official_splits(npz_data):
    table = read_image_npz(npz_data)
    assert list(np.unique(table.split)) == ["test", "train", "val"]
    assert (table.split == "train").sum() == 60


def test_corrupt_and_empty_png_are_named(image_folder):
    bad = image_folder / "benign" / "0.png"
    bad.write_bytes(bad.read_bytes()[:60])  # truncated
    empty = image_folder / "malignant" / "3.png"
    empty.write_bytes(b"")
    with pytest.raises(DataError) as err:
        read_image_folder(image_folder)
    msg = str(err.value)
    assert "2 of 24 images" in msg and str(bad) in msg and str(empty) in msg and "empty" in msg


def test_empty_class_folder_is_an_error(image_folder):
    (image_folder / "unknown").mkdir()
    with pytest.raises(DataError, match="class folder .*unknown is empty"):
        read_image_folder(image_folder)


def test_class_with_one_example_is_refused(image_folder):
    (image_folder / "rare").mkdir()
    Image.new("L", (24, 24)).save(image_folder / "rare" / "only.png")
    with pytest.raises(DataError, match="class 'rare' \\(1\\).*fewer than 2 examples"):
        read_data(str(image_folder))


@pytest.mark.parametrize(
    ("mode", "value", "channels"),
    [
        ("L", 128, 1),
        ("RGB", (10, 200, 30), 3),
        ("RGBA", (10, 200, 30, 0), 3),
        ("I;16", 40000, 1),
        ("P", 7, 3),
    ],
)
def test_pixel_formats_decode_to_uint8(tmp_path, mode, value, channels):
    img = Image.new(mode, (16, 12), value)
    if mode == "P":
        img.putpalette([0, 0, 0] * 7 + [255, 0, 0] + [0, 0, 0] * 248)
    if mode == "I;16":
        img.putpixel((0, 0), 0)  # a range to scale
    path = tmp_path / f"x_{mode.replace(';', '')}.png"
    img.save(path)
    arr = decode_image(path)
    assert arr.dtype == np.uint8 and arr.shape == (12, 16, channels)
    if mode == "I;16":
        assert arr.max() == 255 and arr.min() == 0


def test_rgb_file_of_gray_picture_is_gray(tmp_path):
    Image.new("RGB", (8, 8), (90, 90, 90)).save(tmp_path / "g.png")
    assert decode_image(tmp_path / "g.png").shape == (8, 8, 1)


def test_dicom_files_shipped_by_pydicom_decode():
    from pydicom.data import get_testdata_file

    ct = decode_image(get_testdata_file("CT_small.dcm"))
    mr = decode_image(get_testdata_file("MR_small.dcm"))
    assert ct.shape == (128, 128, 1) and mr.shape == (64, 64, 1)
    assert ct.dtype == np.uint8 and ct.max() == 255 and ct.min() == 0


def test_dicom_in_a_class_folder_is_read(tmp_path):
    import shutil

    from pydicom.data import get_testdata_file

    for cls in ("ct", "mr"):
        for i in range(2):
            (tmp_path / cls).mkdir(exist_ok=True)
            src = get_testdata_file("CT_small.dcm" if cls == "ct" else "MR_small.dcm")
            shutil.copy(src, tmp_path / cls / f"{i}.dcm")
    table = read_image_folder(tmp_path)
    assert table.class_counts() == {"ct": 2, "mr": 2}
