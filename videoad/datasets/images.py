"""Image datasets for the paper's one-class benchmarks (Tables 4, 7, 8), all offline.

Loaders read whatever split the user has on disk, nothing downloads:
- MNIST from IDX files (gzipped or not),
- CIFAR-10 from the python batch files (`cifar-10-batches-py`), from image folders
  (`[split/]class/*.png|jpg`) or from a zip of such folders,
- scikit-learn's 8x8 digits (shipped with scikit-learn).
Each returns uint8-or-float images, integer labels and the class names.

`one_class_protocol` builds the paper's contaminated sets: every image of the normal class plus
anomalies drawn evenly from the other classes so that they make up `anomaly_ratio` of the result
(MNIST: digit 4 with 5 %, CIFAR-10: airplane with 8 %). Rows are raw pixels scaled to [0, 1].
"""
from __future__ import annotations

import gzip
import io
import math
import pickle
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
SPLITS = ("train", "test", "all")


@dataclass
class ImageSet:
    images: np.ndarray  # (n, h, w) or (n, h, w, c)
    labels: np.ndarray  # (n,) int64
    classes: tuple  # class names, indexed by label
    source: str = ""


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


# ----------------------------------------------------------------------------- MNIST (IDX)
def read_idx(path) -> np.ndarray:
    """Read one IDX file (optionally gzipped): magic 0 0 <type> <ndim>, big-endian dims, data."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:  # a download cut short: not Click's "Aborted!"
            raise ValueError(f"{path}: truncated or corrupt gzip file ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic {raw[:4]!r})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:  # the dims read past the end as zeros: "shape (0, 0, ...) but -792 bytes follow"
        raise ValueError(f"{path}: its header names {ndim} dimensions ({header} bytes) but the file holds "
                         f"{len(raw)} bytes; not an IDX file, or one cut short")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = math.prod(dims) * dtype.itemsize  # np.prod wrapped around at 2**64 (to 0: numpy's own error)
    if len(raw) - header != expected:
        raise ValueError(f"{path}: header says shape {dims} ({expected} bytes) but {len(raw) - header} bytes follow")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _find_idx(root: Path, prefix: str, kind: str) -> Path | None:
    for name in (f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte",
                 f"{prefix}-{kind}.idx{3 if kind == 'images' else 1}-ubyte"):
        for suffix in ("", ".gz"):
            p = root / (name + suffix)
            if p.is_file():
                return p
    return None


def load_mnist(path, split: str = "test") -> ImageSet:
    """MNIST from a folder holding `t10k-*` (test) and/or `train-*` (train) IDX files."""
    _check_split(split)
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"MNIST folder {root} does not exist")
    prefixes = {"test": ["t10k"], "train": ["train"], "all": ["train", "t10k"]}[split]
    imgs, labs = [], []
    for prefix in prefixes:
        pi, pl = _find_idx(root, prefix, "images"), _find_idx(root, prefix, "labels")
        if pi is None or pl is None:
            if split == "all" and (pi is None and pl is None):
                continue
            raise ValueError(f"{root} lacks {prefix}-images-idx3-ubyte[.gz] / {prefix}-labels-idx1-ubyte[.gz] "
                             f"for split {split!r}")
        x, y = read_idx(pi), read_idx(pl)
        if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise ValueError(f"{pi} {x.shape} and {pl.name} {y.shape} do not match as images/labels")
        for f, a in ((pi, x), (pl, y)):  # another type code read as pixels gave garbage in silence
            if a.dtype != np.uint8:
                raise ValueError(f"{f}: MNIST files hold unsigned bytes (IDX type 0x08), this one {a.dtype}")
        if y.size and y.max() > 9:
            raise ValueError(f"{pl}: MNIST labels are the digits 0-9; it holds {int(y.max())}")
        imgs.append(x)
        labs.append(y.astype(np.int64))
    if not imgs:
        raise ValueError(f"{root} holds no MNIST IDX files")
    return ImageSet(np.concatenate(imgs), np.concatenate(labs), tuple(str(d) for d in range(10)), str(root))


# ----------------------------------------------------------------------------- CIFAR-10
class _ArraysOnly(pickle.Unpickler):
    """CIFAR-10's python batches are pickles of plain containers and numpy arrays: nothing else is
    rebuilt (`pickle.load` ran any code a swapped batch file held)."""

    _ALLOWED = {(m, n) for m in ("numpy.core.multiarray", "numpy._core.multiarray") for n in ("_reconstruct", "scalar")}
    _ALLOWED |= {(m, "_frombuffer") for m in ("numpy.core.numeric", "numpy._core.numeric")}  # protocol 5's arrays
    _ALLOWED |= {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}  # bytes, in protocol 2

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"it holds the Python object {module}.{name}, not only arrays")
        return super().find_class(module, name)


def _read_batch(path: Path) -> dict:
    """One CIFAR-10 batch or meta file, unpickled with `_ArraysOnly`; a ValueError naming it else."""
    try:
        with open(path, "rb") as fh:
            d = _ArraysOnly(fh, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError) as exc:
        raise ValueError(f"{path}: not a CIFAR-10 python batch file ({exc})") from None
    if not isinstance(d, dict):
        raise ValueError(f"{path}: not a CIFAR-10 python batch file (a {type(d).__name__}, not a dict)")
    return d


def _entry(d: dict, key: str):
    """`d[key]` as the release has it (bytes keys: Python 2's pickle) or as a copy saved again by
    Python 3 has it (str keys); None when neither."""
    return d.get(key.encode(), d.get(key))


def _batch_arrays(p: Path, d: dict) -> tuple[np.ndarray, np.ndarray]:
    """A batch's (n, 32, 32, 3) uint8 images and (n,) labels; a ValueError naming the file when its
    contents are not those of a CIFAR-10 batch (other shapes were reshaped, floats and negative
    labels cast, and a short label list paired with the wrong images, in silence)."""
    data, labels = _entry(d, "data"), _entry(d, "labels")
    if data is None or labels is None:
        raise ValueError(f"{p}: not a CIFAR-10 python batch file (no data and labels)")
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{p}: CIFAR-10 batch data is (n, 3072) (32x32 pixels in R, G, B planes), "
                         f"this is {data.shape}")
    if data.dtype.kind not in "ui" or (data.size and (data.min() < 0 or data.max() > 255)):
        raise ValueError(f"{p}: CIFAR-10 batch data holds bytes 0..255, this holds {data.dtype}"
                         + (f" from {data.min()} to {data.max()}" if data.size and data.dtype.kind in "uif" else ""))
    try:
        labels = np.asarray(labels)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{p}: its labels are not a list of class numbers ({exc})") from None
    if labels.ndim != 1 or labels.dtype.kind not in "ui":
        raise ValueError(f"{p}: its labels are not a list of class numbers ({labels.dtype}, shape {labels.shape})")
    if labels.shape[0] != data.shape[0]:
        raise ValueError(f"{p}: {data.shape[0]} images but {labels.shape[0]} labels")
    images = data.astype(np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, labels.astype(np.int64)


def _label_names(meta: Path, default: tuple) -> tuple:
    names = _entry(_read_batch(meta), "label_names")
    if names is None:
        return default
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, (bytes, str)) for n in names):
        raise ValueError(f"{meta}: label_names is not a list of class names")
    try:
        return tuple(n.decode() if isinstance(n, bytes) else n for n in names)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{meta}: a class name in label_names is not UTF-8 ({exc})") from None


def _cifar_batches(root: Path, split: str) -> ImageSet:
    names = {"test": ["test_batch"], "train": [f"data_batch_{i}" for i in range(1, 6)]}
    files = names["train"] + names["test"] if split == "all" else names[split]
    classes = CIFAR10_CLASSES
    meta = root / "batches.meta"
    if meta.is_file():
        classes = _label_names(meta, classes)
    imgs, labs = [], []
    for name in files:
        p = root / name
        if not p.is_file():
            raise ValueError(f"{root} lacks the CIFAR-10 batch file {name!r} needed for split {split!r}")
        x, y = _batch_arrays(p, _read_batch(p))
        if y.size and (y.min() < 0 or y.max() >= len(classes)):
            bad = int(y.min() if y.min() < 0 else y.max())
            raise ValueError(f"{p}: label {bad} is not a class (0..{len(classes) - 1}"
                             + (f", {meta.name}'s label_names)" if meta.is_file() else ")"))
        imgs.append(x)
        labs.append(y)
    return ImageSet(np.concatenate(imgs), np.concatenate(labs), classes, str(root))


def _class_order(names) -> tuple:
    names = sorted(set(names))
    if set(names) <= set(CIFAR10_CLASSES):
        return tuple(c for c in CIFAR10_CLASSES if c in names)
    return tuple(names)


def _pick_split(entries: list[tuple[tuple[str, ...], object]], split: str, where: str):
    """entries: (path parts, handle). Keep [split/]class/file; strip a leading wrapper folder."""
    # a Mac's zip adds __MACOSX/ and ._name resource forks beside each picture: not images
    files = [(parts, h) for parts, h in entries if parts[-1].lower().endswith(_IMAGE_SUFFIXES)
             and not any(part.startswith(".") or part == "__MACOSX" for part in parts)]
    if not files:
        raise ValueError(f"{where} holds no images ({'/'.join(_IMAGE_SUFFIXES)})")
    # drop common leading folders until the level where split or class folders start
    while len({p[0] for p, _ in files}) == 1 and len(files[0][0]) > 2 and files[0][0][0] not in ("train", "test"):
        files = [(p[1:], h) for p, h in files]
    has_split = any(p[0] in ("train", "test") and len(p) >= 3 for p, _ in files)
    if has_split:
        wanted = ("train", "test") if split == "all" else (split,)
        picked = [(p[1:], h) for p, h in files if p[0] in wanted and len(p) >= 3]
        if not picked:
            raise ValueError(f"{where} has no {split!r} folder")
    else:
        picked = [(p, h) for p, h in files if len(p) >= 2]
        if split != "test" and split != "all":
            raise ValueError(f"{where} has no train/test folders; its class folders are read as split 'test' "
                             "(pass split='test' or 'all')")
    picked.sort(key=lambda e: e[0])
    classes = _class_order(p[-2] for p, _ in picked)
    return picked, classes


#: Pillow's modes of a 16-bit grayscale PNG ("I;16" in this Pillow, "I" in older ones)
_GRAY16_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _decode(data: bytes, name: str):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            gray16 = im.mode in _GRAY16_MODES
            pixels = np.asarray(im) if gray16 else np.asarray(im.convert("RGB"), dtype=np.uint8)
    except UnidentifiedImageError:  # Pillow's text named only an io.BytesIO object at an address
        raise ValueError(f"{name}: not a readable image (not a picture format Pillow knows)") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"{name}: not a readable image ({exc})") from None
    return _gray16_rgb(pixels, name) if gray16 else pixels


def _gray16_rgb(gray: np.ndarray, name: str) -> np.ndarray:
    """A 16-bit grayscale picture as 8-bit RGB, its high byte, as Pillow reads a 16-bit RGB PNG:
    `convert("RGB")` clipped every value above 255 to 255, so a 16-bit picture came out nearly
    all white, in silence."""
    if gray.size and (gray.min() < 0 or gray.max() > 0xFFFF):  # mode "I" of another source: no 16-bit scale
        raise ValueError(f"{name}: a 32-bit integer picture (values {int(gray.min())} to {int(gray.max())}); "
                         "save it as an 8- or 16-bit picture")
    return np.repeat((gray.astype(np.uint32) >> 8).astype(np.uint8)[..., None], 3, axis=2)


def _stack(arrays, where: str, names=None) -> np.ndarray:
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        first = arrays[0].shape
        odd = next(i for i, a in enumerate(arrays) if a.shape != first)
        which = f" (e.g. {names[odd]}: {arrays[odd].shape} against {names[0]}: {first})" if names else ""
        raise ValueError(f"{where}: images have different sizes {sorted(shapes)[:3]}{which}; resize them first")
    return np.stack(arrays)


def _starts_like_zip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def load_cifar10(path, split: str = "test") -> ImageSet:
    """CIFAR-10 (or any same-sized class-folder image set) as (n, 32, 32, 3) uint8.

    path: a folder of python batch files, a folder of `[train|test/]class/*.jpg` images, or a zip
    of such folders. Image folders without train/test level are read as the test split.
    """
    _check_split(split)
    p = Path(path)
    if p.is_dir() and ((p / "test_batch").is_file() or (p / "data_batch_1").is_file()):
        return _cifar_batches(p, split)
    if p.is_dir():
        entries = [(f.relative_to(p).parts, f) for f in p.rglob("*") if f.is_file()]
        picked, classes = _pick_split(entries, split, str(p))
        names = [str(f) for _, f in picked]
        imgs = [_decode(f.read_bytes(), str(f)) for _, f in picked]
    elif p.is_file() and zipfile.is_zipfile(p):
        # a damaged central directory fails at ZipFile() (is_zipfile reads only its end record); an
        # encrypted member or one packed by a method zipfile lacks fails at read: all tracebacks
        try:
            with zipfile.ZipFile(p) as zf:
                entries = [(tuple(n.split("/")), n) for n in zf.namelist() if not n.endswith("/")]
                picked, classes = _pick_split(entries, split, str(p))
                names = [f"{p}:{n}" for _, n in picked]
                imgs = [_decode(zf.read(n), f"{p}:{n}") for _, n in picked]
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise ValueError(f"{p}: a damaged zip ({exc})") from None
        except (RuntimeError, NotImplementedError) as exc:  # encrypted; an unsupported compression method
            raise ValueError(f"{p}: a zip this tool cannot read ({exc}); unpack it and pass the folder") from None
    elif p.is_file() and _starts_like_zip(p):  # a download cut short: its directory at the end is missing
        raise ValueError(f"{p}: a zip file that cannot be read (truncated or corrupt: no central directory)")
    else:
        raise ValueError(f"{p} is neither a folder (batch files or class folders) nor a zip of class folders")
    index = {c: i for i, c in enumerate(classes)}
    labels = np.array([index[parts[-2]] for parts, _ in picked], dtype=np.int64)
    return ImageSet(_stack(imgs, str(p), names), labels, classes, str(p))


def load_digits_images() -> ImageSet:
    """scikit-learn's 1,797 8x8 digits (UCI optdigits, pixel values 0..16)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return ImageSet(d.images.astype(np.float32), d.target.astype(np.int64), tuple(str(i) for i in range(10)),
                    "sklearn.datasets.load_digits")


