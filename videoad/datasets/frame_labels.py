"""Per-frame ground truth, read as the intervals `Annotations` hold (built from these readers'
results by `videoad.datasets.annotations.read_frame_labels` / `read_ucsd_m`).

The public video anomaly sets that are not UCF-Crime ship their ground truth per frame, not as
intervals; these readers turn each video's labels into runs of anomalous frames (1-based,
inclusive), so that `videoad evaluate`, `plot`, `report` and `detect --annotations` take the
files as they are downloaded:

- ``frames``: a folder with one file per video, or a single such file. The video is the file's
  stem, a trailing ``_label`` / ``_labels`` / ``_gt`` / ``_mask`` removed. Each file is either a
  0/1 vector per frame (ShanghaiTech's ``test_frame_mask/01_0014.npy``; ``.txt`` with one or
  more numbers per line) or a mask per frame, any nonzero pixel marking the frame (ShanghaiTech's
  ``test_pixel_mask/*.npy``, shape (frames, H, W); CUHK Avenue's
  ``testing_label_mask/1_label.mat``, a ``volLabel`` cell of H x W masks, MATLAB v5 or v7.3).
  The vector's length is the video's frame count, checked against the scores.
- ``ucsd``: the official UCSD Anomaly Dataset's ``UCSDped1.m`` / ``UCSDped2.m``
  (``TestVideoFile{end+1}.gt_frame = [61:180];``), video k named ``Test%03d`` as its folder is.

A number-only video name matches a number-only store key of the same value (Avenue's
``1_label.mat`` is video ``01.avi``): see `Annotations.find`.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from extract.array_files import read_npy
from extract.text_files import read_text
from videoad.datasets.errors import AnnotationError

#: files a ``frames`` folder is read from; anything else in the folder is ignored
FRAME_FILE_SUFFIXES = (".npy", ".mat", ".txt")
_NAME_TAIL = re.compile(r"_(label|labels|gt|mask)$", re.IGNORECASE)
_UCSD_ENTRY = re.compile(r"TestVideoFile\s*\{\s*(end\s*\+\s*1|\d+)\s*\}\s*\.\s*gt_frame\s*=\s*\[([^\]]*)\]")


def runs_of(labels: np.ndarray) -> tuple[tuple[int, int], ...]:
    """Runs of nonzero entries of a per-frame vector as 1-based inclusive (start, end) pairs."""
    on = np.asarray(labels).astype(bool).ravel()
    edges = np.diff(np.concatenate([[False], on, [False]]).astype(np.int8))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return tuple((int(s) + 1, int(e)) for s, e in zip(starts, ends))


def video_name(path: Path) -> str:
    """The video a per-frame label file is for: its stem without a ``_label``-like tail."""
    return _NAME_TAIL.sub("", path.stem) or path.stem


def _per_frame(values, path: Path, what: str) -> np.ndarray:
    """A per-frame 0/1 vector from a vector (one value per frame) or masks (frames first)."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise AnnotationError(f"{path}: {what} is not numeric") from None
    if arr.ndim == 0 or arr.size == 0:
        raise AnnotationError(f"{path}: {what} holds no frames (shape {arr.shape})")
    if not np.isfinite(arr).all():
        raise AnnotationError(f"{path}: {what} holds NaN or infinite values")
    if (arr < 0).any():  # "any nonzero marks the frame" made a -1/+1 file's normal frames anomalous
        raise AnnotationError(f"{path}: {what} holds negative values (-1 for a normal frame? write 0 for normal, "
                              "1 for anomalous)")
    if arr.ndim == 2 and 1 in arr.shape:  # a MATLAB row or column vector
        arr = arr.ravel()
    if arr.ndim > 1:  # one mask per frame, frames first
        arr = (arr != 0).reshape(arr.shape[0], -1).any(axis=1)
    return arr != 0


def _masks(cells, path: Path) -> np.ndarray:
    """Avenue's ``volLabel``: a cell of per-frame masks -> one flag per frame."""
    if isinstance(cells, np.ndarray) and cells.dtype == object:
        flat = cells.ravel()
    else:  # a list of masks (np.asarray would stack equal-sized masks into one array)
        flat = np.empty(len(cells), dtype=object)
        flat[:] = list(cells)
    if flat.size == 0:
        raise AnnotationError(f"{path}: volLabel holds no frames")
    out = np.zeros(flat.size, dtype=bool)
    for i, mask in enumerate(flat):
        try:
            out[i] = bool(np.any(np.asarray(mask, dtype=np.float64) != 0))
        except (TypeError, ValueError):
            raise AnnotationError(f"{path}: volLabel frame {i + 1} is not a numeric mask") from None
    return out


def _from_mapping(data: dict, path: Path) -> np.ndarray:
    """The per-frame labels in a .mat file's variables: ``volLabel`` (masks), else its only array."""
    names = [k for k in data if not k.startswith("__")]
    if "volLabel" in names:
        return _masks(data["volLabel"], path)
    if len(names) != 1:
        raise AnnotationError(f"{path}: expected a 'volLabel' cell of masks or one per-frame array, "
                              f"found variables {names}")
    return _per_frame(data[names[0]], path, f"variable {names[0]!r}")


def _read_mat(path: Path) -> np.ndarray:
    from scipy.io import loadmat

    try:
        return _from_mapping(loadmat(path), path)
    except NotImplementedError:  # MATLAB v7.3: an HDF5 file
        return _read_mat73(path)
    except (ValueError, OSError) as exc:
        raise AnnotationError(f"{path}: not a readable MATLAB file ({exc})") from None


