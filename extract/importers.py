"""Bring features made elsewhere into our store, so stage 2 can run on them unchanged.

Two formats:

* Sultani et al. (CVPR 2018) 32-segment text files: 32 rows of C3D fc6, each row the mean of
  a run of 16-frame clips, L2-normalised. Their MATLAB script sets segment boundaries at
  round(linspace(1, n_clips, 33)) (1-based clip indices, round half away from zero), averages
  clips [b_s, b_{s+1} - 1] (just b_s when that range is empty) and so never includes the last
  clip: segment 32 stops one clip early. The text files do not say how long the video was, so
  n_clips = floor(n_frames / 16) comes from an annotation file with frame counts
  (UCF-Crime's Test_Annotation.txt / Train_Annotation.txt). Each row is stored with the frame
  range it really averages, quirk included.
* Per-video .npy arrays, (n, dim) or ten-crop (n, crops, dim): the layout of video_features
  (`<video>_<feature>.npy`) and of RTFM-style UCF-Crime releases (`<video>_i3d.npy`, 10 crops).
  Snippet i covers frames [i * stride, i * stride + clip_len - 1].

Keys: with an annotation file, the annotation's `<Class>/<video>.mp4` path, so that grouping by
folder groups by category; without one, the file's path relative to the source folder.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .array_files import read_npy
from .text_files import text_stream

log = logging.getLogger(__name__)

__all__ = ["FrameCounts", "ImportResult", "import_npy", "import_sultani", "matlab_round",
           "read_frame_counts", "sultani_segments"]

SIDE_CAR_SUFFIXES = ("_fps.npy", "_timestamps_ms.npy")


@dataclass(frozen=True)
class FrameCounts:
    """Video stem -> (store key, frame count), read from an annotation file."""

    source: Path
    entries: dict[str, tuple[str, int]]

    def lookup(self, stem: str, what: Path) -> tuple[str, int]:
        try:
            return self.entries[stem]
        except KeyError:
            raise ValueError(f"{what}: video {stem!r} is not listed in {self.source}") from None


@dataclass
class ImportResult:
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # already in the store
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    notes: list[str] = field(default_factory=list)  # what the store holds after it that a reader should know
    #: why the import stopped before its last file (the store full or read-only: no later file could be
    #: written), and how many files it did not try; "" when it went through them all
    stopped: str = ""
    not_tried: int = 0

    def stop(self, path: Path, exc: OSError, left: int) -> None:
        """Record a write the whole store refused (`store.OutputError`): that file failed, the rest
        are left for the rerun (each would fail with the same line, 1,900 of them for UCF-Crime)."""
        self.failed.append((str(path), str(exc)))
        self.stopped, self.not_tried = str(exc), left


#: the most frames a frame count may give a video (a year at 30 fps)
MAX_FRAMES = 10**9


def read_frame_counts(path: str | Path) -> FrameCounts:
    """Parse `<dir>/<video>.<ext> <n_frames> [...]` lines (UCF-Crime Test/Train_Annotation.txt)."""
    path = Path(path)
    entries: dict[str, tuple[str, int]] = {}
    with text_stream(path, "a frame-count list") as fh:  # a byte-order mark is no part of the first name
        for lineno, line in enumerate(fh, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) < 2:
                raise ValueError(f"{path}:{lineno}: expected '<path> <n_frames> ...', got {line.strip()!r}")
            try:
                n_frames = int(fields[1])
            except ValueError:
                raise ValueError(f"{path}:{lineno}: frame count {fields[1]!r} is not an integer "
                                 "(a file without frame counts? use Test_Annotation.txt)") from None
            if n_frames <= 0:
                raise ValueError(f"{path}:{lineno}: frame count must be positive, got {n_frames}")
            if n_frames > MAX_FRAMES:  # 1e11 passed, and evaluate asked for 93 GB of frame labels
                raise ValueError(f"{path}:{lineno}: frame count {n_frames} is beyond any video (more than "
                                 f"{MAX_FRAMES:,}: a year at 30 fps); a typo?")
            key = fields[0].replace("\\", "/")
            stem = Path(key).stem
            if stem in entries and entries[stem][0] != key:
                raise ValueError(f"{path}:{lineno}: video {stem!r} listed twice ({entries[stem][0]}, {key})")
            if stem in entries and entries[stem][1] != n_frames:  # the last count won in silence
                raise ValueError(f"{path}:{lineno}: video {key!r} listed twice with different frame counts "
                                 f"({entries[stem][1]}, {n_frames})")
            entries[stem] = (key, n_frames)
    if not entries:
        raise ValueError(f"{path}: no entries")
    return FrameCounts(path, entries)


def matlab_round(x: np.ndarray) -> np.ndarray:
    """MATLAB's round for non-negative values: halves go up (numpy rounds them to even)."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5).astype(np.int64)


