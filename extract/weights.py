"""Loading model weights from local files, safely, and checking them against a module.

Weight files are pickles, and unpickling runs arbitrary code, so the default is
`torch.load(weights_only=True)`, which only rebuilds tensors and plain containers. Full
unpickling (needed for a few old files that store whole modules) must be asked for
explicitly with `allow_pickle=True`. Every loaded file is identified by its sha256, which the
backbones write into the feature store so that a feature file names the exact weights.

`resolve_weights` turns what the user gave (`--weights`) into a file: an existing path is used
as it is; a published name (`kinetics400`) is the network's published file in the torch hub
cache, fetched once when missing (nothing else in videoad touches the network) and checked
against the hash that is known for it. torchvision puts the first 8 hex digits of each file's
sha256 in its name, and those are checked; pytorchvideo publishes no checksum, so its files are
trusted on first use: the sha256 is recorded beside the file in the cache (and in every feature
file) once the file reads as torch weights (a cut-short download is deleted, not trusted), a later
difference is refused, and `weights_sha256=` pins the full digest instead.
"""
from __future__ import annotations

import errno
import hashlib
import http.client
import logging
import os
import pickle
import re
import urllib.error
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .lazy import lazy_import

torch = lazy_import("torch")  # imported on first use: decode workers never need it

__all__ = ["PublishedWeights", "WeightsError", "cache_dir", "check_name_hash", "check_state_dict",
           "damaged_record", "download_file", "load_into", "load_state_dict", "looks_like_path", "resolve_weights",
           "sha256_file", "refused_object"]

log = logging.getLogger(__name__)

#: suffixes that make a `--weights` value a path even when it has no folder in it
WEIGHT_SUFFIXES = (".pth", ".pt", ".pyth", ".pickle", ".pkl", ".ckpt", ".bin")

# Container keys under which checkpoints commonly nest the state dict
# (torchvision: none; pytorchvideo/pyslowfast: "model_state"; many training scripts: "state_dict").
_NESTED_KEYS = ("state_dict", "model_state", "model_state_dict", "model")


class WeightsError(ValueError):
    """A weights file that cannot be read or does not fit the model; the message says which."""


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks (weight files are hundreds of MB)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def load_state_dict(path: str | Path, *, allow_pickle: bool = False) -> dict[str, torch.Tensor]:
    """Read a state dict from `path` onto the CPU.

    Accepts a plain state dict or a checkpoint that nests one under a usual key, and strips a
    `module.` prefix left by DataParallel. `allow_pickle=True` permits full unpickling: only
    for files from a source you trust.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weights file not found")
    if path.stat().st_size == 0:  # torch's EOFError says nothing: "not a readable torch file ()"
        raise WeightsError(f"{path}: the file is empty (0 bytes), not torch weights (a failed download or copy?)")
    damaged = damaged_record(path)
    if damaged:  # torch.load reads a zip's records without their checksums: altered bytes loaded as weights
        raise WeightsError(f"{path}: damaged: its record {damaged} fails its checksum (a copy or download cut "
                           "short or altered on the way); fetch or copy the file again")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=not allow_pickle)
    except pickle.UnpicklingError as exc:
        if allow_pickle or not re.search(r"GLOBAL [\w.]+", str(exc)):  # no object refused: the bytes are bad
            raise WeightsError(f"{path}: not a readable torch file (corrupt, cut short, or not a torch "
                               f"file: {_unpickler_reason(exc)})") from None
        raise WeightsError(
            f"{path}: refused by the safe loader: the file holds {refused_object(exc)}, not only "
            "tensors, and unpickling it could run code from the file. Ask its source for a plain "
            "state dict (tensors only); only a copy verified as genuine (its sha256 against the "
            "publisher's) may be loaded in full (allow_pickle=True; CLI: --backbone-opt "
            "allow_pickle=true)"
        ) from None
    except (RuntimeError, EOFError, OSError) as exc:  # EOFError says nothing: a file of a few bytes was "()"
        reason = str(exc) or f"{type(exc).__name__}: it ends early, cut short"
        raise WeightsError(f"{path}: not a readable torch file ({reason})") from exc
    except Exception as exc:  # noqa: BLE001 - a cut-short legacy file fails deep in the unpickler (struct, index, text)
        raise WeightsError(f"{path}: not a readable torch file (corrupt or cut short: "
                           f"{type(exc).__name__}: {exc})") from None
    return _as_state_dict(obj, path)


def damaged_record(path: str | Path) -> str | None:
    """The first record of a zip file (as torch.save writes) whose CRC-32 does not match its bytes,
    else None (None too for a file that is no zip, such as a legacy torch file: torch.load judges
    those). torch.load never checks the CRCs: a flipped byte in a tensor loaded as other weights."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None
    except Exception as exc:  # noqa: BLE001 - a record that cannot be inflated is as damaged
        return f"({type(exc).__name__}: {exc})"


