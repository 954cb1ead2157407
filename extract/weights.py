"""Loading model weights from local files, safely, and checking them against a module.

Weight files are pickles, and unpickling runs arbitrary code, so the default is
`torch.load(weights_only=True)`, which only rebuilds tensors and plain containers. Full
unpickling (needed for a few old files that store whole modules) must be asked for
explicitly with `allow_pickle=True`. Every loaded file is identified by its sha256, which the
backbones write into the feature store so that a feature file names the exact weights.
"""
from __future__ import annotations

import hashlib
import pickle
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch

__all__ = ["WeightsError", "sha256_file", "load_state_dict", "check_state_dict", "load_into",
           "refused_object"]

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
    try:
        obj = torch.load(path, map_location="cpu", weights_only=not allow_pickle)
    except pickle.UnpicklingError as exc:
        if allow_pickle:
            raise WeightsError(f"{path}: not a readable torch file ({exc})") from exc
        raise WeightsError(
            f"{path}: refused by the safe loader: the file holds {refused_object(exc)}, not only "
            "tensors, and unpickling it could run code from the file. Ask its source for a plain "
            "state dict (tensors only); only a copy verified as genuine (its sha256 against the "
            "publisher's) may be loaded in full (allow_pickle=True; CLI: --backbone-opt "
            "allow_pickle=true)"
        ) from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise WeightsError(f"{path}: not a readable torch file ({exc})") from exc
    return _as_state_dict(obj, path)


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
        out[key[len("module."):] if key.startswith("module.") else key] = value
    return out


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
    missing = [k for k in expected if k not in state and not (prefixes and k.startswith(prefixes))]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k}: expected {tuple(expected[k].shape)}, got {tuple(v.shape)}"
        for k, v in state.items()
        if k in expected and tuple(v.shape) != tuple(expected[k].shape)
    ]
    problems = []
    if missing:
        problems.append("missing keys: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    if shapes:
        problems.append("wrong shapes: " + "; ".join(shapes))
    if problems:
        raise WeightsError(f"{source} does not fit {type(model).__name__}: " + " | ".join(problems))


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
