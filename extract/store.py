"""The HDF5 feature store: one file per video, written atomically, plus a reader.

Layout of a store root:

    <key>.h5                 one per video; <key> is the video's path relative to the input root
    manifest.json            done / failed videos with reasons (manifest.shard-i-of-N.json per shard)

Each `<key>.h5` holds `features` (n_clips, dim) float32 (float16 on request), `frames`
(n_clips, 2) int64 with the first and last source frame of each clip (0-based, inclusive), and
attributes that say how it was made (see `REQUIRED_ATTRS` and docs/extract.md).

Schema version 2 adds, when the backbone has a spatial layout, `cells` (n_clips, rows * cols,
cell_dim): the clip's features per cell of a `cell_grid` = [rows, cols] grid (row-major, top-left
first), kept beside the clip vector so that detection can score where in the frame something
happens, and optionally `cell_region` = [x0, y0, x1, y1]: the part of the source frame the grid
covers, as fractions of its width and height (a centre crop covers less than the whole frame).
Version 1 files (no cells) still read: their `cells` is None.

A file only ever appears under its final name complete: it is written to a hidden temporary
name beside it and renamed with `os.replace`, so a crash leaves at most a `.*.tmp` file that
no reader lists. The files are the truth: a store written by `write_video` alone (a feature
importer, say) with no manifest is a complete store.
"""
from __future__ import annotations

import errno
import hashlib
import io
import json
import logging
import math
import os
import re
import unicodedata
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Iterator, Mapping

import h5py
import numpy as np

from . import __version__

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
#: schema versions this reader understands (1: no cells)
READABLE_VERSIONS = (1, 2)
SUFFIX = ".h5"
#: attributes every feature file carries (others are optional provenance)
REQUIRED_ATTRS = ("n_frames", "fps", "clip_len", "stride", "backbone")
#: group name for keys that sit at the store root when grouping by folder
ROOT_GROUP = "."


#: errors that say the store cannot take any more writes (not a problem of one video)
_OUTPUT_ERRNOS = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
                  errno.EROFS: "the file system is read-only"}
#: the same for a write that stands for the whole store (its manifest): one feature file another
#: user owns fails its video alone, a manifest that cannot be written stops the run
_STORE_ERRNOS = {errno.EACCES: "permission denied", errno.EPERM: "operation not permitted"}


class OutputError(OSError):
    """The store cannot be written (disk full, read-only): the run stops, finished files stay.

    `summary`: what the run did before it stopped, when a run raised it (see `extract.run`).
    """

    summary = None

    def __str__(self) -> str:
        return str(self.strerror)  # the message alone, without "[Errno 28]"


def output_error(path: str | os.PathLike, exc: OSError, *, store: bool = False) -> OSError:
    """`exc` as an `OutputError` naming `path` and what to do, when it means the whole store
    is unwritable (disk full, read-only; with `store`, the write of the store's own manifest, also
    permission denied); otherwise `exc` unchanged (a problem of one file)."""
    what = _OUTPUT_ERRNOS.get(exc.errno) or (_STORE_ERRNOS.get(exc.errno) if store else None)
    if what is None:
        return exc
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "choose a writable folder with -o"
    else:
        hint = "free some space (or choose another folder with -o), then rerun the same command"
    error = OutputError(exc.errno, f"cannot write {path}: {what}; {hint}")
    error.filename = os.fspath(path)
    return error


def empty_store_message(root: str | os.PathLike) -> str:
    """What to say of a feature store with no feature file: a folder of videos (or frames) given where
    features are wanted is named as such, with the command that makes them."""
    from .sources import find_sources

    try:
        videos = len(find_sources(root, recursive=True).sources)
    except (OSError, ValueError):
        videos = 0
    runs = _run_stores(root)
    told = (f"; the features `videoad run` made there are in {', '.join(map(str, runs[:2]))}"
            + (f" and {len(runs) - 2} more" if len(runs) > 2 else "")) if runs else ""
    if videos:
        return (f"{root}: holds {videos} video(s) or frame folder(s) and no feature file: extract them first "
                f"(`videoad extract {root} -o FEATURES`), or give the videos to `videoad run`{told}")
    return f"{root}: the feature store holds no videos{told}"


def _run_stores(root) -> list[Path]:
    """The feature stores of `videoad run` outputs below `root` (their `features` folders), if any."""
    from .sources import is_videoad_output

    found = []
    for folder, dirs, _ in os.walk(root):
        if is_videoad_output(folder) and Path(folder) != Path(root):
            if (Path(folder) / "features").is_dir():
                found.append(Path(folder) / "features")
            dirs[:] = []
        else:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
        if len(found) > 5:
            break
    return sorted(found)


def blocking_file(path: str | os.PathLike) -> Path | None:
    """The file standing where `path` or one of the folders above it should be, if any (an
    output folder given under a file)."""
    path = Path(path)
    return next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)