def sultani_segments(n_frames: int, n_segments: int = 32,
                     clip_len: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Clip ranges (1-based, inclusive) and frame ranges (0-based, inclusive) of each segment."""
    n_clips = n_frames // clip_len
    if n_clips < 1:
        raise ValueError(f"{n_frames} frames hold no complete {clip_len}-frame clip")
    bounds = matlab_round(np.linspace(1, n_clips, n_segments + 1))
    first = bounds[:-1]
    last = np.maximum(bounds[1:] - 1, first)
    clips = np.stack([first, last], axis=1)
    frames = np.stack([(first - 1) * clip_len, last * clip_len - 1], axis=1)
    return clips, frames


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _store():
    from . import store  # the store module belongs to the extraction core; imported late
    return store


#: the attributes that say what an imported feature value means: one store holds one kind (the
#: stride only chooses which clips were cut: detect fits such a store, and says it is mixed)
_KIND = ("backbone", "layer", "import_format", "crop_reduce", "clip_len", "dim")


class _Existing:
    """What the store at `out_root` already holds: its keys, each video's source file (by hash) and
    the kind of its features, so that an import adds alike features of new files only."""

    def __init__(self, out_root: Path):
        self.keys: set[str] = set()
        self.by_sha: dict[str, str] = {}
        self.kinds: dict[str, set[str]] = {}  # the kind of features (as JSON) -> the keys that have it
        self.made: dict[str, dict] = {}  # key -> its file's attributes (the options it was imported with)
        self.damaged: set[str] = set()  # keys whose file cannot be read
        self.replaced: set[str] = set()  # keys this import replaces (--overwrite): their kind does not stay
        self.root = out_root
        if not out_root.exists():
            return
        store = _store().FeatureStore(out_root)
        for key in store.keys():
            self.keys.add(key)
            try:
                attrs = store.attrs(key)
            except (OSError, ValueError, KeyError):  # a damaged file: its key is still taken
                self.damaged.add(key)
                continue
            if attrs.get("source_sha256"):
                self.by_sha.setdefault(str(attrs["source_sha256"]), key)
            self.kinds.setdefault(_kind(attrs), set()).add(key)
            self.made[key] = attrs

    def plan(self, keys, overwrite: bool) -> None:
        """The keys this import will write: with `overwrite`, those already in the store are replaced,
        so the kind their features have now is not one that stays beside the new ones. The
        temporaries an import killed mid-write left beside them are removed (once their writer is
        gone), as extract's are: a rerun left them for good."""
        self.replaced = set(keys) & self.keys if overwrite else set()
        if self.root.is_dir():
            store = _store()
            finals = []
            for k in keys:
                try:
                    finals.append(store.key_path(self.root, k))
                except ValueError:  # a name no key can take (`._v1`): that file fails in its turn, named
                    continue
            store.remove_stale_temporaries(finals)

    def add(self, key: str, attrs: dict) -> None:
        """`key` written from `attrs`: the files after it in this import are checked against it too."""
        self.keys.add(key)
        self.damaged.discard(key)
        self.replaced.discard(key)
        self.by_sha.setdefault(str(attrs.get("source_sha256")), key)
        for members in self.kinds.values():  # replaced: its old kind no longer holds it
            members.discard(key)
        self.kinds.setdefault(_kind(attrs), set()).add(key)
        self.made[key] = attrs

    def present(self, path: Path, key: str, options: dict, overwrite: bool) -> bool:
        """Whether the store's file of `key` is already this import's, so that a rerun skips it: made
        from `path` (by hash) with `options` (what the import records that the file does not decide).
        The same file imported with other options is refused without `overwrite`: a rerun with a
        corrected --stride, --fps or frame count said "already present" and kept the wrong ones."""
        if key not in self.keys or overwrite or self.by_sha.get(_sha256(path)) != key:
            return False
        stored = self.made.get(key, {})
        differ = [f"{k} {stored[k]!r} there, {v!r} here" for k, v in options.items()
                  if k in stored and stored[k] != v
                  and not (k == "crop_reduce" and stored[k] == "none")]  # one crop: --crops chose nothing
        if differ:
            raise ValueError(f"{path}: the store's file of {key} was imported from this file with other options "
                             f"({'; '.join(differ)}); --overwrite replaces it")
        return True

    def mixed(self, out_root: Path) -> str | None:
        """What is wrong with the store after the import, else None: videos of two kinds of features
        (an --overwrite of every video, one of whose files failed, left that one as it was)."""
        kinds = [(k, sorted(m)) for k, m in self.kinds.items() if m]
        if len(kinds) < 2:
            return None
        said = "; ".join(f"{len(m)} video(s) {k} ({', '.join(m[:2])}{', ...' if len(m) > 2 else ''})"
                         for k, m in kinds[:3])
        return (f"{out_root} now holds features of {len(kinds)} kinds ({said}): one model cannot score both; import "
                "the failed files again with --overwrite, or keep each kind in its own store")

    def problem(self, path: Path, key: str, attrs: dict, overwrite: bool) -> str | None:
        """Why `path`'s features (`attrs`, for `key`) must not go into this store, else None."""
        same_file = self.by_sha.get(str(attrs.get("source_sha256")))
        if same_file is not None and same_file != key:
            return (f"{path}: its bytes are those of the file imported as {same_file} (a copy of it, or the same "
                    "file named otherwise by other options: --annotations, --suffix); not imported twice: two "
                    "videos do not give byte-identical features")
        if key in self.keys and not overwrite and same_file != key:
            return (f"{path}: the store's file of {key} " + ("cannot be read (damaged)" if key in self.damaged else
                                                             "was imported from another file (its SHA-256 differs)")
                    + "; --overwrite replaces it")
        ours = _kind(attrs)
        for kind, members in self.kinds.items():  # the videos of another kind that stay beside this one
            staying = members - self.replaced - {key} if kind != ours else ()
            if staying:
                other, theirs, mine = min(staying), json.loads(kind), json.loads(ours)
                differ = [f"{k} {theirs.get(k)!r} there, {mine.get(k)!r} here" for k in _KIND
                          if theirs.get(k) != mine.get(k)]
                return (f"{path}: the store's features ({other}, ...) were imported otherwise ({'; '.join(differ)}): "
                        "one model cannot score both kinds; import these into another store (or all of its videos "
                        "again with --overwrite)")
        return None


def _planned(key_of, files) -> list[str]:
    """The keys `key_of` finds for `files` (a file it cannot name fails later, in its turn)."""
    keys = []
    for path in files:
        try:
            keys.append(key_of(path)[0])
        except (ValueError, OSError):
            pass
    return keys


def _kind(attrs) -> str:
    """The kind of a video's features (`_KIND` of its attributes), as JSON text: a set member."""
    return json.dumps({k: (str(attrs[k]) if k not in ("clip_len", "dim") else int(attrs[k]))
                       for k in _KIND if attrs.get(k) is not None}, sort_keys=True)


def import_sultani(src: str | Path, out_root: str | Path, frame_counts: str | Path | FrameCounts,
                   *, fps: float = 30.0, overwrite: bool = False, n_segments: int = 32) -> ImportResult:
    """Import every `<video>.txt` of `src` (a folder or one file) into the store at `out_root`.

    fps is recorded, not used: UCF-Crime videos are 30 fps.
    """
    src, out_root = Path(src), Path(out_root)
    counts = frame_counts if isinstance(frame_counts, FrameCounts) else read_frame_counts(frame_counts)
    files = sorted(src.glob("*.txt")) if src.is_dir() else [src]
    if not files or not files[0].exists():
        raise ValueError(f"{src}: no Sultani feature files (*.txt) found")
    result, existing = ImportResult(), _Existing(out_root)
    existing.plan(_planned(lambda path: counts.lookup(path.stem, path), files), overwrite)
    for i, path in enumerate(files):
        try:
            key, n_frames = counts.lookup(path.stem, path)
            if existing.present(path, key, {"fps": float(fps), "n_frames": n_frames}, overwrite):
                result.skipped.append(key)
                continue
            feats = _load_sultani(path, n_segments)
            clips, frames = sultani_segments(n_frames, n_segments)
            norms = np.linalg.norm(feats, axis=1)
            attrs = _common_attrs(path, n_frames, counts.source, fps) | {
                "backbone": "c3d",
                "layer": "fc6 (post-ReLU)",
                "weights_sha256": "unknown (Sultani et al. release, Caffe C3D v1.0 Sports-1M)",
                "preprocessing": "Caffe C3D v1.0: resize 128x171, Sports-1M mean cube, centre crop 112",
                "import_format": "sultani32",
                "row_kind": "segment",
                "aggregation": (f"mean of 16-frame clips per segment, boundaries "
                                f"round(linspace(1, n_clips, {n_segments + 1})), last clip excluded "
                                "(authors' MATLAB), each row L2-normalised"),
                "l2_normalised": bool(np.allclose(norms, 1.0, atol=1e-3)),
                "clip_ranges_1based": clips.tolist(),
                "clip_len": 16,
                "stride": 16,
                "tail_policy": "drop",
                "dim": int(feats.shape[1]),
            }
            problem = existing.problem(path, key, attrs, overwrite)
            if problem:
                raise ValueError(problem)
            _store().write_video(out_root, key, feats, frames.astype(np.int64), attrs)
            existing.add(key, attrs)
            result.written.append(key)
        except _store().OutputError as exc:
            result.stop(path, exc, len(files) - i - 1)
            break
        except (ValueError, OSError) as exc:
            result.failed.append((str(path), str(exc)))
    result.notes += [n for n in (existing.mixed(out_root),) if n]
    return result


def _load_sultani(path: Path, n_segments: int) -> np.ndarray:
    try:
        feats = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path}: not a whitespace-separated numeric table ({exc})") from None
    if feats.shape[0] != n_segments:
        raise ValueError(f"{path}: expected {n_segments} rows (segments), got {feats.shape[0]}")
    if not np.isfinite(feats).all():
        raise ValueError(f"{path}: contains NaN or infinite values")
    return _float32(feats, path)


