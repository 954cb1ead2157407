"""KDDCUP99 (10% set) with the DAGMM preprocessing, and the paper's contamination protocol.

DAGMM's conventions (method-notes section 3): the minority `normal.` traffic (~20%) is the
ANOMALY class (label 1), every attack is "normal" (label 0). Features: one-hot protocol_type,
service and flag (categories in sorted order: 3 + 66 + 11 in the 10% file), then the 38
numeric columns min-max scaled with the min and max of the label-0 rows only (zero-range
columns become 0). The result matches the widely used `kdd_cup.npz` (118 features + label).
"""
from __future__ import annotations

import gzip
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SYMBOLIC = (1, 2, 3)  # protocol_type, service, flag (0-based raw column indices)
N_RAW = 42  # 41 features + label


def _open_text(path: Path):
    """The records as UTF-8 text; a byte-order mark (a spreadsheet's CSV export) is not part of the
    first field (its '\\ufeff0' was "not a number")."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8-sig")
    return open(path, "rt", encoding="utf-8-sig")


def load_kddcup_raw(path) -> tuple[np.ndarray, np.ndarray]:
    """Read `kddcup.data_10_percent(.gz)` and apply the DAGMM preprocessing -> (X float64, y int)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    rows = []
    try:
        with _open_text(path) as fh:
            for lineno, line in enumerate(fh, 1):
                line = line.strip()
                if not line:
                    continue
                fields = [f.strip() for f in line.split(",")]  # ", " between fields: the label " normal." was no label
                if len(fields) != N_RAW:
                    raise ValueError(f"{path}:{lineno}: expected {N_RAW} comma-separated fields, got {len(fields)}")
                rows.append(fields)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:  # a download cut short: not Click's "Aborted!"
        raise ValueError(f"{path}: truncated or corrupt gzip file ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a text file of KDDCUP99 records ({exc.reason} at byte {exc.start})") from None
    if not rows:
        raise ValueError(f"{path}: no records")
    raw = np.array(rows, dtype=object)
    y = (raw[:, -1] == "normal.").astype(np.int64)
    if not y.any():  # named here: the split said "no anomaly (label 1) row in the training half", of no file
        raise ValueError(f"{path}: no record is labelled 'normal.' (the last field; the protocol's anomaly class), "
                         f"e.g. record 1 ends {raw[0, -1]!r}")
    blocks = []
    for col in SYMBOLIC:
        values = raw[:, col].astype(str)
        cats = np.unique(values)  # sorted
        blocks.append((values[:, None] == cats[None, :]).astype(np.float64))
    numeric_cols = [c for c in range(N_RAW - 1) if c not in SYMBOLIC]
    try:
        num = raw[:, numeric_cols].astype(np.float64)
    except ValueError:  # only then look for the cell, to name it
        bad, col = next((i, c) for c in numeric_cols for i, v in enumerate(raw[:, c]) if not _is_number(v))
        header = " (a header line? KDDCUP99 records have none)" if bad == 0 and col == 0 else ""
        raise ValueError(f"{path}: record {bad + 1}, column {col + 1}: {raw[bad, col]!r} is not a number{header}") from None
    bad = ~np.isfinite(num)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"{path}: record {row + 1}, column {numeric_cols[col] + 1}: {raw[row, numeric_cols[col]]!r} "
                         "is not a finite number")
    ref = num[y == 0]
    if not ref.size:
        raise ValueError(f"{path}: no attack records (every record is 'normal.'): the scaling reads their range")
    lo, hi = ref.min(axis=0), ref.max(axis=0)
    span = hi - lo
    scaled = np.where(span > 0, (num - lo) / np.where(span > 0, span, 1.0), 0.0)
    X = np.concatenate(blocks + [scaled], axis=1)
    return X, y