class StoreReadError(ValueError):
    """A feature file that cannot be read; the message names it and says how to redo it."""


@dataclass
class VideoFeatures:
    key: str
    features: np.ndarray  # (n_clips, dim) float32
    frames: np.ndarray    # (n_clips, 2) int64, first/last source frame, inclusive
    attrs: dict[str, Any] = field(default_factory=dict)
    cells: np.ndarray | None = None  # (n_clips, n_cells, cell_dim), when loaded and stored
    frame_times: np.ndarray | None = None  # (n_frames,) s from the first: frames that keep no one rate

    @property
    def cell_grid(self) -> tuple[int, int] | None:
        grid = attr_list(self.attrs.get("cell_grid"))
        return (int(grid[0]), int(grid[1])) if grid else None

    @property
    def cell_region(self) -> tuple[float, float, float, float] | None:
        """(x0, y0, x1, y1) of the source frame the cells cover, as fractions; None if unrecorded."""
        region = attr_list(self.attrs.get("cell_region"))
        return tuple(float(v) for v in region) if region else None

    @property
    def n_clips(self) -> int:
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        return int(self.features.shape[1])


def check_key(key: str) -> str:
    """A key is a relative POSIX path without '..'; it becomes a path under the store root."""
    posix = PurePosixPath(key)
    if not key or not posix.parts or posix.is_absolute() or ".." in posix.parts or "\\" in key \
            or key != posix.as_posix():
        raise ValueError(f"invalid store key {key!r}: use a relative POSIX path like 'a/b.mp4'")
    if any(part.startswith(".") for part in posix.parts):
        raise ValueError(f"invalid store key {key!r}: hidden names are reserved for temporary files")
    return key


def key_path(root: str | os.PathLike, key: str) -> Path:
    return Path(root) / (check_key(key) + SUFFIX)


def name_folding(folder: str | os.PathLike) -> tuple[bool, bool]:
    """(case, accents): whether the file system of `folder` (which must exist) takes two names that
    differ only in letter case, or only in how their accents are encoded (Unicode NFC against NFD),
    for one file: macOS's and Windows' file systems by default, exFAT drives. Found by a probe file."""
    folder = Path(folder)
    probe = folder / f".videoad-name-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}-\u00e9a"  # "é" composed
    try:
        probe.touch()
    except OSError:  # nothing can be written there: the write itself fails later, named
        return False, False
    try:
        upper = probe.with_name(probe.name[:-1] + "A")
        decomposed = probe.with_name(unicodedata.normalize("NFD", probe.name))
        return upper.exists(), decomposed.exists()
    finally:
        probe.unlink(missing_ok=True)


def folded_clashes(root: str | os.PathLike, keys) -> dict[str, str]:
    """The keys whose feature files would be one file under `root` (`A.mp4` and `a.mp4` where the file
    system ignores case; `é` composed and decomposed where it ignores that), each with why: the later
    of each such pair, in key order. Where nothing can clash, no probe is made (`name_folding`). On
    such a drive the second video's features replaced the first's under its name, and the first key
    then read the other video's features."""
    def fold(key: str, case: bool, accents: bool) -> str:
        key = unicodedata.normalize("NFC", key) if accents else key
        return key.casefold() if case else key

    keys = sorted(keys)
    if len({fold(k, True, True) for k in keys}) == len(keys):
        return {}
    case, accents = name_folding(root)
    if not (case or accents):
        return {}
    first: dict[str, str] = {}
    out = {}
    for key in keys:
        other = first.setdefault(fold(key, case, accents), key)
        if other != key:
            how = "letter case" if fold(key, False, accents) != fold(other, False, accents) else "accents' encoding"
            out[key] = (f"its feature file would be the one of {other!r}: the two names differ only in {how}, and "
                        f"the file system of {root} does not tell such names apart; rename one of the two videos "
                        "(or extract to a folder on another drive)")
    return out


#: a feature file's name longer than this (bytes) gets a shortened temporary name: a file system
#: allows 255 bytes, and `.<name>.<pid>-<id>.tmp` adds some 20 to a name that may already be 250
TEMP_NAME_LIMIT = 200


def temp_prefix(final: Path) -> str:
    """Temporary files of `final` are `.<name>.<unique>.tmp` beside it; for a long name, its first
    120 bytes and a digest of the whole (`TEMP_NAME_LIMIT`), so that a video whose name is near the
    file system's limit is still written."""
    name = final.name
    raw = os.fsencode(name)  # a name that is not UTF-8 (Latin-1 `caf\xe9.avi.h5`) is its bytes on disk
    if len(raw) <= TEMP_NAME_LIMIT:
        return f".{name}."
    short = os.fsdecode(raw[:120]).encode("utf-8", "ignore").decode("utf-8")  # never half a character
    return f".{short}~{hashlib.sha1(raw).hexdigest()[:12]}."