def import_npy(src: str | Path, out_root: str | Path, *, frame_counts: str | Path | FrameCounts | None = None,
               suffix: str = "", clip_len: int = 16, stride: int = 16, crops: str | int = "mean",
               fps: float = 30.0, backbone: str = "unknown", layer: str = "unknown",
               overwrite: bool = False) -> ImportResult:
    """Import per-video `.npy` feature arrays found under `src` (recursively).

    suffix: only files named `<video><suffix>.npy` are taken and the suffix is removed from the
        video name (e.g. "_i3d" for RTFM files, "_rgb" for video_features' I3D output).
    crops: for (n, crops, dim) arrays: "mean" averages the crops, "keep" concatenates them
        crop-major into (n, crops * dim), an integer selects one crop.
    fps: frame rate of the source videos, recorded in the store (the arrays do not carry it).
    """
    src, out_root = Path(src), Path(out_root)
    if clip_len < 1 or stride < 1:
        raise ValueError(f"clip_len and stride must be positive, got {clip_len}, {stride}")
    for name, value in (("backbone", backbone), ("layer", layer)):  # "" was stored as the name
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a name, got {value!r}")
    counts = (frame_counts if isinstance(frame_counts, FrameCounts) or frame_counts is None
              else read_frame_counts(frame_counts))
    pattern = f"*{suffix}.npy"
    files = sorted(p for p in (src.rglob(pattern) if src.is_dir() else [src])
                   if not (suffix == "" and p.name.endswith(SIDE_CAR_SUFFIXES)))
    if not files or not files[0].exists():
        raise ValueError(f"{src}: no feature files matching {pattern!r}")

    def key_of(path: Path) -> tuple[str, int | None, str]:
        """The video `path` holds: its key, its frame count and where that came from."""
        if not path.name.endswith(f"{suffix}.npy") or len(path.name) == len(f"{suffix}.npy"):
            raise ValueError(f"{path}: not named <video>{suffix}.npy (the --suffix given), so no video "
                             "name can be read from it")
        stem = path.name[: -len(f"{suffix}.npy")]
        if counts is not None:
            return (*counts.lookup(stem, path), str(counts.source))
        rel = path.relative_to(src) if src.is_dir() else Path(path.name)
        return (rel.parent / stem).as_posix(), None, ""

    result, existing = ImportResult(), _Existing(out_root)
    existing.plan(_planned(key_of, files), overwrite)
    imported_from: dict[str, Path] = {}  # key -> the file this run wrote it from
    for i, path in enumerate(files):
        try:
            key, n_frames, count_source = key_of(path)
            if key in imported_from:
                raise ValueError(f"{path}: names the same video ({key}) as {imported_from[key]}, imported "
                                 "before it in this run; keep one of them")
            options = {"backbone": backbone, "layer": layer, "crop_reduce": str(crops), "clip_len": clip_len,
                       "stride": stride, "fps": float(fps), **({"n_frames": n_frames} if n_frames is not None else {})}
            if existing.present(path, key, options, overwrite):
                result.skipped.append(key)
                continue
            feats, n_crops = _load_npy(path, crops)
            n = len(feats)
            starts = np.arange(n, dtype=np.int64) * stride
            frames = np.stack([starts, starts + clip_len - 1], axis=1)
            if n_frames is not None and n and starts[-1] >= n_frames:
                raise ValueError(f"{path}: {n} snippets of stride {stride} start past the video's "
                                 f"{n_frames} frames ({count_source}); wrong stride or wrong video?")
            uncovered = n_frames - (int(starts[-1]) + clip_len) if n_frames is not None and n else 0
            if uncovered > max(clip_len + stride, (n_frames or 0) // 10):
                raise ValueError(f"{path}: {n} snippets of stride {stride} cover frames 0-{starts[-1] + clip_len - 1} "
                                 f"of the video's {n_frames} ({count_source}), {uncovered} frames short; "
                                 "wrong stride or wrong video?")
            if n_frames is not None and n:  # the last snippet of ceil(n_frames / stride) padded its tail
                frames[:, 1] = np.minimum(frames[:, 1], n_frames - 1)
            if n_frames is None:
                n_frames = int(frames[-1, 1]) + 1 if n else 0
                count_source = "estimated from the snippet count (no annotation given)"
            attrs = _common_attrs(path, n_frames, count_source, fps) | {
                "backbone": backbone,
                "layer": layer,
                "weights_sha256": "unknown (imported)",
                "preprocessing": "unknown (imported)",
                "import_format": "npy",
                "row_kind": "clip",
                "crops": n_crops,
                "crop_reduce": "none" if n_crops == 1 else str(crops),
                "clip_len": clip_len,
                "stride": stride,
                "tail_policy": "unknown (imported)",
                "dim": int(feats.shape[1]),
            }
            problem = existing.problem(path, key, attrs, overwrite)
            if problem:
                raise ValueError(problem)
            _store().write_video(out_root, key, feats, frames, attrs)
            existing.add(key, attrs)
            result.written.append(key)
            imported_from[key] = path
        except _store().OutputError as exc:
            result.stop(path, exc, len(files) - i - 1)
            break
        except (ValueError, OSError) as exc:
            result.failed.append((str(path), str(exc)))
    result.notes += [n for n in (existing.mixed(out_root),) if n]
    return result


def _load_npy(path: Path, crops: str | int) -> tuple[np.ndarray, int]:
    arr = read_npy(path)
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.timedelta64):
        raise ValueError(f"{path}: dtype {arr.dtype} is not numeric")
    if arr.ndim in (2, 3) and 0 in arr.shape:  # checked before the crops are reduced: the mean of no
        raise ValueError(f"{path}: empty feature array {arr.shape}")  # crops was named "NaN or infinite values"
    if arr.ndim == 2:
        n_crops = 1
    elif arr.ndim == 3:
        n_crops = arr.shape[1]
        if crops == "mean":
            arr = arr.mean(axis=1)
        elif crops == "keep":
            arr = arr.reshape(arr.shape[0], -1)
        else:
            index = int(crops)
            if not 0 <= index < n_crops:
                raise ValueError(f"{path}: crop {index} requested, the file has {n_crops}")
            arr = arr[:, index]
    else:
        raise ValueError(f"{path}: expected (n, dim) or (n, crops, dim), got shape {arr.shape}")
    if np.iscomplexobj(arr):
        raise ValueError(f"{path}: complex values ({arr.dtype}); features are real numbers")
    if not np.isfinite(arr).all():
        raise ValueError(f"{path}: contains NaN or infinite values")
    return _float32(arr, path), n_crops


def _float32(arr: np.ndarray, path: Path) -> np.ndarray:
    """`arr` as the store keeps it (float32), refused where a finite value is beyond its range (it
    was stored as inf, in silence, and the fit failed later naming no file)."""
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(out).all():
        raise ValueError(f"{path}: values beyond the float32 range the store holds (max |x| "
                         f"{float(np.abs(arr).max()):.3g}); rescale them")
    return out


def _common_attrs(path: Path, n_frames: int, count_source: Any, fps: float) -> dict[str, Any]:
    return {
        "source_path": str(path),
        "source_sha256": _sha256(path),
        "n_frames": int(n_frames),
        "fps": float(fps),
        "frame_count_source": str(count_source),
        "imported": True,
    }