def load_kddcup_npz(path) -> tuple[np.ndarray, np.ndarray]:
    """Read the DAGMM `kdd_cup.npz` (key 'kdd': features, then the label in the last column)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "kdd" not in data:
                raise ValueError(f"{path}: no 'kdd' array (keys: {list(data.keys())})")
            arr = data["kdd"]
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise ValueError(f"{path}: not a readable .npz file, truncated or corrupt ({exc})") from None
    except ValueError as exc:  # numpy's own: pickled objects, a text file under the name
        if str(exc).startswith(f"{path}:"):
            raise
        with open(path, "rb") as fh:
            archive = fh.read(4) == b"PK\x03\x04"  # numpy calls anything else a pickle
        why = ("it holds pickled objects, which are never loaded (a 'kdd' array of numbers is)" if archive
               else "not an .npz archive (numpy's zip of arrays)")
        raise ValueError(f"{path}: {why}") from None
    if arr.ndim != 2 or arr.shape[1] < 2 or not arr.shape[0]:
        raise ValueError(f"{path}: 'kdd' must be a table of rows (features, then the label), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise ValueError(f"{path}: 'kdd' holds {arr.dtype}, not real numbers")
    X, label = arr[:, :-1], arr[:, -1]
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"{path}: 'kdd' has {int(bad.sum())} values that are NaN or infinite among its features "
                         f"(first at row {row}, column {col})")
    odd = ~np.isin(label, (0, 1))
    if odd.any():
        row = int(np.flatnonzero(odd)[0])
        raise ValueError(f"{path}: the last column of 'kdd' is the label, 0 (attack) or 1 ('normal.' traffic, the "
                         f"anomaly class); {int(odd.sum())} rows hold something else "
                         f"(first: row {row}, {label[row]!r})")
    return X.astype(np.float64), label.astype(np.int64)


def load_kddcup(path) -> tuple[np.ndarray, np.ndarray]:
    """Either format, chosen by the file name (`.npz` in any case: the DAGMM array, else the raw records)."""
    return load_kddcup_npz(path) if str(path).lower().endswith(".npz") else load_kddcup_raw(path)


def _is_number(text) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class Split:
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    train_index: np.ndarray  # rows of the full data set, for diagnostics (e.g. attack types)
    test_index: np.ndarray


def contamination_split(X: np.ndarray, y: np.ndarray, contamination: float, seed: int) -> Split:
    """The paper's protocol (section 4.3): a random 50% of all rows is the test set; the
    training set is every majority-class (label 0) row of the other half plus anomalies
    (label 1, drawn from that half) so that they make up `contamination` of it. Where the half
    holds too few anomalies (20% on KDDCUP99), all of them are used and the majority rows are
    subsampled to keep the ratio."""
    if not 0.0 <= contamination < 1.0:
        raise ValueError(f"contamination must be in [0, 1), got {contamination}")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(X.shape[0])
    half = X.shape[0] // 2
    test, rest = perm[:half], perm[half:]
    normal = rest[y[rest] == 0]
    anomalies = rest[y[rest] == 1]
    n_anom = int(round(contamination * normal.size / (1.0 - contamination)))
    if n_anom > anomalies.size:
        # not enough anomalies in the half (KDDCUP99 at 20%): keep them all and subsample the
        # majority rows so that the ratio still holds
        n_anom = anomalies.size
        n_norm = int(round(n_anom * (1.0 - contamination) / contamination))
        normal = rng.choice(normal, n_norm, replace=False)
    if contamination > 0 and not anomalies.size:
        raise ValueError(f"no anomaly (label 1) row in the training half: contamination {contamination:g} needs some")
    if not normal.size:
        raise ValueError("no majority-class (label 0) row in the training half: nothing to train on")
    if contamination > 0 and n_anom == 0:  # trained on clean rows, reported as contaminated
        raise ValueError(f"contamination {contamination:g} of the training half's {normal.size} majority-class rows "
                         f"rounds to no anomaly row; give a share of at least {0.5 / (normal.size + 0.5):.2g}")
    train = np.concatenate([normal, rng.choice(anomalies, n_anom, replace=False)])
    train = train[rng.permutation(train.size)]
    return Split(X[train], y[train], X[test], y[test], train, test)