def cut_short_zip(path: str | Path) -> bool:
    """Whether `path` starts as a zip (as torch.save writes) but lacks the directory a zip ends with:
    a save or copy cut short, which torch.load reported as "[Errno 22] Invalid argument"."""
    import zipfile

    with open(path, "rb") as fh:
        return fh.read(4) == b"PK\x03\x04" and not zipfile.is_zipfile(path)


def _unpickler_reason(exc: Exception) -> str:
    """What torch's safe unpickler stumbled on (`Unsupported operand 60`: an HTML page), without the
    rest of its text, which advises loading the file unsafely."""
    match = re.search(r"WeightsUnpickler error:\s*(.+?)\s*(?:\n\n|$)", str(exc), re.S)
    return (match.group(1) if match else str(exc).splitlines()[-1] if str(exc) else type(exc).__name__)[:200]


def refused_object(exc: Exception) -> str:
    """The Python object the safe loader refused, named from torch's message.

    Only the name is taken: the rest of torch's text suggests `weights_only=False` "will likely
    succeed", which is advice to run an untrusted file's code.
    """
    match = re.search(r"GLOBAL ([\w.]+)", str(exc))
    return f"the Python object {match.group(1)}" if match else "Python objects"


def _as_state_dict(obj: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, torch.nn.Module):  # only reachable with allow_pickle
        obj = obj.state_dict()
    if isinstance(obj, Mapping):
        for key in _NESTED_KEYS:
            inner = obj.get(key)
            if isinstance(inner, Mapping) and inner and all(
                isinstance(v, torch.Tensor) for v in inner.values()
            ):
                obj = inner
                break
    if not isinstance(obj, Mapping) or not obj:
        raise WeightsError(f"{path}: expected a state dict (name -> tensor), got {type(obj).__name__}")
    bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise WeightsError(f"{path}: entries that are not tensors: {', '.join(map(str, bad[:5]))}")
    out = {}
    for key, value in obj.items():
        key = str(key)
        for wrapper in _WRAPPERS:  # each once, in the order they wrap: DataParallel around a compiled model
            key = key[len(wrapper):] if key.startswith(wrapper) else key
        out[key] = value
    return out


#: key prefixes a wrapper adds when its model is saved whole: DataParallel / DistributedDataParallel's
#: `module.`, torch.compile's `_orig_mod.` (a compiled model's file was refused: "missing keys ...")
_WRAPPERS = ("module.", "_orig_mod.")


def check_state_dict(
    model: torch.nn.Module,
    state: Mapping[str, torch.Tensor],
    *,
    source: str = "state dict",
    allow_missing: Iterable[str] = (),
) -> None:
    """Raise `WeightsError` naming every missing, unexpected or wrongly shaped key.

    `allow_missing` lists key prefixes that may be absent (e.g. classifier layers a feature
    extractor never runs); everything else must match exactly.
    """
    expected = model.state_dict()
    prefixes = tuple(allow_missing)
    missing = [k for k in expected if k not in state and not (prefixes and k.startswith(prefixes))
               and not k.endswith(_FILLED_IN)]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k}: expected {tuple(expected[k].shape)}, got {tuple(v.shape)}"
        for k, v in state.items()
        if k in expected and tuple(v.shape) != tuple(expected[k].shape)
    ]
    problems = []
    if missing:
        problems.append("missing keys: " + _first(missing, ", "))
    if unexpected:
        problems.append("unexpected keys: " + _first(unexpected, ", "))
    if shapes:
        problems.append("wrong shapes: " + _first(shapes, "; "))
    if problems:
        raise WeightsError(f"{source} does not fit {type(model).__name__}{_mismatch_hint(expected, state)}: "
                           + " | ".join(problems))
    for key, value in state.items():  # a NaN gave a store of NaN features, "1 done, 0 failed"
        kind = expected[key].dtype if key in expected else value.dtype
        if value.layout != torch.strided or value.is_meta:  # load_state_dict's RuntimeError, a traceback
            raise WeightsError(f"{source}: {key} is a {'meta' if value.is_meta else 'sparse'} tensor, which holds "
                               "no weights a network can run; save the dense tensors")
        if value.is_complex() or (kind.is_floating_point and not value.is_floating_point()):
            raise WeightsError(f"{source}: {key} holds {value.dtype} where the network takes {kind} (a converted "
                               "or damaged file)")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise WeightsError(f"{source}: {key} holds {int((~torch.isfinite(value)).sum())} value(s) that are not "
                               "finite numbers (NaN or inf): a damaged or diverged file")