def temp_path(final: Path) -> Path:
    """A temporary beside `final` of this process's own, `.<name>.<pid>-<id>.tmp`: what
    `remove_stale_temporaries` recognises, and clears once its writer is gone."""
    return final.with_name(f"{temp_prefix(final)}{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def write_video(root: str | os.PathLike, key: str, features: np.ndarray, frames: np.ndarray,
                attrs: Mapping[str, Any], dtype: str = "float32", cells: np.ndarray | None = None,
                cell_grid: tuple[int, int] | None = None, frame_times: np.ndarray | None = None) -> Path:
    """Write one video's features atomically and return the final path.

    `attrs` must contain `REQUIRED_ATTRS`; values may be str, numbers, bools, None (stored as
    "none") or JSON-able containers (stored as JSON text). Usable by feature importers.
    `cells` (n_clips, rows * cols, cell_dim) with its `cell_grid` (rows, cols): the per-cell
    features, stored beside the clip vectors; `attrs["cell_region"]`, when given, says which
    part of the frame they cover ([x0, y0, x1, y1], fractions). `frame_times`: each decoded
    frame's time (s, from the first) for frames that do not keep one rate (extract.timing), so
    that seconds are read from them rather than from the average rate.
    """
    features = np.asarray(features)
    if (cells is None) != (cell_grid is None):
        raise ValueError("cells and cell_grid go together: give both or neither")
    if cells is not None:
        cells = np.asarray(cells)
        rows, cols = (int(g) for g in cell_grid)
        if cells.ndim != 3 or cells.shape[:2] != (features.shape[0], rows * cols):
            raise ValueError(f"cells must be (n_clips, rows * cols, cell_dim) = ({features.shape[0]}, "
                             f"{rows * cols}, d) for a {rows}x{cols} grid, got shape {cells.shape}")
    if "cell_region" in attrs:
        _check_region(attrs["cell_region"], cells is not None)
    frames = np.asarray(frames, dtype=np.int64)
    if features.ndim != 2:
        raise ValueError(f"features must be (n_clips, dim), got shape {features.shape}")
    if frames.shape != (features.shape[0], 2):
        raise ValueError(f"frames must be (n_clips, 2) = {(features.shape[0], 2)}, got {frames.shape}")
    if len(frames) and (np.any(frames[:, 0] > frames[:, 1]) or np.any(frames < 0)):
        raise ValueError("frames must hold 0-based first <= last frame indices")
    missing = [name for name in REQUIRED_ATTRS if name not in attrs]
    if missing:
        raise ValueError(f"attrs lack {missing} (required: {list(REQUIRED_ATTRS)})")
    if frame_times is not None and (np.shape(frame_times) != (int(attrs["n_frames"]),)
                                    or np.any(np.diff(frame_times) < 0)):
        raise ValueError(f"frame_times must be the {attrs['n_frames']} frames' times in order, got shape "
                         f"{np.shape(frame_times)}")
    if dtype not in ("float32", "float16"):
        raise ValueError(f"dtype must be float32 or float16, got {dtype!r}")

    with np.errstate(over="ignore", invalid="ignore"):
        stored_features = features.astype(dtype, copy=False)
        stored_cells = None if cells is None else cells.astype(dtype, copy=False)
    for what, values in (("features", stored_features), ("cell features", stored_cells)):
        if values is not None and not np.isfinite(values).all():  # a fit failed on them later, naming no video
            bad = np.argwhere(~np.isfinite(values))[0]
            raise ValueError(f"{key}: its {what} hold {int((~np.isfinite(values)).sum())} value(s) that are not "
                             f"finite {dtype} numbers (first at clip {int(bad[0])}): weights holding NaN or inf, or "
                             f"values beyond {dtype}'s range")
    final = key_path(root, key)
    # HDF5 is built in memory and written with plain file I/O: a full disk is then an
    # ordinary OSError, not an HDF5 file left half-open in the library (which crashed the
    # interpreter at exit with "Can't decrement id ref count")
    image = io.BytesIO()
    with h5py.File(image, "w") as f:
        f.create_dataset("features", data=stored_features)
        f.create_dataset("frames", data=frames)
        stored = {"format_version": FORMAT_VERSION, "key": key, "extract_version": __version__,
                  "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "n_clips": int(features.shape[0]),
                  "dim": int(features.shape[1]), **attrs}
        if cells is not None:
            f.create_dataset("cells", data=stored_cells)
            stored.update(cell_grid=[rows, cols], cell_dim=int(cells.shape[2]))
        if frame_times is not None:
            f.create_dataset("frame_times", data=np.asarray(frame_times, dtype=np.float64))
        for name, value in stored.items():
            set_attr(f.attrs, name, _to_attr(value))
    write_atomic(final, image.getbuffer())
    return final


