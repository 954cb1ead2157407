"""Where the data sets are: never the working directory.

A command that reads a data set takes `--data PATH`: the data file (or the dataset's own
folder) itself, or a data folder laid out like the project's shared data folder. Without
`--data`, the folder named by the environment variable `VIDEOAD_DATA` is used. The layout:

    kddcup99/kdd_cup.npz                 (or kddcup99/kddcup.data_10_percent.gz)
    mnist/                               t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz), ...
    cifar10/cifar10_test_jpg.zip         (or the python batches, or class folders)
    ucsd_ped2/, ucf_crime/, videos/      (the video data the docs' commands name)

Relative data paths in the benchmark configs (`dataset.path: mnist`) are relative to that
folder.
"""
from __future__ import annotations

import os
from pathlib import Path

ENV = "VIDEOAD_DATA"
LAYOUT = "a folder laid out like shared/data (kddcup99/, mnist/, cifar10/, ...)"
KDDCUP_FILES = ("kddcup99/kdd_cup.npz", "kddcup99/kddcup.data_10_percent.gz", "kddcup99/kddcup.data_10_percent",
                "kdd_cup.npz", "kddcup.data_10_percent.gz")


def data_root() -> Path | None:
    """The folder `VIDEOAD_DATA` names, or None when it is not set; set to something that is
    not a folder, it is an error."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return None
    root = Path(value).expanduser()
    if not root.is_dir():
        raise ValueError(f"{ENV}={value}: not a folder (it should be {LAYOUT})")
    return root


def _hint(what: str) -> str:
    return f"pass --data PATH (the {what}, or {LAYOUT}) or set {ENV} to such a folder"


def _roots(data: Path | None) -> list[Path]:
    """Where to look: `data` when the user named it, else `VIDEOAD_DATA`'s folder (if set)."""
    root = data if data is not None else data_root()
    return [] if root is None else [root]


def locate(relative, what: str, data: Path | None = None) -> Path:
    """`relative` (a path inside the data folder, or an absolute path) as an existing path: under
    `data` when given (a folder that lacks it is an error: the user named where the data is),
    else under `VIDEOAD_DATA`."""
    rel = Path(relative).expanduser()
    if rel.is_absolute():
        if not rel.exists():
            raise ValueError(f"{what}: {rel} does not exist")
        return rel
    roots = [r for r in _roots(data) if Path(r).is_dir()]
    for root in roots:
        if (Path(root) / rel).exists():
            return Path(root) / rel
    if not roots:
        raise ValueError(f"{what}: no data folder to find {rel} in; {_hint(what)}")
    raise ValueError(f"{what}: {rel} is not in {', '.join(map(str, roots))}; {_hint(what)}")


def kddcup_file(data: Path | None = None) -> Path:
    """The KDDCUP99 file: `data` itself when it is a file, else the first of `KDDCUP_FILES`
    under `data` (a folder), or, without `data`, under `VIDEOAD_DATA` (a `--data` folder without
    the file is an error: falling back to the variable ran on data the user did not name)."""
    if data is not None:
        data = Path(data).expanduser()
        if data.is_file():
            return data
        if not data.is_dir():
            raise ValueError(f"--data {data}: no such file or folder")
    roots = _roots(data)
    for root in roots:
        for rel in KDDCUP_FILES:
            if (root / rel).is_file():
                return root / rel
    what = "kdd_cup.npz or kddcup.data_10_percent(.gz) file"
    if data is not None:
        raise ValueError(f"--data {data}: no KDDCUP99 file in it (kddcup99/kdd_cup.npz or "
                         f"kddcup99/kddcup.data_10_percent.gz); pass --data the {what} itself, or {LAYOUT}")
    where = f"in {', '.join(map(str, roots))}" if roots else "(no data folder given)"
    raise ValueError(f"no KDDCUP99 file (kddcup99/kdd_cup.npz or kddcup99/kddcup.data_10_percent.gz) {where}; "
                     + _hint(what))