#: a key an older file may lack that torch fills in itself: batch norm's `num_batches_tracked` (torch
#: 0.4.1 added it; files saved before, such as early Kinetics ports, load into torch's own modules with
#: it set to 0, and it counts training steps only, unused in inference), refused here as "missing"
_FILLED_IN = ".num_batches_tracked"


#: names a mismatch lists of each kind: a file for another network listed all its keys and all the
#: network's, an error of 20,000 characters (s3d's file given to r3d_18) that hid what it said
_LISTED = 10


def _first(items: Sequence[str], sep: str) -> str:
    more = len(items) - _LISTED
    return sep.join(items[:_LISTED]) + (f"{sep}... and {more} more ({len(items)} in all)" if more > 0 else "")


def _mismatch_hint(expected: Mapping[str, object], state: Mapping[str, object]) -> str:
    """What a mismatch of every key says: a prefix the file's keys carry (a wrapper module, such as a
    training framework's `model.`), or a file for another network."""
    if any(k in expected for k in state):
        return ""
    heads = {k.split(".", 1)[0] for k in state}
    if len(heads) == 1 and all("." in k for k in state):
        head = f"{next(iter(heads))}."
        if any(k[len(head):] in expected for k in state):
            return (f" (every key of the file starts with {head!r}, which the network's do not: saved from a "
                    "module wrapped around it; save the inner module's state_dict)")
    return f" (none of the file's {len(state)} keys is one of the network's: a file for another network?)"


def load_into(
    model: torch.nn.Module,
    state: Mapping[str, torch.Tensor],
    *,
    source: str = "state dict",
    allow_missing: Iterable[str] = (),
) -> None:
    """Check `state` against `model` (clear message on mismatch), then copy it in."""
    allow_missing = tuple(allow_missing)
    check_state_dict(model, state, source=source, allow_missing=allow_missing)
    model.load_state_dict(dict(state), strict=not allow_missing)


# -- published weights by name -------------------------------------------------------------------
@dataclass(frozen=True)
class PublishedWeights:
    """A network's published weights file and what is known of its hash.

    name: the canonical name (torchvision's enum member, e.g. "KINETICS400_V1"); aliases:
    other accepted names (compared case-insensitively). sha256: the full digest where it is
    established, "" where nobody publishes one.
    """

    name: str
    url: str
    sha256: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[1]

    @property
    def hash_prefix(self) -> str:
        """The sha256 prefix torch hub's naming puts in the file name (`<name>-<hex>.pth`), or ""."""
        match = _NAME_HASH.fullmatch(self.file_name)
        return match.group(1) if match else ""

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


_NAME_HASH = re.compile(r".+-([0-9a-f]{8,})\.pth")