def remove_stale_temporaries(finals) -> list[Path]:
    """Delete the temporaries `write_atomic` left beside each of the files `finals` when a kill
    landed mid-write, and return them; one listing per folder. A temporary of a process still
    running is another run writing the same file now (two runs into one output): left alone, for
    it to rename."""
    removed: list[Path] = []
    owned: dict[Path, set[str]] = {}
    for final in finals:
        owned.setdefault(Path(final).parent, set()).add(temp_prefix(Path(final)))
    for folder, prefixes in owned.items():
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            # ".<name>.<pid>-<id>.tmp" -> ".<name>."
            head, _, rest = entry.name.rpartition(".tmp")
            if rest or not head:
                continue
            prefix, _, unique = head.rpartition(".")
            if prefix + "." in prefixes and not _writer_alive(unique):
                _remove_temporary(entry.path, removed)
    return removed


#: a feature file's temporary (`temp_path` of `<key>.h5`, or of a long name: `temp_prefix`) and a
#: manifest's, at the store's root; `<pid>-<id>` or `extract.scene`'s `<pid>-scene`
_FEATURE_TEMP = re.compile(r"\..*(\.h5|~[0-9a-f]{12})\.(\d+-[0-9a-z]+)\.tmp")
_MANIFEST_TEMP = re.compile(r"\.manifest(\.shard-\d+-of-\d+)?\.json\.(\d+-[0-9a-z]+)\.tmp")


def remove_store_temporaries(root: str | os.PathLike) -> list[Path]:
    """Delete every feature file's and manifest's temporary in the store `root` whose writer is
    not running, and return them: those of videos no longer in the input, or of another sharding,
    that `remove_stale_temporaries` of a run's own videos left for good. Only for a caller that
    holds the store alone (an unsharded extraction, a merge: `videoad.output_lock`): the shards
    of one run write at once, maybe on other machines, where a process id says nothing."""
    removed: list[Path] = []
    for folder, files in _store_folders(root):
        top = Path(folder) == Path(root)
        for name in files:
            match = _FEATURE_TEMP.fullmatch(name) or (_MANIFEST_TEMP.fullmatch(name) if top else None)
            if match and not _writer_alive(match.group(2)):
                _remove_temporary(os.path.join(folder, name), removed)
    return removed


def removed_note(root: str | os.PathLike, removed: list[Path]) -> str:
    """What a command says, once, of the temporaries it removed from the store `root`, named."""
    names = sorted(os.path.relpath(p, root) for p in removed)
    return (f"removed {len(names)} half-written temporary file(s) an interrupted run left in {root}: "
            + ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else ""))


def _remove_temporary(path: str, removed: list[Path]) -> None:
    log.info("removing %s, left by an interrupted run", path)
    Path(path).unlink(missing_ok=True)
    removed.append(Path(path))


def _store_folders(root: str | os.PathLike) -> Iterator[tuple[str, list[str]]]:
    """(folder, file names) of each folder of a store: hidden folders and videoad's outputs below it
    (a `videoad run` into the footage folder given as FEATURES, a report) hold none of its videos
    (their scores' cells.h5 was read as one)."""
    from .sources import is_videoad_output

    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and not is_videoad_output(os.path.join(folder, d))]
        yield folder, files


