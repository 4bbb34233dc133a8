"""Image readers: a class-per-folder tree, a CSV of paths, a MedMNIST-format .npz; DICOM via decode."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medtransfer.data.csv_table import GROUP_COLUMNS, pick_column, read_rows, require_column, split_column
from medtransfer.data.images.decode import IMAGE_SUFFIXES, common_channels, decode_many, to_channels
from medtransfer.data.labels import targets_from_rows
from medtransfer.data.options import ReadOptions
from medtransfer.data.table import SPLITS, SampleTable, classification_task, encode_class_labels
from medtransfer.data.task import TaskSpec
from medtransfer.errors import DataError

PATH_COLUMNS = ("path", "image", "file", "filename", "image_path")


def read_image_folder(root: Path) -> SampleTable:
    """``root/<class>/<image>``, or ``root/{train,val,test}/<class>/<image>`` for predefined splits."""
    split_dirs = [root / s for s in SPLITS if (root / s).is_dir()]
    if split_dirs and (root / "train").is_dir():
        entries = [(p, c, d.name) for d in split_dirs for p, c in _class_files(d)]
    else:
        entries = [(p, c, "") for p, c in _class_files(root)]
    paths = [e[0] for e in entries]
    targets, names = encode_class_labels([e[1] for e in entries], str(root))
    split = np.array([e[2] for e in entries]) if split_dirs else None
    return _image_table(paths, targets, classification_task(len(names), names), root, None, split)


def _class_files(root: Path) -> list[tuple[Path, str]]:
    classes = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DataError(
            f"{root} has no class sub-folders. Put each class's images in a folder of its own "
            f"({root}/<class>/<image>.png), or pass a CSV with path and label columns."
        )
    out = []
    for d in classes:
        files = sorted(p for p in d.rglob("*") if p.is_file() and not p.name.startswith("."))
        if not files:
            raise DataError(f"class folder {d} is empty. Add its images or remove the folder.")
        out += [(p, d.name) for p in files if p.suffix.lower() in IMAGE_SUFFIXES or not p.suffix]
    return out


def read_image_csv(path: Path, opts: ReadOptions) -> SampleTable:
    """A CSV with an image path column (relative to the CSV), label column(s), optional group and split."""
    header, rows = read_rows(path)
    path_col = pick_column(header, opts.path_column, PATH_COLUMNS)
    if path_col is None:
        raise DataError(
            f"{path.name} has no image path column; columns are: {', '.join(header)}. "
            "Pass --path-column with the column that holds file paths."
        )
    require_column(path, header, path_col, "--path-column")
    label_columns = [c.strip() for c in opts.label_column.split(",")]
    for c in label_columns:
        require_column(path, header, c, "--label-column")
    targets, task = targets_from_rows(rows, label_columns, opts.task, path.name)
    group_col = pick_column(header, opts.group_column, GROUP_COLUMNS)
    if group_col:
        require_column(path, header, group_col, "--group-column")
    split = split_column(rows, header, opts.split_column, path)
    paths = [(path.parent / r[path_col]).resolve() for r in rows]
    groups = [r[group_col] for r in rows] if group_col else None
    table = _image_table(paths, targets, task, path, groups, split)
    if opts.subgroup_columns:
        columns = [c.strip() for c in opts.subgroup_columns.split(",")]
        for c in columns:
            require_column(path, header, c, "--subgroup-column")
        table.attributes = {c: [r[c] or "(missing)" for r in rows] for c in columns}
    return table


def _image_table(
    paths: list[Path],
    targets: np.ndarray,
    task: TaskSpec,
    source: Path,
    groups: list[str] | None,
    split: np.ndarray | None,
) -> SampleTable:
    images = decode_many(paths, str(source))
    channels = common_channels(images)
    images = [to_channels(im, channels) for im in images]
    ids = [str(p) for p in paths]
    return SampleTable("image", images, targets, task, ids, groups, split, str(source))


def read_image_npz(path: Path, class_names: list[str] | None = None, task: str | None = None) -> SampleTable:
    """MedMNIST layout: ``{train,val,test}_images`` (N,H,W[,C]) uint8 and ``*_labels`` (N,1) or (N,L)."""
    try:
        data = np.load(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} is not a readable .npz file ({exc}).") from exc
    present = [s for s in SPLITS if f"{s}_images" in data.files and f"{s}_labels" in data.files]
    if not present:
        raise DataError(
            f"{path.name} has keys {data.files}; expected MedMNIST keys such as train_images and train_labels."
        )
    images, labels, split, ids = [], [], [], []
    for s in present:
        x, y = data[f"{s}_images"], data[f"{s}_labels"]
        if len(x) != len(y):
            raise DataError(f"{path.name}: {s}_images has {len(x)} rows but {s}_labels has {len(y)}.")
        x = x[..., None] if x.ndim == 3 else x
        images += [np.ascontiguousarray(im, dtype=np.uint8) for im in x]
        labels.append(y.reshape(len(y), -1))
        split += [s] * len(x)
        ids += [f"{s}/{i}" for i in range(len(x))]
    y = np.concatenate(labels)
    if y.shape[1] > 1 or task == "multilabel":
        names = tuple(class_names or [str(i) for i in range(y.shape[1])])
        spec, targets = TaskSpec("multilabel", names), y.astype(np.float32)
    else:
        n = int(y.max()) + 1
        names = tuple(class_names or [str(i) for i in range(n)])
        spec, targets = classification_task(len(names), names), y[:, 0].astype(np.int64)
    return SampleTable("image", images, targets, spec, ids, None, np.array(split), str(path))


def read_image_inputs(
    sources: list[Path], skip_invalid: bool = False
) -> tuple[list[np.ndarray], list[str], list[dict]]:
    """Unlabelled images for prediction: image files, folders of them, or a CSV with a path column.
    Unreadable files stop with one error naming each, or with ``skip_invalid`` are returned as dropped."""
    return decode_inputs(image_input_paths(sources), skip_invalid)


def image_input_paths(sources: list[Path]) -> list[Path]:
    """The image files named by ``sources`` (files, folders searched recursively, CSVs with a path column)."""
    paths: list[Path] = []
    for s in sources:
        if s.suffix.lower() in (".csv", ".tsv", ".txt"):
            header, rows = read_rows(s)
            col = pick_column(header, None, PATH_COLUMNS)
            if col is None:
                raise DataError(f"{s.name} has no path column; columns are: {', '.join(header)}.")
            paths += [(s.parent / r[col]).resolve() for r in rows]
        elif s.is_dir():
            paths += sorted(p for p in s.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            paths.append(s)
    if not paths:
        raise DataError(f"no images found in {', '.join(map(str, sources))}.")
    return paths


def decode_inputs(paths: list[Path], skip_invalid: bool) -> tuple[list[np.ndarray], list[str], list[dict]]:
    """(images, ids, dropped) of ``paths``: a bad file stops with an error naming it, or is dropped."""
    if not skip_invalid:
        return decode_many(paths, "the input"), [str(p) for p in paths], []
    images, ids, dropped = [], [], []
    for p in paths:
        try:
            images.append(decode_many([p], "the input")[0])
            ids.append(str(p))
        except DataError as exc:
            dropped.append({"row": str(p), "input": p.name, "reason": str(exc).split(": ", 2)[-1]})
    return images, ids, dropped
