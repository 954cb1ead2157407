"""Reading one numpy array from a `.npy` file someone else made (imported features, C3D's mean
cube, per-frame labels): every way such a file can be wrong is a ValueError naming the file and
the problem, and no file's bytes decide what is allocated or run before they are checked."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np


def read_npy(path) -> np.ndarray:
    """The array in `path`. Refused, naming the file: a folder or a missing file, an empty or
    cut-short file, an `.npz` archive under a `.npy` name (numpy returns an archive object, which
    failed later as an AttributeError), pickled objects (never loaded; numpy's own message advises
    loading them unsafely), a header claiming more data than the file holds (a 64-byte file asked
    for 35 PiB: a MemoryError traceback), anything else numpy cannot read."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: not a file")
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"{path}: the file is empty")
    if zipfile.is_zipfile(path):
        raise ValueError(f"{path}: an .npz archive of several arrays, not one .npy array (save the array "
                         "itself with np.save)")
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)  # 2.0, and 3.0's ASCII headers
            shape, _fortran, dtype = read_header(fh)
            start = fh.tell()
    except (ValueError, EOFError, OSError, SyntaxError) as exc:
        raise ValueError(f"{path}: not a .npy array file ({_short(exc)})") from None
    if dtype.hasobject:
        raise ValueError(f"{path}: holds pickled Python objects (dtype {dtype}), which are never loaded: "
                         "save the numbers themselves (a numeric array)")
    need = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if need > size - start:
        raise ValueError(f"{path}: its header says shape {tuple(shape)} of {dtype} ({need:,} bytes), the file "
                         f"holds {size - start:,}: cut short or damaged")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise ValueError(f"{path}: not a readable .npy array ({_short(exc)})") from None


def _short(exc: Exception) -> str:
    """numpy's reason, without its advice to load pickled data unsafely."""
    text = str(exc).split(" If you trust", 1)[0].strip() or type(exc).__name__
    return text[:200]