def cache_dir() -> Path:
    """Where published weights live: torch hub's checkpoint folder ($TORCH_HOME/hub/checkpoints,
    by default ~/.cache/torch/hub/checkpoints), shared with torchvision and pytorchvideo."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def download_file(url: str, dst: Path, hash_prefix: str = "") -> None:
    """Fetch `url` to `dst` (torch hub: a temporary file renamed when complete, the sha256
    prefix checked while downloading). The only network access in videoad; tests replace it."""
    torch.hub.download_url_to_file(url, os.fspath(dst), hash_prefix=hash_prefix or None, progress=True)


def check_name_hash(path: Path, sha256: str, published: Iterable[PublishedWeights] = ()) -> None:
    """A file that has the name of a `published` file named the torch hub way
    (`<name>-<first hex digits of sha256>.pth`) must match its name. Only those names: a file of
    the user's own named `r3d_18_ucf-20240315.pth` or `ckpt-00012000.pth` has hex digits where
    torch hub puts the hash, and was refused as a corrupt download."""
    for entry in published:
        if path.name == entry.file_name and entry.hash_prefix and not sha256.startswith(entry.hash_prefix):
            raise WeightsError(f"{path}: sha256 {sha256[:12]}... does not match the {entry.hash_prefix} in its "
                               f"name, the name of {entry.url} (truncated or corrupt download?); delete it and "
                               "fetch it again")


def looks_like_path(value: str) -> bool:
    """A `--weights` value meant as a file (a folder in it, or a weights suffix), not a name."""
    return ("/" in value or os.sep in value or value.startswith("~")
            or value.lower().endswith(WEIGHT_SUFFIXES))


def weights_value_problem(value: str) -> str | None:
    """Why a `--weights` value cannot be used, said before any extraction starts (None: it can).

    A folder is never a weights file; a value that looks like a path must be an existing file;
    a bare name goes on to the backbone, which knows its published names."""
    path = Path(str(value)).expanduser()
    if path.is_dir():
        return f"{value!r} is a folder; give the weights file in it"
    if looks_like_path(str(value)) and not path.is_file():
        return (f"file {value!r} does not exist (published weights are named without a folder or suffix, "
                "e.g. kinetics400)")
    return None


def resolve_weights(value: str | os.PathLike, what: str, published: Sequence[PublishedWeights] = (),
                    *, download: bool = True, sha256: str | None = None,
                    accept: Callable[[Path, str], None] | None = None) -> tuple[Path, str]:
    """The weights file that `value` names, and its sha256.

    An existing file is that file (a `sha256` pin is checked). A published name of `what` (the
    backbone) is its file in `cache_dir()`, downloaded once if missing and `download` is on, and
    checked: against `sha256` or the table's full digest when there is one, else against the
    prefix in torchvision's file name, else trusted on first use (see the module docstring).
    `accept(path, sha256)`: loads the file into its network, raising a `WeightsError` where it does not
    fit; a file is recorded as trusted only once it did (another network's file, refused by the
    strict load, was recorded first and the right file refused after).
    Anything else raises a `WeightsError` that says what is accepted.
    """
    text = _weights_text(value, what)
    path = Path(text).expanduser()
    pin = _normalise_sha(sha256) if sha256 else ""
    if path.is_file():
        digest = sha256_file(path)
        if pin and digest != pin:
            raise WeightsError(f"{path}: sha256 {digest} differs from the pinned weights_sha256 {pin}")
        return path, digest
    if path.exists():
        raise WeightsError(f"{path}: not a file; --weights takes a weights file or a published name")
    wanted = text.strip().lower()
    entry = next((e for e in published if wanted in (n.lower() for n in e.names())), None)
    if entry is None:
        if looks_like_path(text):
            raise WeightsError(f"{path}: weights file not found")
        names = ", ".join(n for e in published for n in e.names())
        offer = (f"a published name ({names})" if names else
                 f"a file ({what} has no published weights that videoad can fetch)")
        raise WeightsError(f"{what}: --weights {text!r} is neither an existing file nor a published "
                           f"name; give {offer} or a path to a weights file")
    target = cache_dir() / entry.file_name
    fetched = not target.is_file()
    if fetched:
        _fetch(entry, target, what, download, pin or entry.sha256)
    digest = sha256_file(target)
    _check_published(entry, target, digest, pin, fetched, accept)
    return target, digest


def _weights_text(value: object, what: str) -> str:
    """`weights` as text: a path or a name, or torchvision's own weights enum (`R3D_18_Weights.DEFAULT`,
    what a torchvision user passes; it raised a bare TypeError from os.fspath) by its name."""
    import enum

    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    try:
        return os.fspath(value)
    except TypeError:
        held = " (a state dict in memory: torch.save it and give the file)" if isinstance(value, Mapping) else ""
        raise WeightsError(f"{what}: weights must be a file path or a published name, got "
                           f"{type(value).__name__}{held}") from None


def _normalise_sha(value: str) -> str:
    text = str(value).strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise WeightsError(f"weights_sha256 must be 64 hex digits, got {value!r}")
    return text


def _fetch(entry: PublishedWeights, target: Path, what: str, download: bool, full_sha: str) -> None:
    where = (f"Put {entry.url} , named {entry.file_name}, into {target.parent}/ (torch hub's "
             "cache: $TORCH_HOME/hub/checkpoints, by default ~/.cache/torch/hub/checkpoints), "
             f"or pass --weights /path/to/{entry.file_name}")
    if not download:
        raise WeightsError(f"{what} weights {entry.name}: {target} is missing and downloading is "
                           f"off (download=false). {where}.")
    log.warning("%s: downloading %s into %s (once)", what, entry.url, target.parent)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        download_file(entry.url, target, full_sha or entry.hash_prefix)
    except OSError as exc:
        if _cache_unwritable(exc):
            raise WeightsError(f"{what} weights {entry.name}: cannot write into the weights cache "
                               f"{target.parent} ({exc}). Set TORCH_HOME to a folder you can write (the "
                               f"file goes into $TORCH_HOME/hub/checkpoints/), or fetch {entry.url} yourself "
                               f"and pass --weights /path/to/{entry.file_name}.") from exc
        raise WeightsError(f"{what} weights {entry.name}: cannot download {entry.url} ({exc}). "
                           f"On a machine without internet, fetch the file elsewhere. {where}.") from exc
    except http.client.HTTPException as exc:  # a chunked response cut short (IncompleteRead), a garbled reply
        raise WeightsError(f"{what} weights {entry.name}: cannot download {entry.url} ({exc}). "
                           f"On a machine without internet, fetch the file elsewhere. {where}.") from exc
    except RuntimeError as exc:  # torch hub's "invalid hash value": nothing was kept
        raise WeightsError(f"{what} weights {entry.name}: the download of {entry.url} failed its "
                           f"hash check ({exc}); nothing was kept, try again") from exc


#: errors of the cache folder itself, not of the network: no right to write there, a read-only or full
#: disk, a file where a folder should be (the advice "put the file there" cannot be followed)
_LOCAL_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOTDIR,
                 errno.EEXIST, errno.EISDIR)


def _cache_unwritable(exc: OSError) -> bool:
    """Whether a failed fetch failed on the cache folder (URLError, a reset connection: the network)."""
    return not isinstance(exc, urllib.error.URLError) and exc.errno in _LOCAL_ERRNOS


def _recorded(record: Path) -> str:
    """The sha256 a trust-on-first-use record holds, "" where there is none: no file, or one with no
    digest in it (an empty record, as a first use killed while writing it left one, refused the good
    file it stood for as "differs from  recorded")."""
    try:
        words = record.read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        return ""
    return words[0] if words and re.fullmatch(r"[0-9a-f]{64}", words[0]) else ""


def _check_published(entry: PublishedWeights, path: Path, digest: str, pin: str, fetched: bool = False,
                     accept: Callable[[Path, str], None] | None = None) -> None:
    expected = pin or entry.sha256
    refuse = "; delete it and run again to fetch it anew, or put the right file there"
    if expected:
        if digest != expected:
            raise WeightsError(f"{path}: sha256 {digest} is not the expected {expected} of "
                               f"{entry.url}{refuse}")
        return
    if entry.hash_prefix:
        if not digest.startswith(entry.hash_prefix):
            raise WeightsError(f"{path}: sha256 {digest[:12]}... does not match the "
                               f"{entry.hash_prefix} in its published name (corrupt, truncated or "
                               f"another file){refuse}")
        return
    record = path.with_name(path.name + ".sha256")  # trust on first use
    first = _recorded(record)
    if first:
        if digest != first:
            raise WeightsError(f"{path}: sha256 {digest} differs from {first} recorded in {record} "
                               f"when it was first used{refuse} (and delete {record.name})")
        return
    try:  # a file that does not read (a cut-short download: no hash or length checked it) is not trusted
        load_state_dict(path)
    except WeightsError as exc:
        if "refused by the safe loader" not in str(exc):  # objects in it are for the loader to refuse later
            if fetched:
                path.unlink(missing_ok=True)
            raise WeightsError(f"{path}: {'the download' if fetched else 'the file'} does not read as torch "
                               f"weights, so its sha256 is not recorded as trusted"
                               + ("; it was deleted: run again to fetch it anew" if fetched else "")
                               + f" ({exc})") from None
    if accept is not None:
        accept(path, digest)  # it fits its network: only now is it trusted
    from .store import write_atomic

    try:  # whole or not at all: another process's first use (a shard, a Ray actor) reads it at once
        write_atomic(record, f"{digest}  {path.name}\n".encode("utf-8"))
    except OSError:
        pass  # a read-only cache: the feature files still record the hash
    log.warning("%s: no published checksum exists for %s; its sha256 %s is recorded in %s and in "
                "the features (pin it with --backbone-opt weights_sha256=...)",
                path.name, entry.url, digest, record)