def _read_mat73(path: Path) -> np.ndarray:
    """A v7.3 .mat (HDF5): cells are datasets of references; MATLAB stores arrays transposed."""
    import h5py

    with h5py.File(path, "r") as fh:
        names = [k for k in fh if not k.startswith("#")]
        if "volLabel" in names:
            refs = np.asarray(fh["volLabel"][()]).ravel()
            return _masks([fh[r][()] for r in refs], path)
        if len(names) != 1 or not isinstance(fh[names[0]], h5py.Dataset):
            raise AnnotationError(f"{path}: expected a 'volLabel' cell of masks or one per-frame array, "
                                  f"found {names}")
        return _per_frame(fh[names[0]][()], path, f"variable {names[0]!r}")


def read_frame_file(path) -> np.ndarray:
    """One video's per-frame labels (bool per frame) from a .npy, .mat or .txt file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            values = read_npy(path)
        except ValueError as exc:
            raise AnnotationError(str(exc)) from None
        return _per_frame(values, path, "the array")
    if suffix == ".mat":
        return _read_mat(path)
    if suffix == ".txt":
        try:
            text = read_text(path, "a per-frame label file")
        except ValueError as exc:
            raise AnnotationError(str(exc)) from None
        values = []
        for i, line in enumerate(io.StringIO(text, newline=None), 1):
            for tok in line.split():
                try:
                    values.append(float(tok))
                except ValueError:
                    raise AnnotationError(f"{path}:{i}: expected one number per frame, got {tok[:40]!r}") from None
        return _per_frame(values, path, "the file")
    raise AnnotationError(f"{path}: per-frame labels are read from {', '.join(FRAME_FILE_SUFFIXES)} files")


def label_files(path) -> list[tuple[str, np.ndarray, str]]:
    """(video, per-frame flags, file) for one file, or for every label file of a folder."""
    path = Path(path)
    if path.is_dir():
        # hidden files skipped, as the walk for videos skips them: macOS's `._<name>.npy` beside each
        # label file (its metadata on a shared or USB drive) failed the whole folder as unreadable
        files = sorted(p for p in path.iterdir()
                       if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in FRAME_FILE_SUFFIXES)
        if not files:
            raise AnnotationError(f"{path}: no per-frame label files ({', '.join(FRAME_FILE_SUFFIXES)}) in the folder")
    elif path.is_file():
        files = [path]
    else:
        raise AnnotationError(f"{path}: no such file or folder")
    seen: dict[str, Path] = {}
    out = []
    for f in files:
        name = video_name(f)
        if name in seen:
            raise AnnotationError(f"{f}: a second label file for video {name!r} ({seen[name]})")
        seen[name] = f
        out.append((name, read_frame_file(f), str(f)))
    return out


def _ucsd_frames(body: str, where: str) -> tuple[tuple[int, int], ...]:
    """``61:180`` / ``1:5, 10:20`` / ``7`` -> 1-based inclusive intervals."""
    out = []
    for tok in re.split(r"[,;\s]+", body.strip()):
        if not tok:
            continue
        m = re.fullmatch(r"(\d+)(?::(\d+))?", tok)
        if m is None:
            raise AnnotationError(f"{where}: cannot read {tok!r} as a frame or a range a:b")
        s, e = int(m.group(1)), int(m.group(2) or m.group(1))
        if s < 1 or e < s:
            raise AnnotationError(f"{where}: range {tok!r} is not 1-based and increasing")
        out.append((s, e))
    return tuple(out)


def _matlab_code(text: str) -> str:
    """`text` with MATLAB's comments blanked, lines kept where they are: a ``%`` to the end of its
    line, and the lines from a ``%{`` to its ``%}`` (each alone on its line; they nest)."""
    lines, depth = [], 0
    for line in text.split("\n"):
        mark = line.strip()
        if mark == "%{" or (depth and mark == "%}"):
            depth += 1 if mark == "%{" else -1
            lines.append("")
        else:
            lines.append("" if depth else line.split("%", 1)[0])
    return "\n".join(lines)


def ucsd_m_entries(path) -> list[tuple[str, tuple[tuple[int, int], ...]]]:
    """(video, intervals) of the UCSD Anomaly Dataset's ``UCSDped1.m`` / ``UCSDped2.m``: video k
    is ``Test%03d``, as its folder is named."""
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"{path}: no such file")
    # a commented-out entry was read as a video's, and every later video took the labels of the one before
    text = _matlab_code(path.read_text(encoding="utf-8", errors="replace"))
    entries: dict[str, tuple[tuple[int, int], ...]] = {}
    last = 0
    for m in _UCSD_ENTRY.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        # MATLAB's end+1 is one past the highest index given so far, not the count of entries: after
        # {5}, {end+1} is video 6 (it was 2); "end\t+ 1" is end+1 too (it was a ValueError)
        index = last + 1 if m.group(1).startswith("end") else int(m.group(1))
        last = max(last, index)
        name = f"Test{index:03d}"
        if name in entries:
            raise AnnotationError(f"{path}:{line}: video {name} is given twice")
        entries[name] = _ucsd_frames(m.group(2), f"{path}:{line}")
    if not entries:
        raise AnnotationError(f"{path}: no 'TestVideoFile{{end+1}}.gt_frame = [...]' lines (not a UCSD .m file)")
    return list(entries.items())