LOADERS = {"mnist": load_mnist, "cifar10": load_cifar10, "digits": lambda path=None, split="all": load_digits_images()}
_PIXEL_MAX = {"mnist": 255.0, "cifar10": 255.0, "digits": 16.0}


# ----------------------------------------------------------------------------- protocol
@dataclass
class OneClassSet:
    X: np.ndarray  # (n, d) float32 raw pixels in [0, 1]
    y: np.ndarray  # (n,) 1 = anomaly
    source_index: np.ndarray  # row of each sample in the loaded split
    info: dict = field(default_factory=dict)


def _class_index(normal_class, classes) -> int:
    if isinstance(normal_class, str) and normal_class in classes:
        return classes.index(normal_class)
    try:
        k = int(normal_class)
    except (TypeError, ValueError):
        raise ValueError(f"normal_class {normal_class!r} is not one of {classes}") from None
    if not 0 <= k < len(classes):
        raise ValueError(f"normal_class {normal_class!r} is out of range for {len(classes)} classes")
    return k


def one_class_protocol(images: ImageSet, normal_class, anomaly_ratio: float, random_state: int,
                       pixel_max: float = 255.0, n_normal: int | None = None) -> OneClassSet:
    """All rows of `normal_class` (or a seeded `n_normal` of them) plus anomalies from every other
    class in equal numbers (the remainder spread over randomly chosen classes), so that anomalies
    are `anomaly_ratio` of the result; shuffled with the same seed.
    """
    if not 0.0 < float(anomaly_ratio) < 1.0:
        raise ValueError(f"anomaly_ratio must be in (0, 1), got {anomaly_ratio!r}")
    rng = np.random.default_rng(random_state)
    k = _class_index(normal_class, list(images.classes))
    normal_idx = np.flatnonzero(images.labels == k)
    if normal_idx.size == 0:
        raise ValueError(f"the loaded split has no images of class {images.classes[k]!r}")
    if n_normal is not None:
        if n_normal > normal_idx.size:
            raise ValueError(f"n_normal={n_normal} but only {normal_idx.size} images of class {images.classes[k]!r}")
        normal_idx = np.sort(rng.choice(normal_idx, n_normal, replace=False))
    others = [c for c in np.unique(images.labels) if c != k]
    if not others:
        raise ValueError("the loaded split has no class other than the normal one, so no anomalies")
    n_anom = int(round(normal_idx.size * anomaly_ratio / (1.0 - anomaly_ratio)))
    if n_anom == 0:  # AUROC and AP are undefined without one anomaly (NaN tables, exit 0)
        raise ValueError(f"anomaly_ratio {anomaly_ratio!r} of {normal_idx.size} normal images rounds to no anomaly; "
                         "raise it (or use more normal images)")
    per = np.full(len(others), n_anom // len(others))
    per[rng.choice(len(others), n_anom % len(others), replace=False)] += 1
    anom_idx = []
    for c, m in zip(others, per):
        pool = np.flatnonzero(images.labels == c)
        if m > pool.size:
            raise ValueError(f"class {images.classes[c]!r} has {pool.size} images, {m} anomalies needed")
        anom_idx.append(rng.choice(pool, m, replace=False))
    anom_idx = np.concatenate(anom_idx).astype(np.int64)
    idx = np.concatenate([normal_idx, anom_idx])
    y = np.concatenate([np.zeros(normal_idx.size, np.int64), np.ones(anom_idx.size, np.int64)])
    perm = rng.permutation(idx.size)
    idx, y = idx[perm], y[perm]
    X = images.images[idx].reshape(idx.size, -1).astype(np.float32) / np.float32(pixel_max)
    info = dict(normal_class=images.classes[k], n_normal=int(normal_idx.size), n_anomalies=int(anom_idx.size),
                anomaly_ratio=float(anom_idx.size / idx.size),
                anomalies_per_class={images.classes[c]: int(m) for c, m in zip(others, per)},
                source=images.source)
    return OneClassSet(X, y, idx, info)


def load_protocol(dataset: str, path=None, split: str = "test", normal_class=None, anomaly_ratio: float = 0.05,
                  random_state: int = 0, n_normal: int | None = None, images: ImageSet | None = None) -> OneClassSet:
    """Load `dataset` ("mnist", "cifar10", "digits") and build its one-class set in one call.

    Pass `images` to reuse an already loaded split across seeds.
    """
    if dataset not in LOADERS:
        raise ValueError(f"dataset must be one of {sorted(LOADERS)}, got {dataset!r}")
    if images is None:
        if dataset != "digits" and path is None:
            raise ValueError(f"dataset {dataset!r} needs a path")
        images = LOADERS[dataset](path, split=split)
    out = one_class_protocol(images, normal_class, anomaly_ratio, random_state, _PIXEL_MAX[dataset], n_normal)
    out.info.update(dataset=dataset, split="all" if dataset == "digits" else split)  # digits has no split
    return out