def remove_dead_temporaries(folder) -> None:
    """Every temporary in `folder` whose writer is gone, its final name unknown beforehand: a
    folder of one writer's files (a report's events/, a watch's day of event pictures), where
    `remove_stale_temporaries` needed each final derived from its temporary by a pattern of its own."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        head, _, rest = entry.name.rpartition(".tmp")
        unique = head.rpartition(".")[2]
        if not rest and head.startswith(".") and re.fullmatch(r"\d+-[0-9a-f]+", unique) and not _writer_alive(unique):
            _remove_temporary(entry.path, [])


def _writer_alive(unique: str) -> bool:
    """Whether the process that named a temporary `<pid>-<id>` is running (and is not this one)."""
    try:
        pid = int(unique.split("-", 1)[0])
    except ValueError:
        return False
    if pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: running
        return True
    return True


def write_atomic(final: Path, data: bytes | memoryview | Iterable[bytes], sync: bool = True) -> None:
    """Write `data` (bytes, or chunks of them: a large file written as it is made, never whole in
    memory) to a hidden temporary beside `final`, flush it to disk, rename it. `sync=False` skips
    the flush to disk (pictures a rerun draws again: a kill still leaves no half file under the
    name, a power cut may).

    On any failure nothing is left behind: no temporary, and `final` as it was. A full or
    read-only disk raises `OutputError` (see `output_error`).
    """
    temp = temp_path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        with open(temp, "wb") as fh:
            if isinstance(data, (bytes, bytearray, memoryview)):
                fh.write(data)
            else:
                for chunk in data:
                    fh.write(chunk)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())  # the data must be on disk before the name says "done"
        os.replace(temp, final)
    except BaseException as exc:
        try:
            temp.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise output_error(final, exc) from None
        raise
    if sync:
        _fsync_dir(final.parent)


def _check_region(region: Any, has_cells: bool) -> None:
    if not has_cells:
        raise ValueError("cell_region describes cells: give cells and cell_grid with it")
    try:
        x0, y0, x1, y1 = (float(v) for v in region)
    except (TypeError, ValueError):
        raise ValueError(f"cell_region must be [x0, y0, x1, y1], got {region!r}") from None
    if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
        raise ValueError(f"cell_region must be fractions with 0 <= x0 < x1 <= 1 and "
                         f"0 <= y0 < y1 <= 1, got {list(region)}")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _to_attr(value: Any) -> Any:
    if value is None:
        return "none"
    if isinstance(value, (str, bool, int, float, np.integer, np.floating, np.bool_)):
        return value
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True)
    raise TypeError(f"attribute value {value!r} ({type(value).__name__}) cannot be stored")


def set_attr(attrs, name: str, value: Any) -> None:
    """`attrs[name] = value`, where a text that is not UTF-8 (a key or source path under a Latin-1
    folder `lat\xe9/`, read as surrogates) is stored as its bytes on disk in a UTF-8 text attribute:
    h5py reads such bytes back as the same surrogates (`os.fsdecode`), the key that names the file;
    `attrs[name] = text` failed on it ("surrogates not allowed") for every video of such a folder."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            attrs.create(name, os.fsencode(value), dtype=h5py.string_dtype("utf-8"))
            return
    attrs[name] = value


def _from_attr(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")  # as h5py reads a text attribute
    if isinstance(value, np.generic):
        return value.item()
    return value


def attrs_problem(path: str | os.PathLike, attrs: Mapping[str, Any]) -> StoreReadError | None:
    """What makes a file's attributes not those of a feature file this videoad reads (a schema version
    newer than it reads; an attribute every feature file carries missing: an HDF5 file of another
    program under a feature file's name), as the error naming `path`; None where they are."""
    problem = _version_problem(path, attrs)
    if problem:
        return problem
    missing = [name for name in REQUIRED_ATTRS if name not in attrs]
    if missing:
        return _unreadable(path, ValueError(f"it lacks the attribute(s) {', '.join(missing)} every feature file "
                                            "carries: an HDF5 file not written by `videoad extract` or an importer?"))
    said = attrs.get("n_clips")
    if said is not None and not (isinstance(said, (int, np.integer)) and int(said) >= 0):
        return _unreadable(path, ValueError(f"its n_clips attribute is {said!r}, not a count of clips"))
    odd = typed_attr_problem(attrs)
    return _unreadable(path, ValueError(odd)) if odd else None


#: attributes read as JSON text (an object, a list of that many numbers) and as numbers (counts:
#: whole and >= 0) when present: a value of another kind (a file edited by hand, written by another
#: tool, damaged) is named at screening, where it failed later as a traceback naming no file
_JSON_ATTRS = {"backbone_options": None, "backbone_json": None, "cell_grid": 2, "frame_size": 2, "working_size": 2}
_COUNT_ATTRS = ("n_frames", "clip_len", "stride", "dim", "cell_dim", "source_size", "source_files")
_WHOLE_ATTRS = ("source_mtime_ns",)  # before 1970: below zero
_RATE_ATTRS = ("fps", "sampled_fps", "target_fps", "max_fps")  # NaN: a frame folder's unknown rate
#: attributes only a footage check or the heat maps read, and what a damaged one costs the video
#: (`check_attr_problems`): named, it is scored all the same
CHECK_ATTRS = {"repeated_frames": "the repeated-frames check leaves it out",
               "cell_region": "its heat maps are placed on the group's cell region",
               "scene_cut_frames": "its timeline marks no scene cut", "damaged_spans": "its timeline marks no damaged span"}


def typed_attr_problem(attrs: Mapping[str, Any]) -> str | None:
    """What makes one of `_JSON_ATTRS`, `_COUNT_ATTRS` or `_RATE_ATTRS` not what its readers take
    (the attribute and its value), else None; "none" (a None written) counts as absent."""
    for name, size in _JSON_ATTRS.items():
        value = attrs.get(name)
        if value is None or (isinstance(value, str) and value == "none"):
            continue
        try:
            value = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            return f"its {name} attribute is not JSON text: {str(attrs[name])[:60]!r}"
        if size is None and not isinstance(value, dict):
            return f"its {name} attribute is {str(attrs[name])[:60]!r}, not a JSON object"
        if size is not None and not (_listlike(value) and len(value) == size and all(count_of(v) for v in value)):
            return f"its {name} attribute is {str(attrs[name])[:60]!r}, not {size} positive whole numbers"
    for name in (*_COUNT_ATTRS, *_RATE_ATTRS, *_WHOLE_ATTRS):
        value = attrs.get(name)
        if value is None or (name in _RATE_ATTRS and _number(value) is not None):
            continue
        if name in _COUNT_ATTRS and count_of(value) is not None:
            continue
        if name in _WHOLE_ATTRS and _number(value) is not None and count_of(abs(_number(value))) is not None:
            continue
        kind = "count" if name in _COUNT_ATTRS else "whole number" if name in _WHOLE_ATTRS else "number"
        return f"its {name} attribute is {str(value)[:60]!r}, not a {kind}"
    return None


def check_attr_problems(attrs: Mapping[str, Any]) -> list[str]:
    """What is wrong with each of `CHECK_ATTRS` that is present and not what its reader takes, and
    what that costs the video, one sentence each."""
    out = []
    count = attrs.get("repeated_frames")
    if count is not None and count_of(count) is None:
        out.append(f"its repeated_frames attribute is {str(count)[:40]!r}, not a count: "
                   + CHECK_ATTRS["repeated_frames"])
    if region := region_problem(attrs.get("cell_region")):
        out.append(f"{region}: {CHECK_ATTRS['cell_region']}")
    for name, width in (("scene_cut_frames", 1), ("damaged_spans", 2)):
        if attrs.get(name) is not None and whole_rows(attrs[name], width) is None:
            out.append(f"its {name} attribute is {str(attrs[name])[:40]!r}, not a list of frame "
                       f"{'numbers' if width == 1 else '[first, last] pairs'}: {CHECK_ATTRS[name]}")
    return out


def whole_rows(value: Any, width: int = 1) -> list | None:
    """A list attribute (`attr_list`) of frame numbers (`width` 1) or of [first, last] pairs (2),
    as ints; None where absent or not such a list (named at screening: `check_attr_problems`)."""
    try:
        rows = attr_list(value)
    except (TypeError, ValueError):
        return None
    if rows is None:
        return None
    if width == 1:
        return [int(r) for r in rows] if all(count_of(r) is not None for r in rows) else None
    if all(_listlike(r) and len(r) == width and all(count_of(a) is not None for a in r) for r in rows):
        return [[int(a) for a in r] for r in rows]
    return None


def region_problem(value: Any) -> str | None:
    """Why a `cell_region` attribute (JSON text or an array) is not [x0, y0, x1, y1] fractions of the
    frame (`_check_region`'s words), else None (absent included)."""
    if value is None:
        return None
    try:
        _check_region(attr_list(value), True)
    except ValueError as exc:  # JSON that does not parse, too
        return str(exc) if str(exc).startswith("cell_region") else f"cell_region is not JSON text: {str(value)[:40]!r}"
    return None


def json_object(value: Any, absent: dict | None = None) -> dict | None:
    """An object-valued attribute (a dict kept as JSON text) as a dict: `absent` where it is absent
    (or "none"), None where it is not a JSON object (a damaged file, named at screening:
    `typed_attr_problem`)."""
    if value is None or (isinstance(value, str) and value == "none"):
        return absent
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _number(value: Any) -> float | None:
    """`value` as a float where it is a number (NaN included; not a text, not a bool), else None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    return float(value)


def count_of(value: Any) -> float | None:
    """`value` where it is a finite whole number >= 0 (a count), else None."""
    number = _number(value)
    return number if number is not None and math.isfinite(number) and number >= 0 and number == int(number) else None


def _listlike(value: Any) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def _version_problem(path: str | os.PathLike, attrs: Mapping[str, Any]) -> StoreReadError | None:
    version = attrs.get("format_version", 1)
    if version not in READABLE_VERSIONS:
        return StoreReadError(f"{path}: feature file schema version {version} is newer than this "
                              f"videoad reads ({', '.join(map(str, READABLE_VERSIONS))}); upgrade videoad")
    return None


def _shape_problem(features: np.ndarray, frames: np.ndarray, cells: np.ndarray | None,
                   attrs: Mapping[str, Any]) -> str | None:
    """What makes a feature file's arrays unlike `write_video`'s (a damaged or hand-made file), else None:
    read as they were, a 1-d `features` failed deep in the fit, and `frames` of another length than the
    clips, or an `n_clips` attribute that is not theirs, put scores on the wrong frames in silence."""
    if features.ndim != 2:
        return f"features of shape {features.shape}, not (clips, values)"
    n = features.shape[0]
    if frames.shape != (n, 2):
        return f"frames of shape {frames.shape} for {n} clips, not ({n}, 2)"
    if cells is not None and (cells.ndim != 3 or cells.shape[0] != n):
        return f"cells of shape {cells.shape} for {n} clips, not ({n}, cells, values)"
    said = attrs.get("n_clips")
    if said is not None and not (isinstance(said, (int, np.integer)) and int(said) == n):
        return f"its n_clips attribute says {said!r}, its features hold {n} clips"
    return None


def _unreadable(path: str | os.PathLike, exc: Exception) -> StoreReadError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreReadError(f"{path}: not a readable feature file ({reason}); rerun `videoad extract` "
                          "over its video to redo it (a damaged file is redone), or delete it")


#: feature files whose attributes `read_attrs` keeps, the latest read first out last: a command
#: reads each file's attributes at several steps (screening, cameras, activity levels, extraction
#: records), ~3 ms each from HDF5, and a dataset's 1,900 videos fit (a scene picture is ~30 KB)
ATTRS_CACHE = 2048
_attrs_cache: OrderedDict = OrderedDict()


def read_attrs(path: str | os.PathLike) -> dict[str, Any]:
    """A feature file's attributes; `StoreReadError` (naming the file) when it cannot be read.
    Read once per version of the file: a file is only ever replaced by a rename (`write_atomic`),
    which changes its inode, so (path, inode, size, mtime) names one content."""
    try:
        st = os.stat(path)
        stamp = (os.fspath(path), st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    cached = _attrs_cache.get(stamp)
    if cached is not None:
        _attrs_cache.move_to_end(stamp)
        return dict(cached)
    try:
        with h5py.File(path, "r") as f:
            attrs = {name: _from_attr(value) for name, value in f.attrs.items()}
    except (OSError, KeyError, RuntimeError) as exc:
        raise _unreadable(path, exc) from None
    _attrs_cache[stamp] = attrs
    while len(_attrs_cache) > ATTRS_CACHE:
        _attrs_cache.popitem(last=False)
    return dict(attrs)


def _open_file_attrs(path: str | os.PathLike, f) -> dict[str, Any]:
    """The attributes of `f`, an HDF5 file open from `path`: from `read_attrs`' cache where it holds
    this very file (the open file's own inode, size and mtime), else read from it and kept there.
    `load` read them anew each time, two thirds of loading 1,900 imported videos whose attributes the
    run had read already (screening): benchmarks/bench_store_load.py."""
    try:
        st = os.fstat(f.id.get_vfd_handle())
        stamp = (os.fspath(path), st.st_ino, st.st_size, st.st_mtime_ns)
    except Exception:  # noqa: BLE001 - a driver without a file descriptor: read as before
        stamp = None
    cached = _attrs_cache.get(stamp) if stamp is not None else None
    if cached is not None:
        _attrs_cache.move_to_end(stamp)
        return dict(cached)
    attrs = {name: _from_attr(value) for name, value in f.attrs.items()}
    if stamp is not None:
        _attrs_cache[stamp] = attrs
        while len(_attrs_cache) > ATTRS_CACHE:
            _attrs_cache.popitem(last=False)
    return dict(attrs)


class FeatureStore:
    """Read access to a store root: keys, per-video features, groups, the manifest.

    `only`: list those keys alone (of the complete files): a folder that several runs extracted
    into, read for one run's videos (`videoad run`)."""

    def __init__(self, root: str | os.PathLike, only=None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"feature store not found: {self.root}")
        self.only = None if only is None else frozenset(only)

    def keys(self) -> list[str]:
        """Sorted keys of the complete feature files (temporary files are not listed)."""
        keys = self._all_keys()
        return keys if self.only is None else [k for k in keys if k in self.only]

    def __contains__(self, key: str) -> bool:
        return self.path(key).is_file() and (self.only is None or key in self.only)

    def _all_keys(self) -> list[str]:
        keys = []
        for folder, files in _store_folders(self.root):
            rel = Path(folder).relative_to(self.root)
            for name in files:
                if name.endswith(SUFFIX) and not name.startswith("."):
                    keys.append((rel / name[: -len(SUFFIX)]).as_posix())
        return sorted(keys)

    def __len__(self) -> int:
        return len(self.keys())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def path(self, key: str) -> Path:
        return key_path(self.root, key)

    def attrs(self, key: str) -> dict[str, Any]:
        """The attributes alone (cheap: no feature arrays are read)."""
        self._require(key)
        return read_attrs(self.path(key))

    def check(self, key: str) -> dict[str, Any]:
        """The attributes (as `attrs`), where they are a feature file's this videoad reads
        (`attrs_problem`); else `StoreReadError` naming the file. Cheap: no feature arrays are read."""
        attrs = self.attrs(key)
        problem = attrs_problem(self.path(key), attrs)
        if problem:
            raise problem
        return attrs

    def load(self, key: str, cells: bool = False) -> VideoFeatures:
        """One video's features; with `cells`, also its per-cell features (None when not stored)."""
        path = self._require(key)
        try:
            with h5py.File(path, "r") as f:
                attrs = _open_file_attrs(path, f)
                problem = _version_problem(path, attrs)
                if problem:
                    raise problem
                features = np.asarray(f["features"][()], dtype=np.float32)
                frames = np.asarray(f["frames"][()], dtype=np.int64)
                cell_array = np.asarray(f["cells"][()], dtype=np.float32) if cells and "cells" in f else None
                times = np.asarray(f["frame_times"][()], dtype=np.float64) if "frame_times" in f else None
        except (OSError, KeyError, RuntimeError) as exc:
            raise _unreadable(path, exc) from None
        problem = _shape_problem(features, frames, cell_array, attrs)
        if problem:
            raise _unreadable(path, ValueError(problem))
        return VideoFeatures(key, features, frames, attrs, cell_array, times)

    def load_packed(self, keys: list[str], cells: bool = False) -> list[VideoFeatures]:
        """`[self.load(k, cells) for k in keys]`, each video's features (and cells) the rows of one
        matrix for the whole list, read-only since the videos share it: a group's rows then reach a
        detector without a second copy (`videoad.group_model.stack`); a pooled run of a dataset
        holds its features once. Videos of different shapes are loaded as `load` loads them."""
        try:
            shapes = [self._shapes(key, cells) for key in keys]
        except (OSError, KeyError, RuntimeError, ValueError):
            shapes = []  # `load` names the file and its problem
        def one_by_one() -> list[VideoFeatures]:
            return [self.load(k, cells=cells) for k in keys]

        packable = shapes and len({s[0][1:] for s in shapes}) == 1 and len({s[1] and s[1][1:] for s in shapes}) == 1
        if not packable:
            return one_by_one()
        n = sum(s[0][0] for s in shapes)
        features = np.empty((n, *shapes[0][0][1:]), dtype=np.float32)
        cell_rows = None if shapes[0][1] is None else np.empty((n, *shapes[0][1][1:]), dtype=np.float32)
        videos, at = [], 0
        for key in keys:
            v = self.load(key, cells=cells)
            end = at + v.n_clips
            if end > n or v.features.shape[1:] != features.shape[1:]:  # not the shape its attributes say
                return one_by_one()
            features[at:end] = v.features
            v.features = features[at:end]
            if cell_rows is not None:
                if v.cells is None or v.cells.shape != (v.n_clips, *cell_rows.shape[1:]):  # not as its attributes say
                    return one_by_one()
                cell_rows[at:end] = v.cells
                v.cells = cell_rows[at:end]
            videos.append(v)
            at = end
        if at != n:  # a file rewritten between the two reads
            return one_by_one()
        for array in (features, cell_rows):
            if array is not None:
                array.flags.writeable = False
        return videos

    def _shapes(self, key: str, cells: bool) -> tuple[tuple, tuple | None]:
        """(features shape, cells shape or None) from the attributes `write_video` records (read
        once per file, `read_attrs`), else from the datasets."""
        a = self.attrs(key)
        if "n_clips" in a and "dim" in a and (not cells or "cell_grid" not in a or "cell_dim" in a):
            grid = attr_list(a.get("cell_grid")) if cells else None
            cell_shape = (int(a["n_clips"]), int(grid[0]) * int(grid[1]), int(a["cell_dim"])) if grid else None
            return (int(a["n_clips"]), int(a["dim"])), cell_shape
        with h5py.File(self._require(key), "r") as f:
            return f["features"].shape, (f["cells"].shape if cells and "cells" in f else None)

    def _require(self, key: str) -> Path:
        path = self.path(key)
        if not path.is_file():
            raise KeyError(f"{key!r} is not in the feature store {self.root}")
        return path

    def groups(self, by: str | Callable[[str], str] = "folder") -> dict[str, list[str]]:
        """Keys grouped, each list sorted; the store has no opinion on categories.

        by="folder": the first folder of the key (UCF-Crime's `Abuse/Abuse001_x264.mp4` ->
        "Abuse"; keys at the root -> "."); "video": one group per key; "all": one group "all";
        a function: key -> group name (e.g. the class an annotation file gives the key).
        """
        keys = self.keys()
        if by == "video":
            return {key: [key] for key in keys}
        if by == "all":
            return {"all": keys} if keys else {}
        if callable(by):
            label = by
        elif by == "folder":
            label = folder_of
        else:
            raise ValueError(f"by must be 'folder', 'video', 'all' or a function of the key, got {by!r}")
        groups: dict[str, list[str]] = {}
        for key in keys:
            groups.setdefault(label(key), []).append(key)
        return dict(sorted(groups.items()))


def attr_list(value) -> list | None:
    """A list-valued attribute as `write_features` keeps it (JSON text; an array from other
    writers) back to a list; None where absent."""
    if value is None:
        return None
    return list(json.loads(value) if isinstance(value, str) else value)


def folder_of(key: str) -> str:
    """The first folder of a key, "." for a key at the store root."""
    return key.split("/", 1)[0] if "/" in key else ROOT_GROUP
